<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's admin page (Addons > puente), two tabs:
 * - Status: is the service reachable, what waits, what failed, the problems
 *   staff must act on (also in the Activity Log), and buttons to send a test
 *   event, replay the spool now, or discard it on purpose;
 * - Diagnostics: every check of this WHMCS against what puente relies on
 *   (Diagnostics), rendered with Smarty, with a report to copy into a
 *   support request.
 * Every post carries the session's form token.
 */
final class AdminPage
{
    /**
     * @param array<string, mixed> $vars what WHMCS passes `_output` (`modulelink`, `_lang`)
     * @param \Closure(): int $clock
     */
    public static function render(array $vars, Forwarder $forwarder, \Closure $clock): string
    {
        $lang = is_array($vars['_lang'] ?? null) ? $vars['_lang'] + Messages::all('english') : Messages::all('spanish');
        $link = (string) ($vars['modulelink'] ?? '');
        $diagnostics = ($_GET['tab'] ?? '') === 'diagnostics';
        $tab = static fn (string $key, string $href, bool $active): string => '<li' . ($active ? ' class="active"' : '') . '><a href="'
            . htmlspecialchars($href, ENT_QUOTES) . '">' . htmlspecialchars((string) ($lang[$key] ?? $key), ENT_QUOTES) . '</a></li>';
        $html = '<ul class="nav nav-tabs" style="margin-bottom:1em">' . $tab('tab_status', $link, !$diagnostics)
            . $tab('tab_diagnostics', $link . '&tab=diagnostics', $diagnostics) . '</ul>';
        return $html . ($diagnostics ? self::diagnostics($link, $lang, $forwarder, $clock) : self::status($link, $lang, $forwarder, $clock));
    }

    /**
     * @param array<string, string> $lang
     * @param \Closure(): int $clock
     */
    private static function status(string $link, array $lang, Forwarder $forwarder, \Closure $clock): string
    {
        $t = static fn (string $key): string => htmlspecialchars((string) ($lang[$key] ?? $key), ENT_QUOTES);
        $e = static fn (mixed $text): string => htmlspecialchars((string) $text, ENT_QUOTES);
        $settings = $forwarder->settings();

        $token = FormToken::current();
        $notice = '';
        $action = (string) ($_POST['puente_action'] ?? '');
        if ($action !== '' && !FormToken::accepts($_POST['token'] ?? null, $token)) {
            $notice = (string) ($lang['form_expired'] ?? 'form_expired');
        } elseif ($action !== '') {
            $notice = match ($action) {
                'test' => self::sendTestEvent($forwarder, $lang, $clock),
                'replay' => self::replayNow($forwarder, $lang),
                'discard' => self::discardWaiting($forwarder, $lang, ($_POST['confirm'] ?? '') === 'discard'),
                'clear_problems' => self::clearProblems($forwarder, $lang),
                default => '',
            };
        }

        // Each replica's URL, with whether it answers now.
        $services = [];
        foreach ($settings->urls === [] ? [''] : $settings->urls as $url) {
            $health = $url === ''
                ? new Response(0, '', (string) $settings->problem())
                : (new Transport())->get($url . '/healthz', $settings->connectTimeoutMs, $settings->totalTimeoutMs);
            $services[] = $e($url ?: '-') . ' ' . ($health->isSuccess()
                ? '<span class="label label-success">' . $t('reachable') . '</span>'
                : '<span class="label label-danger">' . $t('unreachable') . '</span> ' . $e($health->describe()));
        }
        $status = $forwarder->status();
        $rows = [
            $t('service') => implode('<br>', $services),
            $t('settings') => $settings->isComplete() ? $t('complete') : $e($settings->problem()),
            $t('instance') => $e($settings->instance),
            $t('spooled') => $e($status['spooled'] ?? '?'),
            $t('rejected') => $e($status['rejected']),
            $t('overflowed') => $status['overflowed'] > 0
                ? '<span class="label label-danger">' . $e($status['overflowed']) . '</span> ' . $t('overflowed_help')
                : '0',
            $t('breaker') => $status['breaker_open'] ? $t('breaker_open') : $t('breaker_closed'),
            $t('last_error') => $status['last_error'] === null ? '-'
                : $e(gmdate('Y-m-d H:i:s', (int) $status['last_error']['at']) . ' UTC: ' . $status['last_error']['message']),
        ];
        $html = $notice === '' ? '' : '<div class="alert alert-info">' . $e($notice) . '</div>';
        // WHMCS would cancel the invoices the panel's rules keep payable.
        if (in_array(strtolower((string) Whmcs::setting('CancelInvoiceOnCancellation')), ['on', '1', 'yes', 'true'], true)) {
            $html .= '<div class="alert alert-warning">' . $t('cancel_invoices_setting') . '</div>';
        }
        $html .= '<table class="table table-condensed" style="max-width:60em">';
        foreach ($rows as $label => $value) {
            $html .= "<tr><th>{$label}</th><td>{$value}</td></tr>";
        }
        $html .= '</table>';
        $html .= self::problems($forwarder->problems()->recent(), $link, $token, $t, $e);
        $dashboard = DashboardLink::make($settings, Context::loggedInAdmin($_SESSION ?? []), ($clock)());
        if ($dashboard !== null) {
            $html .= '<p><a class="btn btn-primary" target="_blank" rel="noopener noreferrer" href="' . $e($dashboard) . '">'
                . $t('open_dashboard') . '</a> <small>' . $t('open_dashboard_help') . '</small></p>';
        }
        $forms = ['test' => ['send_test_event', ''], 'replay' => ['replay_now', '']];
        if (($status['spooled'] ?? 0) > 0) {
            // Dropping events is never one click: the box must be ticked too.
            $forms['discard'] = ['discard_waiting', '<label style="font-weight:normal;margin-right:.5em">'
                . '<input type="checkbox" name="confirm" value="discard"> ' . $t('discard_confirm') . '</label>'];
        }
        foreach ($forms as $value => [$label, $extra]) {
            $html .= self::button($link, $token, $value, $t($label), $extra);
        }
        return $html;
    }

    /**
     * The problems staff must act on, most recent first.
     *
     * @param array<string, array<string, mixed>> $problems
     * @param \Closure(string): string $t
     * @param \Closure(mixed): string $e
     */
    private static function problems(array $problems, string $link, string $token, \Closure $t, \Closure $e): string
    {
        $html = '<h3>' . $t('problems') . '</h3>';
        if ($problems === []) {
            return $html . '<p>' . $t('problems_none') . '</p>';
        }
        $html .= '<p>' . $t('problems_help') . '</p><table class="table table-condensed puente-problems"><tr><th>'
            . $t('problem_last') . '</th><th>' . $t('problem_what') . '</th><th>' . $t('problem_count') . '</th></tr>';
        foreach ($problems as $problem) {
            $html .= '<tr><td>' . $e(gmdate('Y-m-d H:i', (int) $problem['last_at']) . ' UTC') . '</td><td>' . $e($problem['message'])
                . '</td><td>' . $e($problem['count']) . '</td></tr>';
        }
        return $html . '</table>' . self::button($link, $token, 'clear_problems', $t('problems_clear'), '');
    }

    /**
     * The Diagnostics tab: the button, and after it every row and the report.
     *
     * @param array<string, string> $lang
     * @param \Closure(): int $clock
     */
    private static function diagnostics(string $link, array $lang, Forwarder $forwarder, \Closure $clock): string
    {
        $token = FormToken::current();
        $vars = ['modulelink' => $link . '&tab=diagnostics', 'token' => $token, 'probe' => DiagnosticChecks::PROBE, 'texts' => $lang,
            'rows' => [], 'report' => '', 'kept' => false, 'expired' => false, 'summary' => ''];
        if (($_POST['puente_action'] ?? '') === 'diagnose') {
            $accepted = FormToken::accepts($_POST['token'] ?? null, $token);
            if (!$accepted) {
                $vars['expired'] = true;
            } else {
                $posted = is_string($_POST['probe'] ?? null) ? $_POST['probe'] : null;
                $result = (new Diagnostics($forwarder, $clock))->run([
                    'posted_probe' => $posted,
                    'token_accepted' => $accepted,
                    'admin_id' => Context::loggedInAdmin($_SESSION ?? []),
                    'admin_area' => defined('ADMINAREA'),
                ], Context::detect());
                $rows = array_map(static fn (array $row): array => $row + ['label' => (string) ($lang['diag_' . $row['check']] ?? $row['title'])],
                    $result['rows']);
                $counts = array_count_values(array_column($rows, 'status'));
                $vars = ['rows' => $rows, 'kept' => $result['kept'],
                    'report' => Diagnostics::report($rows, $result['at'], $forwarder->settings()->instance),
                    'summary' => sprintf((string) ($lang['diag_summary'] ?? '%d / %d / %d'), $counts['pass'] ?? 0, $counts['warn'] ?? 0,
                        $counts['fail'] ?? 0)] + $vars;
            }
        }
        return self::template('diagnostics', $vars);
    }

    /**
     * Renders one of the addon's admin templates with the Smarty WHMCS
     * ships; without it (never inside WHMCS), the report as text.
     *
     * @param array<string, mixed> $vars
     */
    private static function template(string $name, array $vars): string
    {
        if (!class_exists('Smarty')) {
            return '<pre>' . htmlspecialchars((string) ($vars['report'] ?? ''), ENT_QUOTES) . '</pre>';
        }
        $smarty = new \Smarty();
        $smarty->setTemplateDir(dirname(__DIR__) . '/templates/admin');
        $smarty->setCompileDir(self::compileDir());
        $smarty->assign($vars);
        return $smarty->fetch($name . '.tpl');
    }

    /**
     * Where Smarty writes the compiled templates: a folder of WHMCS's own
     * `$templates_compiledir` (configuration.php; relative to the WHMCS
     * root), else of the system's temporary folder, readable by no one else.
     */
    private static function compileDir(): string
    {
        $configured = $GLOBALS['templates_compiledir'] ?? '';
        if (is_string($configured) && $configured !== '' && $configured[0] !== '/') {
            $configured = dirname(__DIR__, 4) . '/' . $configured;
        }
        $base = is_string($configured) && $configured !== '' && is_dir($configured) && is_writable($configured)
            ? $configured : sys_get_temp_dir();
        $dir = rtrim($base, '/') . '/puente-admin';
        if (!is_dir($dir)) {
            @mkdir($dir, 0700, true);
        }
        return $dir;
    }

    private static function button(string $link, string $token, string $action, string $label, string $extra): string
    {
        return '<form method="post" action="' . htmlspecialchars($link, ENT_QUOTES) . '" style="display:inline-block;margin-right:1em">'
            . FormToken::field($token) . '<input type="hidden" name="puente_action" value="' . htmlspecialchars($action, ENT_QUOTES) . '">'
            . $extra . '<button type="submit" class="btn btn-default">' . $label . '</button></form>';
    }

    /**
     * @param array<string, string> $lang
     * @param \Closure(): int $clock
     */
    private static function sendTestEvent(Forwarder $forwarder, array $lang, \Closure $clock): string
    {
        $event = Event::envelope('PuenteTestEvent', ['sent_from' => 'addon admin page'], Context::detect(), $forwarder->settings()->instance,
            ($clock)());
        $outcome = $forwarder->dispatch($event);
        return sprintf('%s %s: %s', $lang['test_event'] ?? 'Test event', $event->id, $lang["outcome_{$outcome}"] ?? $outcome);
    }

    /** @param array<string, string> $lang */
    private static function discardWaiting(Forwarder $forwarder, array $lang, bool $confirmed): string
    {
        if (!$confirmed) {
            return $lang['discard_unconfirmed'] ?? 'discard_unconfirmed';
        }
        return sprintf('%s: %d', $lang['discarded'] ?? 'Discarded', $forwarder->discardWaiting());
    }

    /** @param array<string, string> $lang */
    private static function replayNow(Forwarder $forwarder, array $lang): string
    {
        $report = $forwarder->replay(500, 20.0);
        return sprintf('%s: %d / %d%s', $lang['replayed'] ?? 'Replayed', $report['delivered'], $report['rejected'],
            $report['failed'] ? ' - ' . ($lang['replay_failed'] ?? 'the service failed; the rest waits') : '');
    }

    /** @param array<string, string> $lang */
    private static function clearProblems(Forwarder $forwarder, array $lang): string
    {
        $forwarder->problems()->clear();
        return $lang['problems_cleared'] ?? 'problems_cleared';
    }
}
