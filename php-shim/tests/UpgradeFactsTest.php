<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\Addon;
use WHMCS\Module\Addon\Puente\UpgradeFacts;

/**
 * The upgrade facts the addon reads from a WHMCS 8.4 database
 * (fixtures/whmcs-8.4/demo-data.sql): service 7731 of client 1842 on
 * Business Hosting (12), whose Upgrades tab lists Starter (11) and Pro (13).
 *
 * @group capsule
 */
final class UpgradeFactsTest extends CapsuleTestCase
{
    protected function setUp(): void
    {
        parent::setUp();
        Addon::activate();
    }

    public function test_the_upgrade_check_sends_the_facts_from_whmcs_and_returns_the_services_answer(): void
    {
        $this->startService()->answerDecision('{"return":["No es posible bajar de plan."]}');

        $answer = $GLOBALS['whmcs_hooks']['ShoppingCartValidateUpgrade'][0](['id' => 7731, 'pid' => 13]);

        $this->assertSame(['No es posible bajar de plan.'], $answer);
        [$request] = $this->service->requests();
        $this->assertSame('/v1/decisions', $request['path']);
        $data = json_decode($request['body'], true)['data'];
        $this->assertSame(['id' => 7731, 'pid' => 13], array_intersect_key($data, ['id' => 0, 'pid' => 0]));
        $this->assertSame([
            'service' => ['pid' => 12, 'userid' => 1842, 'status' => 'Active', 'billingcycle' => 'Annually', 'recurringamount' => '100.00',
                'nextduedate' => '2026-01-01'],
            'currency' => 'USD',
            'language' => 'english',
            // The Upgrades tab of product 12, from tblproduct_upgrade_products.
            'upgrade_targets' => [11, 13],
            'target_pricing' => ['monthly' => '15.00', 'quarterly' => '-1.00', 'semiannually' => '-1.00', 'annually' => '150.00',
                'biennially' => '-1.00', 'triennially' => '-1.00'],
            // This service's lines on paid invoices; the configurable-options
            // upgrade (invoice 903) is not part of the plan's price.
            'paid_lines' => [
                ['type' => 'Hosting', 'amount' => '100.00', 'duedate' => '2025-01-01', 'datepaid' => '2024-12-30'],
                ['type' => 'PromoHosting', 'amount' => '-10.00', 'duedate' => '2025-01-01', 'datepaid' => '2024-12-30'],
                ['type' => 'Upgrade', 'amount' => '25.50', 'duedate' => '2025-03-10', 'datepaid' => '2025-03-10'],
            ],
        ], $data['_puente']);
    }

    public function test_upgrade_targets_are_the_rows_of_the_upgrades_tab_table(): void
    {
        $this->assertSame([11, 13], UpgradeFacts::upgradeTargets(12));
        $this->assertSame([14], UpgradeFacts::upgradeTargets(13));
        $this->assertSame([], UpgradeFacts::upgradeTargets(11));
    }

    public function test_a_whmcs_7_database_keeps_the_targets_in_tblproducts_upgradepackages(): void
    {
        Capsule::schema()->drop('tblproduct_upgrade_products');
        Capsule::schema()->table('tblproducts', static function ($table): void {
            $table->text('upgradepackages')->default('');
        });
        Capsule::table('tblproducts')->where('id', 12)->update(['upgradepackages' => serialize(['13', '14'])]);
        Capsule::table('tblproducts')->where('id', 13)->update(['upgradepackages' => 'not a serialised list']);

        $this->assertSame([13, 14], UpgradeFacts::upgradeTargets(12));
        $this->assertSame([], UpgradeFacts::upgradeTargets(13));
    }

    public function test_where_both_exist_the_upgrades_tab_table_wins(): void
    {
        Capsule::schema()->table('tblproducts', static function ($table): void {
            $table->text('upgradepackages')->default('');
        });
        Capsule::table('tblproducts')->where('id', 12)->update(['upgradepackages' => serialize(['14'])]);
        Capsule::table('tblproducts')->where('id', 11)->update(['upgradepackages' => serialize(['12'])]);

        $this->assertSame([11, 13], UpgradeFacts::upgradeTargets(12));
        $this->assertSame([12], UpgradeFacts::upgradeTargets(11), 'no rows in the table: the old column is read');
    }

    public function test_the_upgrade_price_and_checkout_amount_come_from_the_service_with_service_and_cycle_added(): void
    {
        $this->startService();
        $_REQUEST['id'] = '7731';

        $this->service->answerDecision('{"return":{"price":"50.00"}}');
        $price = $GLOBALS['whmcs_hooks']['OrderProductUpgradeOverride'][0](
            ['oldproductid' => 12, 'newproductid' => 13, 'newproductbillingcycle' => 'annually', 'price' => 37.5]);
        $this->service->answerDecision('{"return":{"amount":"50.00","discount":"0.00","other":"x"}}');
        // A legacy package row: the cycle is in newvalue ("13,Annually").
        $legacy = $GLOBALS['whmcs_hooks']['PreUpgradeCheckout'][0](
            ['clientId' => 1842, 'upgradeId' => 233, 'serviceId' => 7731, 'amount' => 37.5, 'discount' => 0]);
        // A WHMCS 8 service row: newvalue "13", the cycle in new_cycle.
        $current = $GLOBALS['whmcs_hooks']['PreUpgradeCheckout'][0](
            ['clientId' => 1842, 'upgradeId' => 234, 'serviceId' => 7731, 'amount' => 1.2, 'discount' => 0]);

        $this->assertSame(['price' => '50.00'], $price);
        $this->assertSame(['amount' => '50.00', 'discount' => '0.00'], $legacy);
        $this->assertSame(['amount' => '50.00', 'discount' => '0.00'], $current);
        [$override, $atCheckout, $atCurrentCheckout] = self::envelopes($this->service);
        $this->assertSame([7731, 13, 'annually'], [$override['data']['serviceid'], $override['data']['pid'], $override['data']['_puente']['cycle']]);
        $this->assertSame([7731, 13, 'annually'], [$atCheckout['data']['serviceid'], $atCheckout['data']['pid'], $atCheckout['data']['_puente']['cycle']]);
        $this->assertSame([7731, 13, 'monthly'], [$atCurrentCheckout['data']['serviceid'], $atCurrentCheckout['data']['pid'],
            $atCurrentCheckout['data']['_puente']['cycle']]);
    }

    public function test_whmcs_8_route_based_upgrade_pages_name_the_service_serviceid(): void
    {
        $this->startService()->answerDecision('{"return":{"price":"50.00"}}');
        // upgrade-configure.tpl posts serviceid and productid; a stale `id`
        // of another product's service must not be priced instead.
        Capsule::table('tblhosting')->where('id', 8000)->update(['packageid' => 11]);
        $_REQUEST = ['id' => '8000', 'serviceid' => '7731', 'productid' => '13'];

        $price = $GLOBALS['whmcs_hooks']['OrderProductUpgradeOverride'][0](
            ['oldproductid' => 12, 'newproductid' => 13, 'newproductbillingcycle' => 'annually', 'price' => 37.5]);

        $this->assertSame(['price' => '50.00'], $price);
        [$override] = self::envelopes($this->service);
        $this->assertSame(7731, $override['data']['serviceid']);
        $_REQUEST = [];
    }

    public function test_an_upgrade_page_naming_another_clients_service_prices_nothing(): void
    {
        // Service 7731 (product 12) is client 1842's.
        $this->assertSame(7731, \WHMCS\Module\Addon\Puente\Shim::upgradedService(['serviceid' => '7731'], 12, 1842));
        $this->assertNull(\WHMCS\Module\Addon\Puente\Shim::upgradedService(['serviceid' => '7731'], 12, 2210), 'not theirs');
        $this->assertNull(\WHMCS\Module\Addon\Puente\Shim::upgradedService(['serviceid' => '7731'], 13, 1842), 'not on that product');
        $this->assertNull(\WHMCS\Module\Addon\Puente\Shim::upgradedService(['serviceid' => '999999'], 12, null), 'no such service');
        $this->assertSame(7731, \WHMCS\Module\Addon\Puente\Shim::upgradedService(['id' => '7731'], 12, null), 'staff, legacy page');
    }

    public function test_a_price_whose_service_the_addon_cannot_tell_is_left_to_whmcs_and_staff_are_told(): void
    {
        $this->startService()->answerDecision('{"return":{"price":"0.01"}}');
        $GLOBALS['whmcs_activity_log'] = [];
        // No service named, or one that is not on the upgrade's product.
        Capsule::table('tblhosting')->where('id', 8000)->update(['packageid' => 11]);
        foreach ([[], ['id' => '8000']] as $request) {
            $_REQUEST = $request;
            $price = $GLOBALS['whmcs_hooks']['OrderProductUpgradeOverride'][0](
                ['oldproductid' => 12, 'newproductid' => 13, 'newproductbillingcycle' => 'annually', 'price' => 37.5]);
            $this->assertNull($price, json_encode($request));
        }
        $_REQUEST = [];

        $this->assertSame([], $this->service->requests(), 'nothing was priced');
        $this->assertCount(1, $GLOBALS['whmcs_activity_log'], 'the Activity Log says so, once an hour');
        $this->assertStringContainsString('product #12 to #13', $GLOBALS['whmcs_activity_log'][0][0]);
        $problems = \WHMCS\Module\Addon\Puente\Shim::forwarder()->problems()->recent();
        $this->assertSame(2, $problems['upgrade_service_unknown']['count'], 'the admin page counts both');
    }

    public function test_puente_never_prices_a_configurable_options_upgrade_or_a_row_of_another_service_or_client(): void
    {
        $this->startService()->answerDecision('{"return":{"amount":"0.01","discount":"0.00"}}');
        $checkout = static fn (int $upgradeId, int $serviceId): mixed => $GLOBALS['whmcs_hooks']['PreUpgradeCheckout'][0](
            ['clientId' => 1842, 'upgradeId' => $upgradeId, 'serviceId' => $serviceId, 'amount' => 12.0, 'discount' => 0]);

        $this->assertNull($checkout(235, 7731), 'configoptions');
        $this->assertNull($checkout(236, 7731), 'the row names client 2210, who does not own 7731');
        $this->assertNull($checkout(233, 8000), 'the row is about service 7731');
        $this->assertNull($checkout(999, 7731), 'no such row');
        $this->assertSame([], $this->service->requests(), 'WHMCS keeps its own amount, nothing is asked');
    }

    public function test_a_paid_upgrade_is_forwarded_with_its_row_the_service_and_the_new_price(): void
    {
        $this->startService();

        $GLOBALS['whmcs_hooks']['AfterProductUpgrade'][0](['upgradeid' => 234]);
        $GLOBALS['whmcs_hooks']['AfterConfigOptionsUpgrade'][0](['upgradeid' => 235]);
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](['invoiceid' => 901]);
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](['invoiceid' => 903]);
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](['invoiceid' => 900]);

        [$upgraded, $options, $paidWithUpgrade, $paidWithOptions, $paidRenewal] = self::envelopes($this->service);
        $this->assertEquals([
            'id' => 234, 'type' => 'service', 'relid' => 7731, 'userid' => 1842, 'orderid' => 5201, 'originalvalue' => '12',
            'newvalue' => '13', 'new_cycle' => 'monthly', 'status' => 'Pending', 'paid' => 'N',
            'service' => ['id' => 7731, 'userid' => 1842, 'pid' => 12],
            'currency' => 'USD', 'new_price' => '15.00',
        ], $upgraded['data']['_puente']['upgrade']);
        $this->assertSame('configoptions', $options['data']['_puente']['upgrade']['type']);
        $this->assertArrayNotHasKey('new_price', $options['data']['_puente']['upgrade'], 'recorded as it is, never priced');
        [$package] = $paidWithUpgrade['data']['_puente']['upgrades'];
        // A legacy row: the cycle of "13,Annually" prices it.
        $this->assertSame([233, 'package', '13,Annually', '', '150.00'],
            [$package['id'], $package['type'], $package['newvalue'], $package['new_cycle'], $package['new_price']]);
        $this->assertSame(['configoptions'], array_column($paidWithOptions['data']['_puente']['upgrades'], 'type'));
        $this->assertArrayNotHasKey('_puente', $paidRenewal['data'], 'an invoice without upgrade lines adds nothing');
    }

    public function test_an_upgrade_row_names_its_own_client_beside_the_services_owner(): void
    {
        $row = UpgradeFacts::upgradeRow(236);

        $this->assertSame(2210, $row['userid']);
        $this->assertSame(['id' => 7731, 'userid' => 1842, 'pid' => 12], $row['service']);
    }

    public function test_a_client_action_carries_the_product_names_for_the_ticket(): void
    {
        $facts = UpgradeFacts::forClientAction(7731, 13);
        $missing = UpgradeFacts::forClientAction(1, 13);

        $this->assertSame(['Business Hosting', 'Pro Hosting'], [$facts['service_name'], $facts['target_name']]);
        $this->assertSame(1842, $facts['service']['userid']);
        $this->assertNull($missing);
    }

    public function test_a_client_on_the_default_currency_gets_its_code(): void
    {
        Capsule::table('tblclients')->where('id', 1842)->update(['currency' => 0]);

        $this->assertSame('USD', UpgradeFacts::read(7731, 13)['currency']);
    }

    public function test_when_the_service_cannot_price_whmcs_keeps_its_own_price(): void
    {
        $this->saveUnreachable();
        $_REQUEST['id'] = '7731';

        $price = $GLOBALS['whmcs_hooks']['OrderProductUpgradeOverride'][0](
            ['newproductid' => 13, 'newproductbillingcycle' => 'annually', 'price' => 37.5]);

        $this->assertNull($price);
    }

    public function test_the_upgrade_check_fails_closed_when_the_service_cannot_answer(): void
    {
        $this->saveUnreachable();
        $_SESSION['Language'] = 'english';

        $answer = $GLOBALS['whmcs_hooks']['ShoppingCartValidateUpgrade'][0](['id' => 7731, 'pid' => 13]);

        $this->assertSame(['This cannot be checked right now. Please try again in a few minutes.'], $answer);
    }
}
