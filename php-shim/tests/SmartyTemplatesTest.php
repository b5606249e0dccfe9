<?php

use WHMCS\Module\Addon\Puente\Messages;

/**
 * The addon's client-area templates rendered with Smarty 3.1 (Debian's
 * smarty3, the line WHMCS 8 bundles), as WHMCS renders them: with the
 * page's variables and the texts of the visitor's language.
 */
final class SmartyTemplatesTest extends ShimTestCase
{
    private const TEMPLATES = __DIR__ . '/../modules/addons/puente/templates';

    public static function setUpBeforeClass(): void
    {
        require_once '/usr/share/php/smarty3/Smarty.class.php';
    }

    /** @param array<string, mixed> $vars */
    private function render(string $template, array $vars): string
    {
        $smarty = new Smarty();
        $smarty->setTemplateDir(self::TEMPLATES);
        $smarty->setCompileDir($this->dir . '/compiled');
        $smarty->setCacheDir($this->dir . '/cache');
        $smarty->assign($vars);
        return $smarty->fetch($template . '.tpl');
    }

    /** @return array<string, mixed> the cancellation page before the request */
    private static function preview(string $language): array
    {
        return [
            'serviceid' => 7731, 'domainid' => 0, 'result' => null, 'error' => null, 'unavailable' => false,
            'token' => 'tok<en>', 'types' => ['Immediate', 'End of Billing Period'], 'chosen_type' => 'End of Billing Period',
            'email' => 'amina@okafordesign.example', 'awaiting' => null,
            'preview' => [
                'options' => [
                    ['type' => 'Immediate', 'effective_date' => '2025-12-01'],
                    ['type' => 'End of Billing Period', 'effective_date' => '2027-01-01'],
                ],
                'open_invoices' => [['id' => 902, 'total' => '100.00', 'balance' => '100.00', 'duedate' => '2026-01-01',
                    'url' => 'https://panel.example/viewinvoice.php?id=902']],
            ],
            'texts' => Messages::all($language),
        ];
    }

    /** @return array<string, array{0: string, 1: list<string>}> */
    public static function languages(): array
    {
        return [
            'Spanish' => ['spanish', ['Antes de dar de baja', 'Inmediata: el servicio se da de baja hoy (2025-12-01).',
                'sigue funcionando hasta el 2027-01-01', 'Lo ya pagado no se reembolsa', 'durante 10 años', 'Solicitar la baja']],
            'English' => ['english', ['Before you cancel', 'Immediately: the service is terminated today (2025-12-01).',
                'it keeps working until 2027-01-01', 'Nothing already paid is refunded', 'kept for 10 years', 'Request the cancellation']],
        ];
    }

    /**
     * @dataProvider languages
     * @param list<string> $phrases
     */
    public function test_the_cancellation_page_renders_its_conditions_dates_and_form(string $language, array $phrases): void
    {
        $html = $this->render('cancel', self::preview($language));

        foreach ($phrases as $phrase) {
            $this->assertStringContainsString(htmlspecialchars($phrase, ENT_QUOTES), $html);
        }
        $this->assertStringContainsString('<input type="hidden" name="token" value="tok&lt;en&gt;">', $html);
        $this->assertStringContainsString('name="password"', $html);
        $this->assertStringContainsString('value="End of Billing Period" checked', $html);
        $this->assertStringContainsString('href="https://panel.example/viewinvoice.php?id=902"', $html);
        $this->assertStringContainsString('action="index.php?m=puente&amp;action=cancel&amp;id=7731"', $html);
    }

    public function test_the_result_and_errors_render_escaped(): void
    {
        $vars = ['result' => ['outcome' => 'cancellation_requested', 'effective_date' => '2027-01-01', 'backup_retention_end' => '2037-01-01',
            'open_invoices' => []], 'error' => '<script>alert(1)</script>', 'preview' => null] + self::preview('english');

        $html = $this->render('cancel', $vars);

        $this->assertStringContainsString('Your cancellation request was received.', $html);
        $this->assertStringContainsString('<strong>2027-01-01</strong>', $html);
        $this->assertStringContainsString('Backups kept until 2037-01-01', $html);
        $this->assertStringContainsString('&lt;script&gt;', $html);
        $this->assertStringNotContainsString('<script>', $html);
        $this->assertStringNotContainsString('name="password"', $html, 'no form after the request');
    }

    public function test_a_cancellation_on_record_is_shown_with_its_dates_and_no_form(): void
    {
        $vars = ['preview' => ['cancellation' => ['type' => 'Immediate', 'requested_on' => '2025-12-01', 'status' => 'terminated',
            'effective_date' => '2025-12-01', 'termination_date' => '2025-12-01', 'backup_retention_end' => '2035-12-01',
            'open_invoices' => []], 'options' => [], 'open_invoices' => []]] + self::preview('spanish');

        $html = $this->render('cancel', $vars);

        $this->assertStringContainsString('La baja de este servicio se solicitó el 2025-12-01.', $html);
        $this->assertStringContainsString('Se dio de baja el <strong>2025-12-01</strong>', $html);
        $this->assertStringContainsString('2035-12-01', $html);
        $this->assertStringNotContainsString('name="password"', $html);
    }

    public function test_a_request_made_on_whmcs_form_is_shown_waiting_for_the_clients_confirmation(): void
    {
        $vars = ['awaiting' => 'Request <made> & waiting'] + self::preview('english');

        $html = $this->render('cancel', $vars);

        $this->assertStringContainsString('<div class="alert alert-warning puente-awaiting">Request &lt;made&gt; &amp; waiting</div>', $html);
        $this->assertStringContainsString('name="password"', $html, 'the form to confirm it');
    }

    public function test_the_diagnostics_tab_renders_each_row_with_its_result_escaped(): void
    {
        $html = $this->render('admin/diagnostics', [
            'modulelink' => 'addonmodules.php?module=puente&tab=diagnostics', 'token' => 't<k>', 'probe' => '& < > " \'',
            'texts' => Messages::all('spanish'), 'expired' => false, 'kept' => true, 'summary' => '1 bien, 1 avisos, 1 fallos.',
            'report' => "puente diagnostics <report>\n[FAIL] x",
            'rows' => [
                ['check' => 'php_version', 'label' => 'Versión de PHP', 'status' => 'pass', 'detail' => 'PHP 8.2', 'fix' => ''],
                ['check' => 'cron', 'label' => 'Cron de WHMCS', 'status' => 'warn', 'detail' => 'never <ran>', 'fix' => 'check & fix'],
                ['check' => 'whmcs_tables', 'label' => 'Tablas', 'status' => 'fail', 'detail' => 'missing: tbldomains.subscriptionid', 'fix' => 'x'],
            ],
        ]);

        $this->assertStringContainsString('<tr class="success" data-check="php_version">', $html);
        $this->assertStringContainsString('<tr class="warning" data-check="cron">', $html);
        $this->assertStringContainsString('<tr class="danger" data-check="whmcs_tables">', $html);
        $this->assertStringContainsString('<span class="label label-danger">FAIL</span>', $html);
        $this->assertStringContainsString('never &lt;ran&gt;', $html);
        $this->assertStringContainsString('check &amp; fix', $html);
        $this->assertStringContainsString('name="probe" value="&amp; &lt; &gt; &quot; &#039;"', $html);
        $this->assertStringContainsString('puente diagnostics &lt;report&gt;', $html);
        $this->assertStringContainsString('Ejecutar el diagnóstico', $html);
        $this->assertStringContainsString('El servicio guardó este informe', $html);
    }

    public function test_a_domain_is_explained_as_stopping_its_renewal(): void
    {
        $vars = ['serviceid' => 0, 'domainid' => 912] + self::preview('spanish');

        $html = $this->render('cancel', $vars);

        $this->assertStringContainsString('Los dominios no se dan de baja', $html);
        $this->assertStringContainsString('Desactivar la renovación', $html);
        $this->assertStringNotContainsString('name="type"', $html);
        $this->assertStringContainsString('domainid=912', $html);
    }

    /** @return array<string, array{0: string, 1: list<string>}> */
    public static function transferLanguages(): array
    {
        return [
            'Spanish' => ['spanish', ['Cómo funciona una transferencia', 'Transferir también el dominio okafordesign.example',
                'Solicitar la transferencia', 'Servicios que le ofrecen', 'esperando al otro cliente', 'Aceptar', 'Rechazar', 'Retirar']],
            'English' => ['english', ['How a transfer works', 'Move the domain okafordesign.example with it',
                'Ask for the transfer', 'Services offered to you', 'waiting for the other client', 'Accept', 'Decline', 'Withdraw']],
        ];
    }

    /**
     * @dataProvider transferLanguages
     * @param list<string> $phrases
     */
    public function test_the_transfers_page_renders_the_request_form_and_both_lists(string $language, array $phrases): void
    {
        $transfer = ['transfer_id' => 17, 'status' => 'requested', 'service_name' => 'Business Hosting', 'service_domain' => 'okafordesign.example',
            'recipient_email' => 'jose@example.com', 'expires_at' => '2026-12-08T10:00:00Z', 'approval' => 'none'];
        $html = $this->render('transfers', [
            'serviceid' => 7731, 'domain' => ['id' => 912, 'name' => 'okafordesign.example'], 'notice' => null, 'error' => null,
            'unavailable' => false, 'token' => 't0k', 'email' => '', 'texts' => Messages::all($language),
            'incoming' => [$transfer], 'outgoing' => [$transfer, ['status' => 'completed', 'transfer_id' => 16] + $transfer],
        ]);

        foreach ($phrases as $phrase) {
            $this->assertStringContainsString(htmlspecialchars($phrase, ENT_QUOTES), $html);
        }
        $this->assertSame(4, substr_count($html, '<input type="hidden" name="token" value="t0k">'), 'request, accept, decline, one withdraw');
        $this->assertStringNotContainsString('name="transfer" value="16"', $html, 'a completed transfer has no step left');
        $this->assertStringContainsString('<input type="hidden" name="transfer" value="17">', $html);
        $this->assertStringContainsString('name="with_domain" value="1"', $html);
    }

    public function test_the_upgrade_page_renders_the_quote_and_the_manual_request_form(): void
    {
        $html = $this->render('upgrade', [
            'serviceid' => 7731, 'pid' => 13, 'billingcycle' => 'annually', 'ticket' => null, 'error' => null, 'unavailable' => false,
            'token' => 'abc123', 'texts' => Messages::all('english'),
            'quote' => ['charge' => '50.00', 'currency' => 'USD', 'next_due_date' => '2026-07-02',
                'breakdown' => ['target_price' => '150.00', 'paid' => '100.00']],
        ]);

        $this->assertStringContainsString('<strong>50.00 USD</strong>', $html);
        $this->assertStringContainsString('2026-07-02', $html);
        $this->assertStringContainsString('<input type="hidden" name="token" value="abc123">', $html);
        $this->assertStringContainsString('upgrade.php?type=package&amp;id=7731', $html);
    }
}
