<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\ActionEndpoint;
use WHMCS\Module\Addon\Puente\Signer;

/**
 * `ServiceFacts` through action.php, on a WHMCS 8.4 database: what the
 * service cannot learn from WHMCS's API about service 7731.
 *
 * @group capsule
 */
final class ServiceFactsTest extends CapsuleTestCase
{
    /** @return array{0: int, 1: array<string, mixed>} */
    private function ask(int $serviceId): array
    {
        $id = 'facts_01JD7XQ4Q5Z7XW2N5C3B7R9T1K';
        $body = json_encode(['type' => 'ServiceFacts', 'data' => ['service_id' => $serviceId]]);
        return (new ActionEndpoint($this->settings('http://127.0.0.1:9')))->handle('POST', [
            'webhook-id' => $id,
            'webhook-timestamp' => (string) $this->now,
            'webhook-signature' => Signer::sign(self::SECRET, $id, $this->now, $body),
        ], $body, $this->now);
    }

    public function test_the_upgrade_rows_of_the_service_and_its_addons_are_read(): void
    {
        Capsule::table('tblupgrades')->insert([
            ['id' => 301, 'userid' => 1842, 'type' => 'addon', 'relid' => 501],
            ['id' => 302, 'userid' => 1842, 'type' => 'package', 'relid' => 8000],
            ['id' => 303, 'userid' => 1842, 'type' => 'addon', 'relid' => 7731],
        ]);

        [$status, $answer] = $this->ask(7731);

        $this->assertSame(200, $status, json_encode($answer));
        $this->assertSame('success', $answer['result']);
        $rows = array_map(static fn (array $row): array => [$row['id'], $row['type'], $row['relid']], $answer['upgrades']);
        $this->assertContains([301, 'addon', 501], $rows, 'the addon\'s upgrade');
        $this->assertNotContains([302, 'package', 8000], $rows, 'another service\'s');
        $this->assertNotContains([303, 'addon', 7731], $rows, 'an addon row whose relid merely equals the service id');
        foreach ($rows as [$id, $type, $relid]) {
            $this->assertTrue($relid === 7731 || ($type === 'addon' && $relid === 501), json_encode($rows));
        }
    }

    public function test_the_cancellation_request_whmcs_holds_is_named_and_none_once_staff_deleted_it(): void
    {
        Capsule::table('tblcancelrequests')->insert(['id' => 44, 'date' => '2026-12-01 10:00:00', 'relid' => 7731,
            'reason' => 'Closing the studio', 'type' => 'End of Billing Period']);

        [, $held] = $this->ask(7731);
        Capsule::table('tblcancelrequests')->where('id', 44)->delete();
        [, $deleted] = $this->ask(7731);

        $this->assertSame(['id' => 44, 'type' => 'End of Billing Period', 'date' => '2026-12-01 10:00:00'], $held['cancellation_request']);
        $this->assertNull($deleted['cancellation_request']);
    }

    public function test_a_request_without_a_service_is_refused(): void
    {
        [$status, $answer] = $this->ask(0);

        $this->assertSame([400, 'invalid_request'], [$status, $answer['code']]);
    }
}
