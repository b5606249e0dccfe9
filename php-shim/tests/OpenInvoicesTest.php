<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\OpenInvoices;

/**
 * The addon's open-invoice rule against the table the service's rule is
 * tested against too (fixtures/open-invoices.json): every case's rows are
 * written to a WHMCS 8.4 database and the move's query must find the same
 * invoices.
 *
 * @group capsule
 */
final class OpenInvoicesTest extends CapsuleTestCase
{
    private const TABLE = __DIR__ . '/../../fixtures/open-invoices.json';

    /** @return array<string, mixed> */
    private static function table(): array
    {
        return json_decode((string) file_get_contents(self::TABLE), true, 512, JSON_THROW_ON_ERROR);
    }

    /** @return array<string, array{0: array<string, mixed>}> */
    public static function cases(): array
    {
        $cases = [];
        foreach (self::table()['cases'] as $case) {
            $cases[$case['name']] = [$case];
        }
        return $cases;
    }

    public function test_the_open_statuses_are_the_tables(): void
    {
        $this->assertSame(self::table()['open_statuses'], OpenInvoices::OPEN_STATUSES);
        $this->assertSame([], array_intersect(self::table()['not_open_statuses'], OpenInvoices::OPEN_STATUSES));
    }

    /**
     * @dataProvider cases
     * @param array<string, mixed> $case
     */
    public function test_each_case_of_the_table_finds_the_same_open_invoices(array $case): void
    {
        $service = $case['service'];
        foreach (['tblinvoiceitems', 'tblinvoices', 'tblupgrades', 'tblhostingaddons'] as $table) {
            Capsule::table($table)->delete();
        }
        Capsule::table('tblhosting')->where('id', $service['id'])->update(['userid' => $service['client']]);
        foreach ($case['addons'] as $addon) {
            Capsule::table('tblhostingaddons')->insert(['id' => $addon['id'], 'hostingid' => $addon['service'], 'userid' => $service['client']]);
        }
        foreach ($case['upgrades'] as $upgrade) {
            Capsule::table('tblupgrades')->insert(['id' => $upgrade['id'], 'userid' => $service['client'], 'type' => $upgrade['type'],
                'relid' => $upgrade['relid']]);
        }
        foreach ($case['invoices'] as $invoice) {
            Capsule::table('tblinvoices')->insert(['id' => $invoice['id'], 'userid' => $service['client'], 'status' => $invoice['status']]);
            foreach ($invoice['lines'] as [$type, $relid]) {
                Capsule::table('tblinvoiceitems')->insert(['invoiceid' => $invoice['id'], 'userid' => $service['client'],
                    'type' => $type, 'relid' => $relid]);
            }
        }

        $this->assertSame($case['open'], OpenInvoices::ofService($service['id'], $case['domain']), $case['name']);
    }
}
