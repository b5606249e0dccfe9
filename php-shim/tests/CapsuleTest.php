<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\Addon;
use WHMCS\Module\Addon\Puente\Event;
use WHMCS\Module\Addon\Puente\Schema;
use WHMCS\Module\Addon\Puente\Settings;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\TableSpool;
use WHMCS\Module\Addon\Puente\TableState;

/**
 * The addon inside a WHMCS 8.4 database: settings from tbladdonmodules,
 * the spool and shared state as tables, activation and deactivation.
 *
 * @group capsule
 */
final class CapsuleTest extends CapsuleTestCase
{
    public function test_activation_creates_the_tables_and_deactivating_with_nothing_waiting_removes_them(): void
    {
        $this->assertSame('success', Addon::activate()['status']);
        $this->assertTrue(Capsule::schema()->hasTable(Schema::SPOOL));
        $this->assertTrue(Capsule::schema()->hasTable(Schema::STATE));
        $this->assertSame('success', Addon::activate()['status'], 'activating twice is harmless');

        $result = Addon::deactivate();

        $this->assertSame('success', $result['status']);
        $this->assertFalse(Capsule::schema()->hasTable(Schema::SPOOL));
        $this->assertFalse(Capsule::schema()->hasTable(Schema::STATE));
    }

    public function test_deactivating_with_events_waiting_keeps_them_and_says_how_to_send_or_drop_them(): void
    {
        Addon::activate();
        (new TableSpool())->append(new Event('evt_a', 'ClientAdd', 'default', '{}'));
        (new TableSpool())->append(new Event('evt_b', 'InvoicePaid', 'default', '{}'));

        $result = Addon::deactivate();

        $this->assertSame('info', $result['status']);
        $this->assertStringContainsString('2 events are still waiting', $result['description']);
        $this->assertStringContainsString('Send waiting events now', $result['description']);
        $this->assertStringContainsString('Discard waiting events', $result['description']);
        $this->assertSame(['evt_a', 'evt_b'], Capsule::table(Schema::SPOOL)->orderBy('seq')->pluck('webhook_id')->all());
        $this->assertTrue(Capsule::schema()->hasTable(Schema::STATE));

        // Activated again, the same events are there to be sent.
        $this->assertSame('success', Addon::activate()['status']);
        $this->assertSame(2, (new TableSpool())->count());
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
        $this->saveUnreachable();
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
        Addon::activate();
        $this->startService();

        $GLOBALS['whmcs_hooks']['UserChangePassword'][0](self::fixture('UserChangePassword'));
        $GLOBALS['whmcs_hooks']['UserLogin'][0](['user' => (object) ['id' => 1907, 'email' => 'amina@okafordesign.example']]);
        $GLOBALS['whmcs_hooks']['ClientChangePassword'][0](self::fixture('ClientChangePassword'));

        // User 1907 owns 1842 and 2210 and is only a user of 3001.
        [$password, $login, $client] = self::envelopes($this->service);
        $this->assertSame(['client_ids' => [1842, 2210]], $password['data']['_puente']);
        $this->assertSame(['client_ids' => [1842, 2210]], $login['data']['_puente']);
        $this->assertArrayNotHasKey('_puente', $client['data']);
    }

    public function test_without_the_users_table_user_hooks_are_still_forwarded(): void
    {
        Capsule::schema()->drop('tblusers_clients');
        Addon::activate();
        $this->startService();

        $GLOBALS['whmcs_hooks']['UserChangePassword'][0](self::fixture('UserChangePassword'));

        [$envelope] = self::envelopes($this->service);
        $this->assertSame(['userid' => 1907], $envelope['data']);
        WhmcsDatabase::audit(); // the failed read of the dropped table is the point of this test
    }

    public function test_an_unfinished_activation_does_not_refuse_upgrades(): void
    {
        // No Addon::activate(): the breaker's state table is missing.
        $this->startService()->answerDecision('{"return":[]}');

        $answer = $GLOBALS['whmcs_hooks']['ShoppingCartValidateUpgrade'][0](['id' => 7731, 'pid' => 13]);

        $this->assertSame([], $answer);
        $this->assertCount(1, $this->service->requests());
    }

    public function test_a_missing_spool_table_is_created_rather_than_losing_the_event(): void
    {
        $this->saveUnreachable();

        $GLOBALS['whmcs_hooks']['DomainDelete'][0](self::fixture('DomainDelete'));

        $this->assertSame(1, Capsule::table(Schema::SPOOL)->count());
        $this->assertSame('DomainDelete', Capsule::table(Schema::SPOOL)->value('type'));
    }

    public function test_the_admin_page_shows_the_state_and_sends_a_test_event(): void
    {
        Addon::activate();
        $this->startService();
        $_POST = ['puente_action' => 'test', 'token' => generate_token('plain')];

        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => []]);

        $this->assertMatchesRegularExpression('/Test event evt_\w+: delivered/', $html);
        $this->assertStringContainsString('reachable', $html);
        [$test, $health] = $this->service->requests();
        $this->assertSame('PuenteTestEvent', json_decode($test['body'], true)['type']);
        $this->assertSame('/healthz', $health['path']);
        $this->assertStringNotContainsString(self::SECRET, $html);
        // No admin in the session: no sign-in link to the dashboard.
        $this->assertStringNotContainsString('/admin/link?', $html);
    }

    public function test_the_admin_page_links_a_logged_in_admin_to_the_dashboard(): void
    {
        Addon::activate();
        $this->startService();
        $_SESSION['adminid'] = 4;

        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);

        $this->assertStringContainsString('Abrir el panel de puente', $html);
        $this->assertMatchesRegularExpression('#href="http://127\.0\.0\.1:\d+/admin/link\?instance=paneldecliente&amp;admin=4&amp;expires=\d+&amp;nonce=[0-9a-f]{32}&amp;signature=v1%2C#', $html);
        $this->assertStringNotContainsString(self::SECRET, $html);
    }

    public function test_the_admin_page_names_an_unreachable_service_and_what_waits(): void
    {
        Addon::activate();
        $this->saveUnreachable();
        $GLOBALS['whmcs_hooks']['ClientAdd'][0](self::fixture('ClientAdd'));

        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);

        $this->assertStringContainsString('no accesible', $html);
        $this->assertMatchesRegularExpression('#Eventos en espera</th><td>1</td>#', $html);
        $this->assertStringContainsString('en pausa tras un fallo', $html);
        $this->assertStringContainsString('Descartar eventos en espera', $html);
    }

    public function test_a_full_spool_table_keeps_the_oldest_and_the_admin_page_shows_the_dropped_ones(): void
    {
        Addon::activate();
        $this->saveUnreachable();
        Capsule::table('tbladdonmodules')->insert(['module' => 'puente', 'setting' => 'spool_limit', 'value' => '2']);
        Settings::forget();
        Shim::install(null);

        foreach (['ClientAdd', 'InvoicePaid', 'DomainDelete'] as $hook) {
            $GLOBALS['whmcs_hooks'][$hook][0](self::fixture($hook));
        }

        $this->assertSame(['ClientAdd', 'InvoicePaid'], Capsule::table(Schema::SPOOL)->orderBy('seq')->pluck('type')->all());
        $this->assertTrue((new TableSpool())->holdsAtLeast(2));
        $this->assertFalse((new TableSpool())->holdsAtLeast(3));
        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);
        $this->assertMatchesRegularExpression('#Eventos descartados \(cola llena\)</th><td><span class="label label-danger">1</span>#', $html);
        $this->assertStringContainsString('spool full (2 events): DomainDelete', $html);
    }

    public function test_waiting_events_are_discarded_only_with_the_box_ticked(): void
    {
        Addon::activate();
        $this->saveUnreachable();
        $GLOBALS['whmcs_hooks']['ClientAdd'][0](self::fixture('ClientAdd'));
        $GLOBALS['whmcs_hooks']['DomainDelete'][0](self::fixture('DomainDelete'));
        $ids = Capsule::table(Schema::SPOOL)->orderBy('seq')->pluck('webhook_id')->all();
        $token = generate_token('plain');

        $_POST = ['puente_action' => 'discard', 'token' => $token];
        $unconfirmed = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);
        $this->assertSame(2, Capsule::table(Schema::SPOOL)->count());
        $this->assertStringContainsString('No se descartó nada', $unconfirmed);

        $_POST = ['puente_action' => 'discard', 'token' => $token, 'confirm' => 'discard'];
        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);

        $this->assertSame(0, Capsule::table(Schema::SPOOL)->count());
        $this->assertStringContainsString('Eventos en espera descartados', $html);
        $logged = end($GLOBALS['whmcs_module_log']);
        $this->assertSame('discard', $logged['action']);
        foreach ($ids as $id) {
            $this->assertStringContainsString($id, $logged['response']);
        }
        $this->assertSame('success', Addon::deactivate()['status'], 'an emptied spool lets the tables go');
    }

    public function test_reauthentication_needs_the_logged_in_user_to_own_the_account(): void
    {
        $GLOBALS['whmcs_local_api'] = static fn (string $command, array $values): array =>
            $values['password2'] === 'right' ? ['result' => 'success', 'userid' => 1907] : ['result' => 'error'];
        $check = new WHMCS\Module\Addon\Puente\Reauthentication();

        $owner = $check->check('amina@okafordesign.example', 'right', 1907, 1842);
        $onlyAUser = $check->check('amina@okafordesign.example', 'right', 1907, 3001);
        $otherUser = $check->check('amina@okafordesign.example', 'right', 55, 4000);
        $wrong = $check->check('amina@okafordesign.example', 'wrong', 1907, 1842);
        $GLOBALS['whmcs_local_api'] = null;

        $this->assertSame([true, false, false, false], [$owner, $onlyAUser, $otherUser, $wrong]);
    }

    public function test_the_admin_page_warns_while_whmcs_cancels_unpaid_invoices_on_cancellation(): void
    {
        Addon::activate();
        $this->saveUnreachable();
        Capsule::table('tblconfiguration')->insert(['setting' => 'CancelInvoiceOnCancellation', 'value' => 'on']);
        $on = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);
        Capsule::table('tblconfiguration')->where('setting', 'CancelInvoiceOnCancellation')->update(['value' => '']);
        $off = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => $this->spanish()]);

        $this->assertStringContainsString('Cancel Unpaid Invoices', $on);
        $this->assertStringNotContainsString('Cancel Unpaid Invoices', $off);
    }

    public function test_the_transfer_page_offers_the_owners_domain_of_the_services_name(): void
    {
        Addon::activate();
        $this->startService()->answerClientAt('/v1/client/transfers', 201, '{"transfer_id":18,"status":"requested"}');
        $actions = new WHMCS\Module\Addon\Puente\ClientActions(Shim::forwarder(), fn (): int => $this->now);
        $client = WHMCS\Module\Addon\Puente\Context::from(['uid' => 1842], false, false, '/index.php', 1907);
        $page = static fn (array $request, bool $post = false): array =>
            WHMCS\Module\Addon\Puente\TransferPage::page($request, $post, $actions, $client, 'tok')['vars'];

        $offered = $page(['id' => '7731']);
        $notTheirs = $page(['id' => '8000']);
        $page(['id' => '7731', 'token' => 'tok', 'step' => 'request', 'recipient_email' => 'lucia@example.es', 'with_domain' => '1'], true);

        $this->assertSame(['id' => 912, 'name' => 'okafordesign.example'], $offered['domain']);
        $this->assertNull($notTheirs['domain'], 'service 8000 is client 2210\'s');
        $requests = array_values(array_filter($this->service->requests(), static fn (array $r): bool => $r['path'] === '/v1/client/transfers'));
        $this->assertSame(912, json_decode($requests[0]['body'], true)['data']['domain_id']);
    }

    /** @return array<string, string> */
    private function spanish(): array
    {
        $_ADDONLANG = [];
        include dirname(__DIR__) . '/modules/addons/puente/lang/spanish.php';
        return $_ADDONLANG;
    }
}
