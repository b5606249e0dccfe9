<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\DiagnosticChecks;
use WHMCS\Module\Addon\Puente\Diagnostics;
use WHMCS\Module\Addon\Puente\Schema;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\Signer;

require_once __DIR__ . '/support/CurrentUser.php';

/**
 * The Diagnostics tab's checks on a WHMCS 8.4 database: every row passes on
 * a healthy install, a dropped column fails naming it, the service down
 * fails saying why, and the report goes to the service, signed.
 *
 * @group capsule
 */
final class DiagnosticsTest extends CapsuleTestCase
{
    /** The service's rows, as the fake service answers them. */
    private const SERVICE_ROWS = '{"rows":[{"check":"service","title":"puente service","status":"pass",'
        . '"detail":"the addon\'s signed request arrived as instance paneldecliente","fix":"","assumptions":[]},'
        . '{"check":"whmcs_api","title":"WHMCS API","status":"pass","detail":"WHMCS 8.13.1 answers","fix":"","assumptions":[23]}]}';

    private string $root;

    protected function setUp(): void
    {
        parent::setUp();
        require_once '/usr/share/php/smarty3/Smarty.class.php';
        $GLOBALS['CONFIG'] = ['Version' => '8.13.1-release.1'];
        // A WHMCS root holding the addon: action.php boots WHMCS from here.
        $this->root = $this->dir . '/whmcs';
        mkdir($this->root, 0700, true);
        touch($this->root . '/init.php');
        Schema::create();
    }

    protected function tearDown(): void
    {
        unset($GLOBALS['CONFIG']);
        parent::tearDown();
    }

    /** A healthy install: settings saved, the cron ran, the service up. */
    private function healthy(): void
    {
        $this->startService()->answerClientAt('/v1/diagnostics', 200, self::SERVICE_ROWS);
        Shim::forwarder()->sharedState()->write('last_cron', (string) json_encode(['at' => $this->now - 300, 'sapi' => 'cli']));
    }

    /**
     * @param ?string $probe what the form posted back
     * @return array<string, array<string, mixed>> rows by check
     */
    private function diagnose(?string $probe = DiagnosticChecks::PROBE): array
    {
        $result = (new Diagnostics(Shim::forwarder(), fn (): int => $this->now, $this->root))->run(
            ['posted_probe' => $probe, 'token_accepted' => true, 'admin_id' => 1, 'admin_area' => true],
            Context::from(['adminid' => 1], true, false, '/admin/addonmodules.php'),
        );
        $rows = [];
        foreach ($result['rows'] as $row) {
            $rows[$row['check']] = $row;
        }
        return $rows;
    }

    public function test_every_check_passes_on_a_healthy_8_4_install(): void
    {
        $this->healthy();

        $rows = $this->diagnose();

        foreach ($rows as $check => $row) {
            $this->assertSame('pass', $row['status'], "{$check}: {$row['detail']} / {$row['fix']}");
        }
        foreach (['php_version', 'whmcs_version', 'php_extensions', 'settings', 'whmcs_tables', 'addon_tables', 'module_log', 'cron',
            'hooks', 'posted_values', 'form_token', 'admin_session', 'users', 'action_file', 'upgrades_tab', 'default_currency',
            'invoice_lines', 'renewal_due_dates', 'upgrade_rows', 'cancel_unpaid_invoices', 'owner_columns', 'email_collation',
            'password_hashes', 'switches', 'smarty', 'upgrade_pages', 'problems', 'service', 'whmcs_api'] as $check) {
            $this->assertArrayHasKey($check, $rows);
        }
        $this->assertStringContainsString('all 77 columns of the 17 tables', $rows['whmcs_tables']['detail']);
        $this->assertStringContainsString('WHMCS 8.13.1-release.1', $rows['whmcs_version']['detail']);
    }

    public function test_the_report_goes_to_the_service_signed_from_the_admin_area(): void
    {
        $this->healthy();

        $this->diagnose();

        [$request] = array_values(array_filter($this->service->requests(), static fn (array $r): bool => $r['path'] === '/v1/diagnostics'));
        $this->assertTrue(Signer::verify([self::SECRET], $request['headers']['webhook-id'], $request['headers']['webhook-timestamp'],
            $request['headers']['webhook-signature'], $request['body'], (int) $request['headers']['webhook-timestamp']));
        $envelope = json_decode($request['body'], true);
        $this->assertSame('diagnostics.run', $envelope['type']);
        $this->assertSame(['kind' => 'admin', 'id' => 1], $envelope['context']['actor']);
        $this->assertSame(puente_version(), $envelope['data']['addon']['version']);
        $this->assertContains('InvoicePaid', $envelope['data']['addon']['hooks']);
        $this->assertContains('whmcs_tables', array_column($envelope['data']['rows'], 'check'));
    }

    public function test_a_dropped_column_fails_naming_it(): void
    {
        $this->healthy();
        Capsule::connection()->getPdo()->exec('ALTER TABLE tbldomains DROP COLUMN subscriptionid');
        \WHMCS\Module\Addon\Puente\Whmcs::forgetSchema();

        $row = $this->diagnose()['whmcs_tables'];

        $this->assertSame('fail', $row['status']);
        $this->assertStringContainsString('missing: tbldomains.subscriptionid', $row['detail']);
    }

    public function test_the_service_down_fails_saying_why(): void
    {
        $this->saveUnreachable();

        $row = $this->diagnose()['service'];

        $this->assertSame('fail', $row['status']);
        $this->assertStringContainsString('could not be reached', $row['detail']);
        $this->assertMatchesRegularExpression('/Connection refused|Failed to connect|Couldn\'t connect/i', $row['detail']);
        $this->assertStringContainsString('start the service', $row['fix']);
    }

    public function test_a_refused_signature_and_whmcs_escaping_posted_values_are_told_apart(): void
    {
        $this->startService()->answerClientAt('/v1/diagnostics', 401,
            '{"error":{"code":"invalid_signature","message":"no secret verifies the signature"}}');

        $rows = $this->diagnose(htmlspecialchars(DiagnosticChecks::PROBE, ENT_QUOTES));

        $this->assertSame('fail', $rows['service']['status']);
        $this->assertStringContainsString('PUENTE_HOOK_SECRETS', $rows['service']['fix']);
        $this->assertSame('pass', $rows['posted_values']['status']);
        $this->assertStringContainsString('HTML-escaped', $rows['posted_values']['detail']);
    }

    public function test_what_an_install_differs_in_is_warned_with_what_to_do(): void
    {
        $this->healthy();
        Capsule::table('tblconfiguration')->insert(['setting' => 'CancelInvoiceOnCancellation', 'value' => 'on']);
        Capsule::table('tblcurrencies')->update(['default' => 1]);
        Capsule::table('tblupgrades')->insert(['id' => 900, 'userid' => 1842, 'type' => 'package', 'relid' => 7731, 'newvalue' => 'thirteen']);
        Shim::forwarder()->sharedState()->write('last_cron', (string) json_encode(['at' => $this->now - 3 * 3600, 'sapi' => 'cli']));

        $rows = $this->diagnose(null);

        foreach (['cancel_unpaid_invoices', 'upgrade_rows', 'cron', 'posted_values'] as $check) {
            $this->assertSame('warn', $rows[$check]['status'], $check);
            $this->assertNotSame('', $rows[$check]['fix'] . $rows[$check]['detail'], $check);
        }
        $this->assertStringContainsString('#900', $rows['upgrade_rows']['detail']);
        $this->assertSame(Capsule::table('tblcurrencies')->count() === 1 ? 'pass' : 'warn', $rows['default_currency']['status']);
    }

    public function test_the_cron_says_when_and_on_which_php_it_ran(): void
    {
        $this->save('http://127.0.0.1:9');

        Shim::onCron();

        $last = json_decode((string) Shim::forwarder()->sharedState()->read('last_cron'), true);
        $this->assertEqualsWithDelta(time(), $last['at'], 5);
        $this->assertSame('cli', $last['sapi']);
    }

    public function test_the_report_text_names_every_row_and_what_to_do(): void
    {
        $text = Diagnostics::report([
            DiagnosticChecks::row('cron', 'WHMCS cron', 'warn', 'never ran', 'check the crontab'),
            DiagnosticChecks::row('php_version', 'PHP version', 'pass', 'PHP 8.2'),
        ], 1_800_000_000, 'paneldecliente');

        $this->assertStringContainsString('instance paneldecliente, 2027-01-15 08:00 UTC: 1 pass, 1 warn, 0 fail', $text);
        $this->assertStringContainsString("[WARN] WHMCS cron: never ran\n       fix: check the crontab", $text);
        $this->assertStringContainsString('[PASS] PHP version: PHP 8.2', $text);
    }
}
