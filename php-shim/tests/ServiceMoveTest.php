<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\ActionEndpoint;
use WHMCS\Module\Addon\Puente\Schema;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\Signer;

/**
 * `MoveService` through action.php's endpoint, on a WHMCS 8.4 database:
 * service 7731 of client 1842 (with its backup addon 501, SSL order 601,
 * domain 912 and a gateway subscription) moves to client 2210.
 *
 * @group capsule
 */
final class ServiceMoveTest extends CapsuleTestCase
{
    private const MOVE = ['transfer_id' => 17, 'service_id' => 7731, 'from_client_id' => 1842, 'to_client_id' => 2210,
        'recipient_email' => 'Lucia@Example.es'];

    protected function setUp(): void
    {
        parent::setUp();
        $GLOBALS['whmcs_activity_log'] = [];
        $GLOBALS['whmcs_local_api_calls'] = [];
        // WHMCS sends the staff email it is asked for.
        $GLOBALS['whmcs_local_api'] = static fn (string $command): array =>
            $command === 'SendAdminEmail' ? ['result' => 'success'] : ['result' => 'error', 'message' => 'unexpected'];
        // The 2026 renewal (invoice 902) is paid: the service is up to date.
        Capsule::table('tblinvoices')->where('id', 902)->update(['status' => 'Paid']);
        // The addon and the domain have gateway subscriptions too, and an
        // SSL order hangs on the addon rather than on the service.
        Capsule::table('tblhostingaddons')->where('id', 501)->update(['subscriptionid' => 'sub_2AddOn']);
        Capsule::table('tbldomains')->where('id', 912)->update(['subscriptionid' => 'sub_3Domain']);
        Capsule::table('tblsslorders')->insert(['id' => 602, 'userid' => 1842, 'serviceid' => 0, 'addon_id' => 501,
            'remoteid' => '', 'module' => 'marketconnect', 'certtype' => 'rapidssl', 'status' => 'Completed']);
    }

    protected function tearDown(): void
    {
        $GLOBALS['whmcs_local_api'] = null;
        parent::tearDown();
    }

    /** The activity log rows of the two clients. */
    private static function clientsActivity(): array
    {
        return array_values(array_filter($GLOBALS['whmcs_activity_log'], static fn (array $row): bool => $row[1] !== 0));
    }

    /** @return list<array<string, mixed>> the SendAdminEmail calls */
    private static function staffEmails(): array
    {
        return array_values(array_map(static fn (array $call): array => $call[1],
            array_filter($GLOBALS['whmcs_local_api_calls'], static fn (array $call): bool => $call[0] === 'SendAdminEmail')));
    }

    private const CLEARED = [
        ['kind' => 'service', 'id' => 7731, 'subscription' => 'sub_1QwErTy'],
        ['kind' => 'addon', 'id' => 501, 'subscription' => 'sub_2AddOn'],
        ['kind' => 'domain', 'id' => 912, 'subscription' => 'sub_3Domain'],
    ];

    /** @return array{0: int, 1: array<string, mixed>} */
    private function move(array $data = [], ?string $id = null, ?int $signedAt = null, ?string $signature = null): array
    {
        $id ??= 'move_17';
        $signedAt ??= $this->now;
        $body = json_encode(['type' => 'MoveService', 'data' => $data + self::MOVE]);
        return (new ActionEndpoint($this->settings('http://127.0.0.1:9')))->handle('POST', [
            'webhook-id' => $id,
            'webhook-timestamp' => (string) $signedAt,
            'webhook-signature' => $signature ?? Signer::sign(self::SECRET, $id, $signedAt, $body),
        ], $body, $this->now);
    }

    /** @return array<string, int> who owns each row of the service */
    private static function owners(): array
    {
        return [
            'service' => (int) Capsule::table('tblhosting')->where('id', 7731)->value('userid'),
            'addon' => (int) Capsule::table('tblhostingaddons')->where('id', 501)->value('userid'),
            'ssl' => (int) Capsule::table('tblsslorders')->where('id', 601)->value('userid'),
            'addon ssl' => (int) Capsule::table('tblsslorders')->where('id', 602)->value('userid'),
            'domain' => (int) Capsule::table('tbldomains')->where('id', 912)->value('userid'),
        ];
    }

    private const BEFORE = ['service' => 1842, 'addon' => 1842, 'ssl' => 1842, 'addon ssl' => 1842, 'domain' => 1842];

    public function test_the_service_its_addons_ssl_orders_and_domain_move_together(): void
    {
        [$status, $answer] = $this->move(['domain_id' => 912]);

        $this->assertSame(200, $status, json_encode($answer));
        $this->assertSame(['result' => 'success', 'moved' => true, 'addons' => 1, 'ssl_orders' => 2, 'domain_moved' => true,
            'subscriptions_cleared' => self::CLEARED], $answer);
        $this->assertSame(['service' => 2210, 'addon' => 2210, 'ssl' => 2210, 'addon ssl' => 2210, 'domain' => 2210], self::owners());
        // No subscription keeps charging through what moved.
        $this->assertSame('', Capsule::table('tblhosting')->where('id', 7731)->value('subscriptionid'));
        $this->assertSame('', Capsule::table('tblhostingaddons')->where('id', 501)->value('subscriptionid'));
        $this->assertSame('', Capsule::table('tbldomains')->where('id', 912)->value('subscriptionid'));
        // History stays with the old owner.
        $this->assertSame(['1842'], array_map('strval', Capsule::table('tblinvoices')->whereIn('id', [900, 901, 902])->distinct()->pluck('userid')->all()));
        $this->assertSame(['1842'], array_map('strval', Capsule::table('tblinvoiceitems')->where('relid', 7731)->distinct()->pluck('userid')->all()));
        $this->assertSame(1842, (int) Capsule::table('tblorders')->where('id', 5100)->value('userid'));
        $this->assertSame(1842, (int) Capsule::table('tblupgrades')->where('id', 233)->value('userid'));
        // Both activity logs say so, and what to do about each subscription.
        $logged = self::clientsActivity();
        $this->assertSame([1842, 2210], array_column($logged, 1));
        foreach (['service #7731: sub_1QwErTy', 'addon #501: sub_2AddOn', 'domain #912: sub_3Domain', 'cancel them at the gateway'] as $said) {
            $this->assertStringContainsString($said, $logged[0][0]);
        }
        // Staff get an email naming each one.
        [$email] = self::staffEmails();
        $this->assertSame('account', $email['type']);
        $this->assertStringContainsString('3 gateway subscription', $email['customsubject']);
        foreach (['sub_1QwErTy', 'sub_2AddOn', 'sub_3Domain', 'transfer #17'] as $said) {
            $this->assertStringContainsString($said, $email['custommessage']);
        }
    }

    public function test_a_repeated_move_is_not_applied_twice_and_names_the_same_subscriptions(): void
    {
        Schema::create();
        $this->move(['domain_id' => 912]);

        [$status, $answer] = $this->move(['domain_id' => 912]);

        $this->assertSame([200, false], [$status, $answer['moved']]);
        $this->assertSame(self::CLEARED, $answer['subscriptions_cleared'], 'a lost answer is given again');
        $this->assertCount(2, self::clientsActivity(), 'logged once');
        $this->assertCount(1, self::staffEmails(), 'staff told once');
    }

    public function test_a_staff_email_that_cannot_be_sent_is_a_problem_staff_see(): void
    {
        Schema::create();
        $GLOBALS['whmcs_local_api'] = static fn (): array => ['result' => 'error', 'message' => 'SMTP refused'];
        Shim::install($this->forwarder($this->settings('http://127.0.0.1:9')));

        [$status] = $this->move(['domain_id' => 912]);

        $this->assertSame(200, $status, 'the move stands');
        $problems = Shim::forwarder()->problems()->recent();
        $this->assertArrayHasKey('move_staff_email', $problems);
        $this->assertStringContainsString('SMTP refused', $problems['move_staff_email']['message']);
        $this->assertStringContainsString('sub_2AddOn', $problems['move_staff_email']['message']);
        $this->assertStringContainsString('sub_2AddOn', $GLOBALS['whmcs_activity_log'][2][0], 'and in the Activity Log');
        Shim::install(null);
    }

    public function test_without_the_domain_only_the_service_and_what_hangs_on_it_move(): void
    {
        $this->move();

        $this->assertSame(['service' => 2210, 'addon' => 2210, 'ssl' => 2210, 'addon ssl' => 2210, 'domain' => 1842], self::owners());
        $this->assertSame('sub_3Domain', Capsule::table('tbldomains')->where('id', 912)->value('subscriptionid'), 'the domain stays');
    }

    /** @return array<string, array{0: callable(): void, 1: array<string, mixed>, 2: string}> */
    public static function refusals(): array
    {
        return [
            'an unpaid renewal' => [static fn () => Capsule::table('tblinvoices')->where('id', 902)->update(['status' => 'Unpaid']), [], 'unpaid_invoices'],
            'an unpaid addon line' => [static function (): void {
                Capsule::table('tblinvoices')->insert(['id' => 950, 'userid' => 1842, 'status' => 'Unpaid', 'total' => '12.00']);
                Capsule::table('tblinvoiceitems')->insert(['invoiceid' => 950, 'userid' => 1842, 'type' => 'Addon', 'relid' => 501, 'amount' => '12.00']);
            }, [], 'unpaid_invoices'],
            'an unpaid domain renewal' => [static function (): void {
                Capsule::table('tblinvoices')->insert(['id' => 951, 'userid' => 1842, 'status' => 'Unpaid', 'total' => '12.95']);
                Capsule::table('tblinvoiceitems')->insert(['invoiceid' => 951, 'userid' => 1842, 'type' => 'Domain', 'relid' => 912, 'amount' => '12.95']);
            }, ['domain_id' => 912], 'unpaid_invoices'],
            'a suspended service' => [static fn () => Capsule::table('tblhosting')->where('id', 7731)->update(['domainstatus' => 'Suspended']), [], 'service_not_active'],
            'a closed recipient' => [static fn () => Capsule::table('tblclients')->where('id', 2210)->update(['status' => 'Closed']), [], 'client_not_active'],
            'someone else\'s service' => [static fn () => null, ['from_client_id' => 3001], 'not_owner'],
            'someone else\'s domain' => [static fn () => null, ['domain_id' => 913], 'service_not_active'],
            'the email now someone else\'s' => [static fn () => Capsule::table('tblclients')->where('id', 2210)->update(['email' => 'lucia@new.example']),
                [], 'recipient_not_found'],
            'the email now shared' => [static fn () => Capsule::table('tblclients')->where('id', 3001)->update(['email' => 'lucia@example.es']),
                [], 'ambiguous_recipient'],
        ];
    }

    /**
     * @dataProvider refusals
     * @param callable(): void $arrange
     * @param array<string, mixed> $data
     */
    public function test_a_precondition_failing_at_move_time_moves_nothing(callable $arrange, array $data, string $code): void
    {
        $arrange();

        [$status, $answer] = $this->move($data + ['domain_id' => $data['domain_id'] ?? null]);

        $this->assertSame([409, $code], [$status, $answer['code']], json_encode($answer));
        $this->assertSame(self::BEFORE, self::owners());
        $this->assertSame('sub_1QwErTy', Capsule::table('tblhosting')->where('id', 7731)->value('subscriptionid'));
        $this->assertSame('sub_2AddOn', Capsule::table('tblhostingaddons')->where('id', 501)->value('subscriptionid'));
        $this->assertSame([], $GLOBALS['whmcs_activity_log']);
        $this->assertSame([], self::staffEmails());
    }

    public function test_a_failure_midway_leaves_every_row_as_it_was(): void
    {
        // The SSL orders' update fails after the service and addon changed.
        Capsule::schema()->drop('tblsslorders');

        [$status, $answer] = $this->move(['domain_id' => 912]);

        $this->assertSame([500, 'internal_error'], [$status, $answer['code']]);
        $this->assertSame(1842, (int) Capsule::table('tblhosting')->where('id', 7731)->value('userid'));
        $this->assertSame(1842, (int) Capsule::table('tblhostingaddons')->where('id', 501)->value('userid'));
        $this->assertSame(1842, (int) Capsule::table('tbldomains')->where('id', 912)->value('userid'));
        $this->assertSame('sub_1QwErTy', Capsule::table('tblhosting')->where('id', 7731)->value('subscriptionid'));
        $this->assertSame([], self::clientsActivity());
        // Staff are told where they look, whether module logging is on or not.
        $this->assertStringContainsString('the move of service #7731 (transfer #17) failed and was undone',
            $GLOBALS['whmcs_activity_log'][0][0]);
        WhmcsDatabase::audit(); // the failing statement on the dropped table is the point
    }

    public function test_bad_stale_or_replayed_signatures_are_refused(): void
    {
        $this->assertSame(401, $this->move([], null, null, 'v1,AAAA')[0]);
        $this->assertSame(401, $this->move([], null, $this->now - 301)[0]);
        // Signed correctly, but with another transfer's id.
        [$status, $answer] = $this->move([], 'move_99');
        $this->assertSame([400, 'invalid_request'], [$status, $answer['code']]);
        $this->assertSame(self::BEFORE, self::owners());
    }
}
