<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\ActionEndpoint;
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
        // The 2026 renewal (invoice 902) is paid: the service is up to date.
        Capsule::table('tblinvoices')->where('id', 902)->update(['status' => 'Paid']);
    }

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
            'domain' => (int) Capsule::table('tbldomains')->where('id', 912)->value('userid'),
        ];
    }

    private const BEFORE = ['service' => 1842, 'addon' => 1842, 'ssl' => 1842, 'domain' => 1842];

    public function test_the_service_its_addons_ssl_orders_and_domain_move_together(): void
    {
        [$status, $answer] = $this->move(['domain_id' => 912]);

        $this->assertSame(200, $status, json_encode($answer));
        $this->assertSame(['result' => 'success', 'moved' => true, 'addons' => 1, 'ssl_orders' => 1, 'domain_moved' => true,
            'subscription_cleared' => 'sub_1QwErTy'], $answer);
        $this->assertSame(['service' => 2210, 'addon' => 2210, 'ssl' => 2210, 'domain' => 2210], self::owners());
        $this->assertSame('', Capsule::table('tblhosting')->where('id', 7731)->value('subscriptionid'));
        // History stays with the old owner.
        $this->assertSame(['1842'], array_map('strval', Capsule::table('tblinvoices')->whereIn('id', [900, 901, 902])->distinct()->pluck('userid')->all()));
        $this->assertSame(['1842'], array_map('strval', Capsule::table('tblinvoiceitems')->where('relid', 7731)->distinct()->pluck('userid')->all()));
        $this->assertSame(1842, (int) Capsule::table('tblorders')->where('id', 5100)->value('userid'));
        $this->assertSame(1842, (int) Capsule::table('tblupgrades')->where('id', 233)->value('userid'));
        // Both activity logs say so, and what to do about the subscription.
        $this->assertSame([1842, 2210], array_column($GLOBALS['whmcs_activity_log'], 1));
        $this->assertStringContainsString('sub_1QwErTy', $GLOBALS['whmcs_activity_log'][0][0]);
        $this->assertStringContainsString('cancel it at the gateway', $GLOBALS['whmcs_activity_log'][0][0]);
    }

    public function test_a_repeated_move_is_not_applied_twice(): void
    {
        $this->move(['domain_id' => 912]);

        [$status, $answer] = $this->move(['domain_id' => 912]);

        $this->assertSame([200, false], [$status, $answer['moved']]);
        $this->assertCount(2, $GLOBALS['whmcs_activity_log'], 'logged once');
    }

    public function test_without_the_domain_only_the_service_and_what_hangs_on_it_move(): void
    {
        $this->move();

        $this->assertSame(['service' => 2210, 'addon' => 2210, 'ssl' => 2210, 'domain' => 1842], self::owners());
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
        $this->assertSame([], $GLOBALS['whmcs_activity_log']);
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
        $this->assertSame([], $GLOBALS['whmcs_activity_log']);
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
