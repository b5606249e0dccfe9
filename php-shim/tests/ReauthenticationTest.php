<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\CancelPage;
use WHMCS\Module\Addon\Puente\ClientActions;
use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\FileState;
use WHMCS\Module\Addon\Puente\Reauthentication;
use WHMCS\Module\Addon\Puente\Shim;

/**
 * The password typed again, checked against the logged-in user's stored
 * hash without touching the client's session (no ValidateLogin), in every
 * form WHMCS may hand it over or have hashed it in; ValidateLogin only for
 * a hash PHP cannot check. User 1907 owns client 1842.
 *
 * @group capsule
 */
final class ReauthenticationTest extends CapsuleTestCase
{
    /** Every character HTML escapes. */
    private const PASSWORD = 'Pa&ss<wo>rd"\'1';
    private const EMAIL = 'amina@okafordesign.example';

    protected function setUp(): void
    {
        parent::setUp();
        $GLOBALS['whmcs_local_api_calls'] = [];
        $GLOBALS['whmcs_local_api'] = null;
        Capsule::table('tblusers')->where('id', 1907)->update(['email' => self::EMAIL,
            'password' => password_hash(self::PASSWORD, PASSWORD_BCRYPT)]);
    }

    private static function check(string $email, string $password, int $userId = 1907, int $clientId = 1842): bool
    {
        return (new Reauthentication())->check($email, $password, $userId, $clientId);
    }

    public function test_the_password_is_checked_against_the_stored_hash_raw_or_html_escaped(): void
    {
        $this->assertTrue(self::check(self::EMAIL, self::PASSWORD), 'posted as typed');
        $this->assertTrue(self::check(self::EMAIL, htmlspecialchars(self::PASSWORD, ENT_QUOTES)), 'posted HTML-escaped');
        $this->assertTrue(self::check('Amina@OkaforDesign.example', self::PASSWORD), 'the email in any case');
        $this->assertSame([], $GLOBALS['whmcs_local_api_calls'], 'ValidateLogin never touched the session');
    }

    public function test_a_password_whmcs_hashed_escaped_is_found_from_the_typed_one(): void
    {
        Capsule::table('tblusers')->where('id', 1907)->update([
            'password' => password_hash(htmlspecialchars(self::PASSWORD, ENT_QUOTES), PASSWORD_BCRYPT)]);

        $this->assertTrue(self::check(self::EMAIL, self::PASSWORD));
    }

    public function test_a_wrong_password_another_users_email_or_a_non_owner_fail(): void
    {
        $this->assertFalse(self::check(self::EMAIL, 'Pa&ss<wo>rd"\'2'));
        $this->assertFalse(self::check('someone@else.example', self::PASSWORD));
        $this->assertFalse(self::check(self::EMAIL, self::PASSWORD, 1907, 3001), 'a user, not the owner, of that account');
        $this->assertFalse(self::check(self::EMAIL, self::PASSWORD, 1908), 'not the logged-in user');
        $this->assertSame([], $GLOBALS['whmcs_local_api_calls']);
    }

    public function test_a_hash_php_cannot_check_is_left_to_whmcs_validatelogin_in_each_form(): void
    {
        // WHMCS 4.2 to 6.2 stored md5(salt . password) . ':' . salt.
        Capsule::table('tblusers')->where('id', 1907)->update(['password' => md5('e93h2' . self::PASSWORD) . ':e93h2']);
        $GLOBALS['whmcs_local_api'] = static fn (string $command, array $values): array =>
            $command === 'ValidateLogin' && $values['password2'] === self::PASSWORD
                ? ['result' => 'success', 'userid' => 1907]
                : ['result' => 'error', 'message' => 'Email or Password Invalid'];

        $this->assertTrue(self::check(self::EMAIL, htmlspecialchars(self::PASSWORD, ENT_QUOTES)));
        $this->assertSame([['ValidateLogin', ['email' => self::EMAIL, 'password2' => htmlspecialchars(self::PASSWORD, ENT_QUOTES)]],
            ['ValidateLogin', ['email' => self::EMAIL, 'password2' => self::PASSWORD]]], $GLOBALS['whmcs_local_api_calls']);
    }

    public function test_the_forms_tried_are_the_typed_value_decoded_and_escaped_without_repeats(): void
    {
        $this->assertSame(['plain'], Reauthentication::forms('plain'));
        $this->assertSame(['a&amp;b', 'a&b', 'a&amp;amp;b'], Reauthentication::forms('a&amp;b'));
        $this->assertSame(['<x>', '&lt;x&gt;'], Reauthentication::forms('<x>'));
    }

    public function test_a_wrong_password_tried_in_every_form_counts_once_against_the_lockout(): void
    {
        $service = $this->startService();
        $service->answerClientAt('/v1/client/cancellations/preview', 200, '{"options":[],"open_invoices":[]}');
        $state = new FileState($this->dir);
        $request = ['m' => 'puente', 'action' => 'cancel', 'id' => '7731', 'token' => 't0k', 'type' => 'Immediate',
            'email' => self::EMAIL, 'password' => 'wrong&amp;"\'<>'];

        $page = CancelPage::page($request, true, new ClientActions(Shim::forwarder(), fn (): int => $this->now),
            Context::from(['uid' => 1842], false, false, '/index.php', 1907), 't0k', new Reauthentication(), $state,
            fn (): int => $this->now);

        $this->assertSame('wrong_credentials', $page['vars']['error_code']);
        $this->assertSame([$this->now], json_decode((string) $state->read('cancel_lock:1842:service7731'), true));
        $this->assertSame([], array_filter($service->requests(), static fn (array $r): bool => $r['path'] === '/v1/client/cancellations'));
    }
}
