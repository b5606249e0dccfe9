<?php

use WHMCS\Database\Capsule;

/**
 * The stand-in WHMCS database is a real 8.4 schema, and a query naming a
 * table or column 8.4 lacks cannot pass unnoticed.
 *
 * @group capsule
 */
final class WhmcsSchemaTest extends CapsuleTestCase
{
    private const ADDON_LIB = __DIR__ . '/../modules/addons/puente/lib';

    public function test_a_column_whmcs_8_4_does_not_have_fails_the_audit_even_where_sqlite_would_not(): void
    {
        // SQLite reads an unknown double-quoted column as a string: the
        // query "works" and returns the column's name. The audit catches it.
        $value = Capsule::table('tblproducts')->where('id', 12)->value('upgradepackages');
        $this->assertSame('upgradepackages', $value);
        Capsule::table('tblupgrades')->where('serviceid', 7731)->count();

        $problems = WhmcsDatabase::audit();

        $this->assertCount(2, $problems);
        $this->assertStringStartsWith('no column upgradepackages in tblproducts', $problems[0]);
        $this->assertStringStartsWith('no column serviceid in tblupgrades', $problems[1]);
    }

    public function test_a_qualified_column_or_a_table_whmcs_8_4_lacks_is_named(): void
    {
        $this->assertSame(['no column tblhosting.status'],
            WhmcsDatabase::check('select "tblhosting"."status" from "tblhosting" where "tblhosting"."id" = ?'));
        $this->assertSame(['no table tblcancelrequest'], WhmcsDatabase::check('select count(*) as aggregate from "tblcancelrequest"'));
        $this->assertSame([], WhmcsDatabase::check(
            'select "tblinvoiceitems"."type", "tblinvoices"."datepaid" from "tblinvoiceitems" inner join "tblinvoices" '
            . 'on "tblinvoices"."id" = "tblinvoiceitems"."invoiceid" where "tblinvoices"."status" = ? order by "tblinvoiceitems"."id" desc'));
    }

    public function test_the_fixture_is_the_8_4_schema_not_the_guess_it_replaces(): void
    {
        $this->assertNotContains('upgradepackages', WhmcsDatabase::columns('tblproducts'));
        $this->assertSame(['id', 'product_id', 'upgrade_product_id', 'created_at', 'updated_at'],
            WhmcsDatabase::columns('tblproduct_upgrade_products'));
        $this->assertSame(['id', 'userid', 'orderid', 'type', 'date', 'relid', 'originalvalue', 'newvalue', 'new_cycle', 'amount',
            'credit_amount', 'days_remaining', 'total_days_in_cycle', 'new_recurring_amount', 'recurringchange', 'status', 'paid'],
            WhmcsDatabase::columns('tblupgrades'));
        $this->assertSame(['id', 'date', 'relid', 'reason', 'type', 'created_at', 'updated_at'], WhmcsDatabase::columns('tblcancelrequests'));

        $this->expectException(\Illuminate\Database\QueryException::class);
        Capsule::table('tblupgrades')->insert(['type' => 'product', 'relid' => 1]);
    }

    public function test_every_whmcs_table_the_addon_names_is_in_the_8_4_fixture(): void
    {
        $schema = (string) file_get_contents(WhmcsDatabase::SCHEMA);
        preg_match_all('/^CREATE TABLE "(\w+)"/m', $schema, $tables);
        $this->assertCount(30, $tables[1]);
        $named = [];
        foreach (glob(self::ADDON_LIB . '/*.php') as $file) {
            preg_match_all("/(?:Capsule::table|->join|Whmcs::has)\\('(tbl\\w+)'/", (string) file_get_contents($file), $found);
            $named = array_merge($named, $found[1]);
        }
        $named = array_values(array_unique($named));

        $this->assertContains('tblproduct_upgrade_products', $named);
        $this->assertSame([], array_values(array_diff($named, $tables[1])));
    }

    public function test_every_addon_query_on_a_whmcs_table_names_its_columns(): void
    {
        // `first()` and `get()` without a column list read `*`: a property
        // read off such a row is never checked against the schema.
        foreach (glob(self::ADDON_LIB . '/*.php') as $file) {
            $code = (string) file_get_contents($file);
            preg_match_all("/Capsule::table\\('tbl\\w+'\\)[^;]*?->(?:first|get)\\(\\)/s", $code, $unnamed);
            $this->assertSame([], $unnamed[0], basename($file));
        }
    }
}
