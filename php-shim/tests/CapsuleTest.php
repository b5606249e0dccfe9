<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\Addon;
use WHMCS\Module\Addon\Puente\Schema;
use WHMCS\Module\Addon\Puente\Settings;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\TableSpool;
use WHMCS\Module\Addon\Puente\TableState;

/**
 * The addon inside a WHMCS with its database: settings from
 * tbladdonmodules, the spool and shared state as tables.
 *
 * @group capsule
 */
final class CapsuleTest extends ShimTestCase
{
    private ?FakeService $service = null;

    protected function setUp(): void
    {
        parent::setUp();
        Schema::drop();
        Capsule::table('tbladdonmodules')->delete();
        Settings::forget();
        Shim::install(null);
    }

    protected function tearDown(): void
    {
        $this->service?->stop();
        Settings::forget();
        Shim::install(null);
        $_POST = [];
        parent::tearDown();
    }

    private function save(string $url): void
    {
        foreach (['service_url' => $url, 'secret' => self::SECRET, 'instance' => 'paneldecliente', 'forward_quotes' => ''] as $setting => $value) {
            Capsule::table('tbladdonmodules')->insert(['module' => 'puente', 'setting' => $setting, 'value' => $value]);
        }
        Settings::forget();
        Shim::install(null);
    }

    public function test_activation_creates_the_tables_and_deactivation_removes_them(): void
    {
        $this->assertSame('success', Addon::activate()['status']);
        $this->assertTrue(Capsule::schema()->hasTable(Schema::SPOOL));
        $this->assertTrue(Capsule::schema()->hasTable(Schema::STATE));
        $this->assertSame('success', Addon::activate()['status'], 'activating twice is harmless');

        (new TableSpool())->append(new WHMCS\Module\Addon\Puente\Event('evt_a', 'ClientAdd', 'default', '{}'));
        $result = Addon::deactivate();

        $this->assertSame('success', $result['status']);
        $this->assertStringContainsString('1 events', $result['description']);
        $this->assertFalse(Capsule::schema()->hasTable(Schema::SPOOL));
    }

    public function test_the_functions_whmcs_calls_are_the_addons(): void
    {
        $this->assertSame(Addon::config(), puente_config());
        $this->assertSame('success', puente_activate()['status']);
        puente_upgrade(['version' => '0.0.9']);
        $this->assertTrue(Capsule::schema()->hasTable(Schema::SPOOL));
        $this->expectOutputRegex('#<table class="table#');
        puente_output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => []]);
        $page = puente_clientarea([]);
        $this->assertSame(['upgrade', true], [$page['templatefile'], $page['requirelogin']]);
        $this->assertFileExists(dirname(__DIR__) . '/modules/addons/puente/templates/upgrade.tpl');
        $this->assertSame('success', puente_deactivate()['status']);
        $this->assertFalse(Capsule::schema()->hasTable(Schema::STATE));
    }

    public function test_the_config_offers_every_setting_with_the_secret_as_a_password_field(): void
    {
        $config = Addon::config();

        $this->assertSame('0.1.0', $config['version']);
        $this->assertSame('password', $config['fields']['secret']['Type']);
        foreach (['service_url', 'instance', 'connect_timeout_ms', 'total_timeout_ms', 'forward_clients', 'forward_quotes'] as $field) {
            $this->assertArrayHasKey($field, $config['fields']);
        }
        $this->assertSame('yesno', $config['fields']['forward_invoices']['Type']);
    }

    public function test_saved_settings_are_read_from_tbladdonmodules(): void
    {
        $this->save('http://127.0.0.1:8080');

        $settings = Settings::load();

        $this->assertSame('http://127.0.0.1:8080', $settings->url);
        $this->assertSame([self::SECRET], $settings->secrets);
        $this->assertSame('paneldecliente', $settings->instance);
        $this->assertFalse($settings->forwards('quotes'));
        [$spool, $state] = Shim::storage($settings);
        $this->assertInstanceOf(TableSpool::class, $spool);
        $this->assertInstanceOf(TableState::class, $state);
    }

    public function test_events_spooled_in_the_table_during_an_outage_are_replayed_by_the_cron(): void
    {
        Addon::activate();
        $this->save('http://127.0.0.1:' . FakeService::freePort());
        $GLOBALS['whmcs_hooks']['ClientAdd'][0](self::fixture('ClientAdd'));
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](self::fixture('InvoicePaid'));
        $spooled = Capsule::table(Schema::SPOOL)->orderBy('seq')->pluck('webhook_id')->all();
        $this->assertCount(2, $spooled);
        $this->assertSame(['ClientAdd', 'InvoicePaid'], Capsule::table(Schema::SPOOL)->orderBy('seq')->pluck('type')->all());

        $this->service = FakeService::start();
        Capsule::table('tbladdonmodules')->where('setting', 'service_url')->update(['value' => $this->service->url]);
        Capsule::table(Schema::STATE)->where('name', 'breaker_open_until')->update(['value' => '0']);
        Settings::forget();
        Shim::install(null);
        $GLOBALS['whmcs_hooks']['AfterCronJob'][0]([]);

        $this->assertSame($spooled, array_map(static fn (array $r): string => $r['headers']['webhook-id'], $this->service->requests()));
        $this->assertSame(0, Capsule::table(Schema::SPOOL)->count());
    }

    public function test_user_hooks_carry_the_clients_the_user_owns(): void
    {
        Capsule::schema()->create('tblusers_clients', static function ($table): void {
            $table->increments('id');
            $table->unsignedInteger('auth_user_id');
            $table->unsignedInteger('client_id');
            $table->boolean('owner');
        });
        Capsule::table('tblusers_clients')->insert([
            ['auth_user_id' => 1907, 'client_id' => 2210, 'owner' => 1],
            ['auth_user_id' => 1907, 'client_id' => 1842, 'owner' => 1],
            ['auth_user_id' => 1907, 'client_id' => 3001, 'owner' => 0],
            ['auth_user_id' => 55, 'client_id' => 4000, 'owner' => 1],
        ]);
        Addon::activate();
        $this->service = FakeService::start();
        $this->save($this->service->url);

        $GLOBALS['whmcs_hooks']['UserChangePassword'][0](self::fixture('UserChangePassword'));
        $GLOBALS['whmcs_hooks']['UserLogin'][0](['user' => (object) ['id' => 1907, 'email' => 'amina@okafordesign.example']]);
        $GLOBALS['whmcs_hooks']['ClientChangePassword'][0](self::fixture('ClientChangePassword'));
        Capsule::schema()->drop('tblusers_clients');

        [$password, $login, $client] = self::envelopes($this->service);
        $this->assertSame(['client_ids' => [1842, 2210]], $password['data']['_puente']);
        $this->assertSame(['client_ids' => [1842, 2210]], $login['data']['_puente']);
        $this->assertArrayNotHasKey('_puente', $client['data']);
    }

    public function test_without_the_users_table_user_hooks_are_still_forwarded(): void
    {
        Addon::activate();
        $this->service = FakeService::start();
        $this->save($this->service->url);

        $GLOBALS['whmcs_hooks']['UserChangePassword'][0](self::fixture('UserChangePassword'));

        [$envelope] = self::envelopes($this->service);
        $this->assertSame(['userid' => 1907], $envelope['data']);
    }

    private function whmcsCatalogue(): void
    {
        $schema = Capsule::schema();
        $schema->create('tblclients', static function ($t): void {
            $t->increments('id');
            $t->unsignedInteger('currency');
            $t->string('language');
        });
        $schema->create('tblcurrencies', static function ($t): void {
            $t->increments('id');
            $t->string('code');
        });
        $schema->create('tblproducts', static function ($t): void {
            $t->increments('id');
            $t->string('name');
            $t->text('upgradepackages');
        });
        $schema->create('tblupgrades', static function ($t): void {
            $t->increments('id');
            $t->unsignedInteger('orderid');
            $t->string('type');
            $t->unsignedInteger('relid');
            $t->string('originalvalue');
            $t->string('newvalue');
            $t->string('paid');
            $t->string('status');
        });
        $schema->create('tblinvoices', static function ($t): void {
            $t->increments('id');
            $t->unsignedInteger('userid');
            $t->string('status');
            $t->string('datepaid');
        });
        $schema->create('tblinvoiceitems', static function ($t): void {
            $t->increments('id');
            $t->unsignedInteger('invoiceid');
            $t->string('type');
            $t->unsignedInteger('relid');
            $t->string('amount');
            $t->string('duedate');
        });
        $schema->create('tblhosting', static function ($t): void {
            $t->increments('id');
            $t->unsignedInteger('userid');
            $t->unsignedInteger('packageid');
            $t->string('domainstatus');
            $t->string('billingcycle');
            $t->string('nextduedate');
            $t->string('amount');
        });
        $schema->create('tblpricing', static function ($t): void {
            $t->increments('id');
            $t->string('type');
            $t->unsignedInteger('relid');
            $t->unsignedInteger('currency');
            foreach (['monthly', 'quarterly', 'semiannually', 'annually', 'biennially', 'triennially'] as $cycle) {
                $t->string($cycle);
            }
        });
        Capsule::table('tblcurrencies')->insert(['id' => 1, 'code' => 'USD']);
        Capsule::table('tblclients')->insert(['id' => 1842, 'currency' => 1, 'language' => 'english']);
        Capsule::table('tblproducts')->insert([
            ['id' => 12, 'name' => 'Business Hosting', 'upgradepackages' => serialize(['13', '14'])],
            ['id' => 13, 'name' => 'Pro Hosting', 'upgradepackages' => ''],
        ]);
        // Service 7731's invoices: the paid renewal with its promotion, a
        // paid upgrade, an unpaid renewal; another service's renewal.
        Capsule::table('tblupgrades')->insert([
            ['id' => 233, 'orderid' => 5200, 'type' => 'package', 'relid' => 7731, 'originalvalue' => '12',
                'newvalue' => '13,Annually', 'paid' => 'Y', 'status' => 'Completed'],
        ]);
        Capsule::table('tblinvoices')->insert([
            ['id' => 900, 'userid' => 1842, 'status' => 'Paid', 'datepaid' => '2024-12-30 10:00:00'],
            ['id' => 901, 'userid' => 1842, 'status' => 'Paid', 'datepaid' => '2025-03-10 09:00:00'],
            ['id' => 902, 'userid' => 1842, 'status' => 'Unpaid', 'datepaid' => '0000-00-00 00:00:00'],
        ]);
        Capsule::table('tblinvoiceitems')->insert([
            ['invoiceid' => 900, 'type' => 'Hosting', 'relid' => 7731, 'amount' => '100.00', 'duedate' => '2025-01-01'],
            ['invoiceid' => 900, 'type' => 'PromoHosting', 'relid' => 7731, 'amount' => '-10.00', 'duedate' => '2025-01-01'],
            ['invoiceid' => 900, 'type' => 'Hosting', 'relid' => 8000, 'amount' => '55.00', 'duedate' => '2025-01-01'],
            ['invoiceid' => 901, 'type' => 'Upgrade', 'relid' => 233, 'amount' => '25.50', 'duedate' => '2025-03-10'],
            ['invoiceid' => 902, 'type' => 'Hosting', 'relid' => 7731, 'amount' => '100.00', 'duedate' => '2026-01-01'],
        ]);
        Capsule::table('tblhosting')->insert(['id' => 7731, 'userid' => 1842, 'packageid' => 12, 'domainstatus' => 'Active', 'billingcycle' => 'Annually',
            'nextduedate' => '2026-01-01', 'amount' => '100.00']);
        Capsule::table('tblpricing')->insert(['type' => 'product', 'relid' => 13, 'currency' => 1, 'monthly' => '15.00',
            'quarterly' => '-1.00', 'semiannually' => '-1.00', 'annually' => '150.00', 'biennially' => '-1.00', 'triennially' => '-1.00']);
    }

    private function dropCatalogue(): void
    {
        foreach (['tblclients', 'tblcurrencies', 'tblproducts', 'tblhosting', 'tblpricing', 'tblupgrades', 'tblinvoices', 'tblinvoiceitems'] as $table) {
            Capsule::schema()->dropIfExists($table);
        }
    }

    public function test_the_upgrade_check_sends_the_facts_from_whmcs_and_returns_the_services_answer(): void
    {
        Addon::activate();
        $this->whmcsCatalogue();
        $this->service = FakeService::start();
        $this->service->answerDecision('{"return":["No es posible bajar de plan."]}');
        $this->save($this->service->url);

        $answer = $GLOBALS['whmcs_hooks']['ShoppingCartValidateUpgrade'][0](['id' => 7731, 'pid' => 13]);
        $this->dropCatalogue();

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
            'upgrade_targets' => [13, 14],
            'target_pricing' => ['monthly' => '15.00', 'quarterly' => '-1.00', 'semiannually' => '-1.00', 'annually' => '150.00',
                'biennially' => '-1.00', 'triennially' => '-1.00'],
            // Only this service's lines on paid invoices.
            'paid_lines' => [
                ['type' => 'Hosting', 'amount' => '100.00', 'duedate' => '2025-01-01', 'datepaid' => '2024-12-30'],
                ['type' => 'PromoHosting', 'amount' => '-10.00', 'duedate' => '2025-01-01', 'datepaid' => '2024-12-30'],
                ['type' => 'Upgrade', 'amount' => '25.50', 'duedate' => '2025-03-10', 'datepaid' => '2025-03-10'],
            ],
        ], $data['_puente']);
    }

    public function test_the_upgrade_price_and_checkout_amount_come_from_the_service_with_service_and_cycle_added(): void
    {
        Addon::activate();
        $this->whmcsCatalogue();
        $this->service = FakeService::start();
        $this->save($this->service->url);
        $_REQUEST['id'] = '7731';

        $this->service->answerDecision('{"return":{"price":"50.00"}}');
        $price = $GLOBALS['whmcs_hooks']['OrderProductUpgradeOverride'][0](
            ['oldproductid' => 12, 'newproductid' => 13, 'newproductbillingcycle' => 'annually', 'price' => 37.5]);
        $this->service->answerDecision('{"return":{"amount":"50.00","discount":"0.00","other":"x"}}');
        $checkout = $GLOBALS['whmcs_hooks']['PreUpgradeCheckout'][0](
            ['clientId' => 1842, 'upgradeId' => 233, 'serviceId' => 7731, 'amount' => 37.5, 'discount' => 0]);
        unset($_REQUEST['id']);
        $this->dropCatalogue();

        $this->assertSame(['price' => '50.00'], $price);
        $this->assertSame(['amount' => '50.00', 'discount' => '0.00'], $checkout);
        [$override, $atCheckout] = self::envelopes($this->service);
        $this->assertSame([7731, 13, 'annually'], [$override['data']['serviceid'], $override['data']['pid'], $override['data']['_puente']['cycle']]);
        $this->assertSame([7731, 13, 'annually'], [$atCheckout['data']['serviceid'], $atCheckout['data']['pid'], $atCheckout['data']['_puente']['cycle']]);
    }

    public function test_a_paid_upgrade_is_forwarded_with_its_row_owner_currency_and_new_price(): void
    {
        Addon::activate();
        $this->whmcsCatalogue();
        $this->service = FakeService::start();
        $this->save($this->service->url);

        $GLOBALS['whmcs_hooks']['AfterProductUpgrade'][0](['upgradeid' => 233]);
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](['invoiceid' => 901]);
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](['invoiceid' => 900]);
        $this->dropCatalogue();

        [$upgraded, $paidWithUpgrade, $paidRenewal] = self::envelopes($this->service);
        $row = ['id' => 233, 'type' => 'package', 'relid' => 7731, 'originalvalue' => '12', 'newvalue' => '13,Annually',
            'status' => 'Completed', 'paid' => 'Y', 'userid' => 1842, 'currency' => 'USD', 'new_price' => '150.00'];
        ksort($row);
        $actual = $upgraded['data']['_puente']['upgrade'];
        ksort($actual);
        $this->assertSame($row, $actual);
        $this->assertSame([233], array_column($paidWithUpgrade['data']['_puente']['upgrades'], 'id'));
        $this->assertArrayNotHasKey('_puente', $paidRenewal['data'], 'an invoice without upgrade lines adds nothing');
    }

    public function test_a_client_action_carries_the_product_names_for_the_ticket(): void
    {
        $this->whmcsCatalogue();
        $facts = \WHMCS\Module\Addon\Puente\UpgradeFacts::forClientAction(7731, 13);
        $missing = \WHMCS\Module\Addon\Puente\UpgradeFacts::forClientAction(1, 13);
        $this->dropCatalogue();

        $this->assertSame(['Business Hosting', 'Pro Hosting'], [$facts['service_name'], $facts['target_name']]);
        $this->assertSame(1842, $facts['service']['userid']);
        $this->assertNull($missing);
    }

    public function test_when_the_service_cannot_price_whmcs_keeps_its_own_price(): void
    {
        Addon::activate();
        $this->whmcsCatalogue();
        $this->save('http://127.0.0.1:' . FakeService::freePort());
        $_REQUEST['id'] = '7731';

        $price = $GLOBALS['whmcs_hooks']['OrderProductUpgradeOverride'][0](
            ['newproductid' => 13, 'newproductbillingcycle' => 'annually', 'price' => 37.5]);
        unset($_REQUEST['id']);
        $this->dropCatalogue();

        $this->assertNull($price);
    }

    public function test_the_upgrade_check_fails_closed_when_the_service_cannot_answer(): void
    {
        Addon::activate();
        $this->save('http://127.0.0.1:' . FakeService::freePort());
        $_SESSION['Language'] = 'english';

        $answer = $GLOBALS['whmcs_hooks']['ShoppingCartValidateUpgrade'][0](['id' => 7731, 'pid' => 13]);

        $this->assertSame(['This cannot be checked right now. Please try again in a few minutes.'], $answer);
    }

    public function test_a_missing_spool_table_is_created_rather_than_losing_the_event(): void
    {
        $this->save('http://127.0.0.1:' . FakeService::freePort());

        $GLOBALS['whmcs_hooks']['DomainDelete'][0](self::fixture('DomainDelete'));

        $this->assertSame(1, Capsule::table(Schema::SPOOL)->count());
        $this->assertSame('DomainDelete', Capsule::table(Schema::SPOOL)->value('type'));
    }

    public function test_the_admin_page_shows_the_state_and_sends_a_test_event(): void
    {
        Addon::activate();
        $this->service = FakeService::start();
        $this->save($this->service->url);
        $_POST = ['puente_action' => 'test'];

        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => []]);

        $this->assertMatchesRegularExpression('/Test event evt_\w+: delivered/', $html);
        $this->assertStringContainsString('reachable', $html);
        [$test, $health] = $this->service->requests();
        $this->assertSame('PuenteTestEvent', json_decode($test['body'], true)['type']);
        $this->assertSame('/healthz', $health['path']);
        $this->assertStringNotContainsString(self::SECRET, $html);
    }

    public function test_the_admin_page_names_an_unreachable_service_and_what_waits(): void
    {
        Addon::activate();
        $this->save('http://127.0.0.1:' . FakeService::freePort());
        $GLOBALS['whmcs_hooks']['ClientAdd'][0](self::fixture('ClientAdd'));

        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);

        $this->assertStringContainsString('no accesible', $html);
        $this->assertMatchesRegularExpression('#Eventos en espera</th><td>1</td>#', $html);
        $this->assertStringContainsString('en pausa tras un fallo', $html);
    }

    /** @return array<string, string> */
    private function spanish(): array
    {
        $_ADDONLANG = [];
        include dirname(__DIR__) . '/modules/addons/puente/lang/spanish.php';
        return $_ADDONLANG;
    }
}
