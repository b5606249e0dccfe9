<?php

use WHMCS\Module\Addon\Puente\CancelPage;
use WHMCS\Module\Addon\Puente\ClientActions;
use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\FileState;
use WHMCS\Module\Addon\Puente\Lockout;
use WHMCS\Module\Addon\Puente\Reauthentication;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\Signer;

/**
 * The client's cancellation page: the preview of both types, and the
 * request, which needs the client's email and password again. The password
 * goes to WHMCS's ValidateLogin and nowhere else; a wrong one changes
 * nothing; five in fifteen minutes lock the form.
 */
final class CancelPageTest extends ShimTestCase
{
    private const TOKEN = 'feedc0de0123456789abcdef0123456789abcdef';
    private const PASSWORD = 'Sup3r-Secr3t-Passw0rd!';
    private const PREVIEW = '{"service":{"id":7731,"status":"Active","billing_cycle":"Annually","next_due_date":"2026-01-01"},'
        . '"options":[{"type":"Immediate","effective_date":"2025-12-01","backup_retention_end":"2035-12-01"},'
        . '{"type":"End of Billing Period","effective_date":"2027-01-01","backup_retention_end":"2037-01-01"}],'
        . '"open_invoices":[{"id":902,"total":"100.00","balance":"100.00","duedate":"2026-01-01","url":"https://panel.example/viewinvoice.php?id=902"}],'
        . '"outcome":"cancellation_requested"}';
    private const ACCEPTED = '{"outcome":"cancellation_requested","type":"End of Billing Period","effective_date":"2027-01-01",'
        . '"backup_retention_end":"2037-01-01","open_invoices":[],"status":"scheduled"}';

    private ?FakeService $service = null;

    protected function setUp(): void
    {
        parent::setUp();
        $GLOBALS['whmcs_local_api_calls'] = [];
        $GLOBALS['whmcs_activity_log'] = [];
        // WHMCS knows user 1907 by this email and password.
        $GLOBALS['whmcs_local_api'] = static fn (string $command, array $values): array =>
            $command === 'ValidateLogin' && $values === ['email' => 'amina@okafordesign.example', 'password2' => self::PASSWORD]
                ? ['result' => 'success', 'userid' => 1907, 'passwordhash' => 'x', 'twoFactorEnabled' => false]
                : ['result' => 'error', 'message' => 'Email or Password Invalid'];
    }

    protected function tearDown(): void
    {
        $this->service?->stop();
        $GLOBALS['whmcs_local_api'] = null;
        $GLOBALS['whmcs_check_token'] = 'boolean';
        parent::tearDown();
    }

    private function service(): FakeService
    {
        $this->service = FakeService::start();
        $this->service->answerClientAt('/v1/client/cancellations/preview', 200, self::PREVIEW);
        $this->service->answerClientAt('/v1/client/cancellations', 201, self::ACCEPTED);
        return $this->service;
    }

    /** A Reauthentication whose owner check answers `$owner` (no database here). */
    private static function reauthentication(bool $owner = true): Reauthentication
    {
        return new class ($owner) extends Reauthentication {
            public function __construct(private bool $owner)
            {
            }

            protected function owns(int $userId, int $clientId): bool
            {
                return $this->owner && $userId === 1907 && $clientId === 1842;
            }
        };
    }

    private static function client(): Context
    {
        return Context::from(['uid' => 1842], false, false, '/index.php', 1907);
    }

    /** @return array<string, mixed> the page's template variables */
    private function page(array $request, bool $isPost = false, ?Reauthentication $check = null, ?string $url = null): array
    {
        $forwarder = $this->forwarder($this->settings($url ?? $this->service->url));
        $page = CancelPage::page($request, $isPost, new ClientActions($forwarder, fn (): int => $this->now), self::client(),
            self::TOKEN, $check ?? self::reauthentication(), new FileState($this->dir), fn (): int => $this->now);
        $this->assertSame(['cancel', true], [$page['templatefile'], $page['requirelogin']]);
        return $page['vars'];
    }

    /** A post of the form as the template builds it. */
    private static function confirm(array $fields = []): array
    {
        return $fields + ['m' => 'puente', 'action' => 'cancel', 'id' => '7731', 'token' => self::TOKEN, 'type' => 'End of Billing Period',
            'email' => 'amina@okafordesign.example', 'password' => self::PASSWORD, 'reason' => 'Closing the studio'];
    }

    /** @return list<array<string, mixed>> the envelopes sent to a path */
    private function sent(string $path): array
    {
        return array_values(array_map(
            static fn (array $request): array => json_decode($request['body'], true) + ['headers' => $request['headers']],
            array_filter($this->service->requests(), static fn (array $request): bool => $request['path'] === $path),
        ));
    }

    private function assertPasswordNowhere(): void
    {
        $logs = json_encode([$GLOBALS['whmcs_module_log'], $GLOBALS['whmcs_activity_log'] ?? []]);
        $this->assertStringNotContainsString(self::PASSWORD, $logs);
        foreach ($this->service->requests() as $request) {
            $this->assertStringNotContainsString(self::PASSWORD, json_encode($request));
        }
    }

    public function test_the_page_shows_both_types_with_the_services_dates_and_the_open_invoices(): void
    {
        $this->service();

        $vars = $this->page(['m' => 'puente', 'action' => 'cancel', 'id' => '7731']);

        $this->assertSame(json_decode(self::PREVIEW, true), $vars['preview']);
        $this->assertNull($vars['error']);
        $this->assertSame(self::TOKEN, $vars['token']);
        [$preview] = $this->sent('/v1/client/cancellations/preview');
        $this->assertSame('client.cancellations.preview', $preview['type']);
        $this->assertSame(['service_id' => 7731, 'language' => 'spanish'], $preview['data']);
        $this->assertArrayNotHasKey('reauthenticated', $preview['context']);
    }

    public function test_the_right_email_and_password_send_the_request_signed_as_reauthenticated(): void
    {
        $this->service();

        $vars = $this->page(self::confirm(), true);

        $this->assertSame(json_decode(self::ACCEPTED, true), $vars['result']);
        [$request] = $this->sent('/v1/client/cancellations');
        $this->assertSame('client.cancellations', $request['type']);
        $this->assertTrue($request['context']['reauthenticated']);
        $this->assertSame(['kind' => 'client', 'id' => 1842, 'user_id' => 1907], $request['context']['actor']);
        $this->assertSame(['service_id' => 7731, 'reason' => 'Closing the studio', 'language' => 'spanish',
            'type' => 'End of Billing Period'], $request['data']);
        $this->assertTrue(Signer::verify([self::SECRET], $request['headers']['webhook-id'], $request['headers']['webhook-timestamp'],
            $request['headers']['webhook-signature'], $this->rawBody('/v1/client/cancellations'), $this->now));
        $this->assertSame([['ValidateLogin', ['email' => 'amina@okafordesign.example', 'password2' => self::PASSWORD]]],
            $GLOBALS['whmcs_local_api_calls'], 'the password went to WHMCS only');
        $this->assertPasswordNowhere();
    }

    private function rawBody(string $path): string
    {
        foreach ($this->service->requests() as $request) {
            if ($request['path'] === $path) {
                return $request['body'];
            }
        }
        return '';
    }

    public function test_a_wrong_password_changes_nothing_and_says_so(): void
    {
        $this->service();

        $vars = $this->page(self::confirm(['password' => 'wrong-password']), true);

        $this->assertSame('wrong_credentials', $vars['error_code']);
        $this->assertSame('El email o la clave no son correctos. No se dio de baja nada.', $vars['error']);
        $this->assertSame([], $this->sent('/v1/client/cancellations'), 'nothing was asked of the service');
        $this->assertSame('amina@okafordesign.example', $vars['email'], 'the email stays typed; the password does not');
        $this->assertNotNull($vars['preview'], 'the form is shown again');
        $this->assertStringNotContainsString('wrong-password', json_encode([$vars, $GLOBALS['whmcs_module_log']]));
        $this->assertPasswordNowhere();
    }

    public function test_the_password_must_be_the_logged_in_owners(): void
    {
        $this->service();
        // The right password of another user of WHMCS.
        $GLOBALS['whmcs_local_api'] = static fn (): array => ['result' => 'success', 'userid' => 55];
        $someoneElse = $this->page(self::confirm(), true);
        // The logged-in user, who is not the account's owner.
        $GLOBALS['whmcs_local_api'] = static fn (): array => ['result' => 'success', 'userid' => 1907];
        $notOwner = $this->page(self::confirm(), true, self::reauthentication(false));

        $this->assertSame(['wrong_credentials', 'wrong_credentials'], [$someoneElse['error_code'], $notOwner['error_code']]);
        $this->assertSame([], $this->sent('/v1/client/cancellations'));
    }

    public function test_five_wrong_passwords_in_fifteen_minutes_lock_the_form_for_that_service(): void
    {
        $this->service();
        for ($try = 0; $try < Lockout::FAILURES; $try++) {
            $this->now += $try === 0 ? 0 : 60;
            $this->assertSame('wrong_credentials', $this->page(self::confirm(['password' => "guess-{$try}"]), true)['error_code']);
        }
        $checks = count($GLOBALS['whmcs_local_api_calls']);

        $locked = $this->page(self::confirm(), true);
        $checksWhileLocked = count($GLOBALS['whmcs_local_api_calls']) - $checks;
        $otherService = $this->page(self::confirm(['id' => '8000']), true);
        $this->now += Lockout::WINDOW_SECONDS;
        $later = $this->page(self::confirm(), true);

        $this->assertSame('locked', $locked['error_code']);
        $this->assertStringContainsString('15 minutos', $locked['error']);
        $this->assertSame(0, $checksWhileLocked, 'no password check while locked');
        $this->assertSame(json_decode(self::ACCEPTED, true), $otherService['result'], 'the lock is per service');
        $this->assertSame(json_decode(self::ACCEPTED, true), $later['result'], 'fifteen minutes later it opens');
        $this->assertCount(2, $this->sent('/v1/client/cancellations'));
    }

    /** @return array<string, array{0: string, 1: array<string, string>}> */
    public static function forgedPosts(): array
    {
        $posts = [];
        foreach (['boolean', 'halting'] as $behaviour) {
            $posts["missing token, check_token {$behaviour}"] = [$behaviour, ['token' => null]];
            $posts["wrong token, check_token {$behaviour}"] = [$behaviour, ['token' => 'forged']];
        }
        return $posts;
    }

    /**
     * @dataProvider forgedPosts
     * @param array<string, ?string> $token
     */
    public function test_a_post_without_the_sessions_token_checks_no_password_and_cancels_nothing(string $behaviour, array $token): void
    {
        $GLOBALS['whmcs_check_token'] = $behaviour;
        $this->service();

        $vars = $this->page(array_filter(self::confirm($token), static fn ($value): bool => $value !== null), true);

        $this->assertSame('invalid_token', $vars['error_code']);
        $this->assertSame([], $GLOBALS['whmcs_local_api_calls']);
        $this->assertSame([], $this->sent('/v1/client/cancellations'));
    }

    public function test_the_services_refusal_is_shown_in_its_words_and_an_outage_asks_to_try_later(): void
    {
        $this->service();
        $this->service->answerClientAt('/v1/client/cancellations', 409,
            '{"error":{"code":"already_cancelled","message":"Este servicio ya está dado de baja o su baja ya fue solicitada."}}');
        $refused = $this->page(self::confirm(), true);
        $down = $this->page(self::confirm(), true, null, 'http://127.0.0.1:' . FakeService::freePort());

        $this->assertSame('Este servicio ya está dado de baja o su baja ya fue solicitada.', $refused['error']);
        $this->assertTrue($down['unavailable']);
        $this->assertSame('No podemos comprobarlo en este momento. Vuelve a intentarlo en unos minutos.', $down['error']);
    }

    public function test_a_domain_asks_for_no_type_and_only_stops_renewing(): void
    {
        $this->service();
        $this->service->answerClientAt('/v1/client/cancellations/preview', 200,
            '{"domain":{"id":912,"status":"Active"},"options":[],"open_invoices":[],"outcome":"renewal_disabled"}');
        $this->service->answerClientAt('/v1/client/cancellations', 201,
            '{"outcome":"renewal_disabled","type":null,"effective_date":null,"open_invoices":[],"status":"renewal_disabled"}');

        $vars = $this->page(['m' => 'puente', 'action' => 'cancel', 'domainid' => '912', 'token' => self::TOKEN,
            'email' => 'amina@okafordesign.example', 'password' => self::PASSWORD], true);

        $this->assertSame('renewal_disabled', $vars['result']['outcome']);
        [$request] = $this->sent('/v1/client/cancellations');
        $this->assertSame(['domain_id' => 912, 'reason' => '', 'language' => 'spanish'], $request['data']);
    }

    public function test_whmcs_own_cancellation_page_sends_the_client_to_puentes(): void
    {
        $forwarder = $this->forwarder($this->settings('http://127.0.0.1:1'));
        Shim::install($forwarder);
        $_SERVER['REQUEST_METHOD'] = 'GET';
        $redirect = Shim::cancellationRedirect(['id' => 7731]);
        $_SERVER['REQUEST_METHOD'] = 'POST';
        $posted = Shim::cancellationRedirect(['id' => 7731]);
        $_SERVER['REQUEST_METHOD'] = 'GET';
        Shim::install($this->forwarder($this->settings('http://127.0.0.1:1', ['handle_cancellations' => ''])));
        $off = Shim::cancellationRedirect(['id' => 7731]);
        Shim::install(null);
        unset($_SERVER['REQUEST_METHOD']);

        $this->assertSame('index.php?m=puente&action=cancel&id=7731', $redirect);
        // WHMCS's own form, once WHMCS processed its POST: the client is
        // shown puente's page to confirm the request with email and password.
        $this->assertSame('index.php?m=puente&action=cancel&id=7731', $posted);
        $this->assertNull($off, 'with "puente handles cancellations" off WHMCS keeps its page');
        $this->assertArrayHasKey('ClientAreaPageCancellation', $GLOBALS['whmcs_hooks']);
    }

    public function test_whmcs_termination_waits_while_the_service_says_so_and_goes_on_when_it_cannot_answer(): void
    {
        $this->service = FakeService::start();
        Shim::install($this->forwarder($this->settings($this->service->url)));
        $vars = ['params' => ['serviceid' => 7731, 'userid' => 1842, 'serverpassword' => 'root-pass', 'password' => 'svc-pass']];

        $this->service->answerDecision('{"return":{"abortcmd":true}}');
        $held = $GLOBALS['whmcs_hooks']['PreModuleTerminate'][0]($vars);
        $this->service->answerDecision('{"return":{}}');
        $allowed = $GLOBALS['whmcs_hooks']['PreModuleTerminate'][0]($vars);
        Shim::install($this->forwarder($this->settings('http://127.0.0.1:' . FakeService::freePort())));
        $down = $GLOBALS['whmcs_hooks']['PreModuleTerminate'][0]($vars);
        Shim::install(null);

        $this->assertSame(['abortcmd' => true], $held);
        $this->assertSame([], $allowed);
        $this->assertSame([], $down, 'fail-open: WHMCS proceeds');
        $request = json_decode($this->service->requests()[0]['body'], true);
        $this->assertSame('PreModuleTerminate', $request['type']);
        $this->assertSame(['serviceid' => 7731, 'userid' => 1842], $request['data'], 'no module credentials leave WHMCS');
    }
}
