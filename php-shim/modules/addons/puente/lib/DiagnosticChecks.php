<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's side of the Diagnostics tab: read-only checks of this WHMCS
 * against what puente relies on, each a row `pass`, `warn` or `fail` with
 * what was found and what to do. Every WHMCS fact docs/WHMCS-ASSUMPTIONS.md
 * could not confirm from a source names the row that checks it here
 * (`assumptions`). The service adds its own rows (Diagnostics).
 */
final class DiagnosticChecks
{
    /** The value posted back by the Diagnostics form, to see how WHMCS hands posted values over. */
    public const PROBE = '& < > " \'';

    /** Lines of each kind sampled in the invoice-line checks. */
    private const SAMPLE = 200;

    /** Seconds after which a cron that has not run is worth a warning. */
    private const CRON_LATE = 7200;

    /** The WHMCS root: where action.php finds init.php. */
    private string $whmcsRoot;

    /**
     * @param \Closure(): int $clock
     * @param ?string $whmcsRoot the WHMCS root; by default three folders above the addon's
     */
    public function __construct(private Forwarder $forwarder, private \Closure $clock, ?string $whmcsRoot = null)
    {
        $this->whmcsRoot = $whmcsRoot ?? dirname(__DIR__, 4);
    }

    /**
     * Every check, in the order the page shows them.
     *
     * @param array{posted_probe: ?string, token_accepted: bool, admin_id: ?int, admin_area: bool} $request
     *        what the Diagnostics request itself shows of WHMCS
     * @return list<array<string, mixed>>
     */
    public function all(array $request): array
    {
        $checks = [
            fn (): array => $this->phpVersion(),
            fn (): array => $this->whmcsVersion(),
            fn (): array => $this->extensions(),
            fn (): array => $this->settings(),
        ];
        if (Whmcs::hasDatabase()) {
            array_push($checks,
                fn (): array => $this->tables(),
                fn (): array => $this->addonTables(),
                fn (): array => $this->moduleLog(),
                fn (): array => $this->cron(),
                fn (): array => $this->hooks(),
                fn (): array => $this->postedValues($request['posted_probe'] ?? null),
                fn (): array => $this->formToken((bool) ($request['token_accepted'] ?? false)),
                fn (): array => $this->adminSession($request['admin_id'] ?? null, (bool) ($request['admin_area'] ?? false)),
                fn (): array => $this->users(),
                fn (): array => $this->actionEndpoint(),
                fn (): array => $this->upgradesTab(),
                fn (): array => $this->defaultCurrency(),
                fn (): array => $this->invoiceLines(),
                fn (): array => $this->renewalDueDates(),
                fn (): array => $this->upgradeRows(),
                fn (): array => $this->cancelUnpaidInvoices(),
                fn (): array => $this->ownerColumns(),
                fn (): array => $this->emailCollation(),
                fn (): array => $this->passwordHashes(),
                fn (): array => $this->switches(),
                fn (): array => $this->smarty(),
                fn (): array => $this->upgradePages(),
                fn (): array => $this->problems(),
            );
        } else {
            $checks[] = static fn (): array => self::row('whmcs_database', 'WHMCS database', 'fail',
                'this PHP has no WHMCS database (WHMCS\Database\Capsule)', 'open this page inside WHMCS\'s admin area');
        }
        $rows = [];
        foreach ($checks as $check) {
            try {
                $rows[] = $check();
            } catch (\Throwable $e) {
                $rows[] = self::row('check_failed', 'A check', 'fail', 'a check could not run: ' . get_class($e) . ': ' . $e->getMessage(),
                    'send this report with a support request');
            }
        }
        return $rows;
    }

    /**
     * One row of the report.
     *
     * @param list<int|string> $assumptions the rows of docs/WHMCS-ASSUMPTIONS.md it checks
     * @return array<string, mixed>
     */
    public static function row(string $check, string $title, string $status, string $detail, string $fix = '', array $assumptions = []): array
    {
        return ['check' => $check, 'title' => $title, 'status' => $status, 'detail' => $detail, 'fix' => $fix,
            'assumptions' => $assumptions];
    }

    private function phpVersion(): array
    {
        $floor = puente_floor()['php'];
        $ok = version_compare(PHP_VERSION, $floor, '>=');
        return self::row('php_version', 'PHP version', $ok ? 'pass' : 'fail', 'PHP ' . PHP_VERSION . " ({$floor} or newer needed), " . PHP_SAPI,
            $ok ? '' : "run WHMCS on PHP {$floor} or newer (WHMCS supports it from 8.6)", [57]);
    }

    private function whmcsVersion(): array
    {
        $version = puente_whmcs_version();
        $floor = puente_floor()['whmcs'];
        if ($version === '') {
            return self::row('whmcs_version', 'WHMCS version', 'warn', 'WHMCS did not say its version (tblconfiguration Version)',
                "make sure this is WHMCS {$floor} or newer", [16, 57]);
        }
        $ok = version_compare((string) preg_replace('/-.*$/', '', $version), $floor, '>=');
        return self::row('whmcs_version', 'WHMCS version', $ok ? 'pass' : 'fail', "WHMCS {$version} ({$floor} or newer needed)",
            $ok ? '' : "upgrade WHMCS to {$floor} or newer", [16, 57]);
    }

    private function extensions(): array
    {
        $missing = array_values(array_filter(['curl', 'json', 'hash', 'mbstring'], static fn (string $name): bool => !extension_loaded($name)));
        return self::row('php_extensions', 'PHP extensions', $missing === [] ? 'pass' : 'fail',
            $missing === [] ? 'curl, json, hash and mbstring are loaded' : 'missing: ' . implode(', ', $missing),
            $missing === [] ? '' : 'install and enable them in the PHP that runs WHMCS (web server and cron)');
    }

    private function settings(): array
    {
        $settings = $this->forwarder->settings();
        $problem = $settings->problem();
        return self::row('settings', 'Addon settings', $problem === null ? 'pass' : 'fail',
            $problem ?? 'service ' . implode(', ', $settings->urls) . ", instance {$settings->instance}, " . count($settings->secrets) . ' signing secret(s)',
            $problem === null ? '' : 'fill in the service URL and signing secret under Configuration > Addon Modules > puente');
    }

    private function tables(): array
    {
        $differences = WhmcsTables::differences();
        $count = array_sum(array_map(static fn (array $table): int => count($table['columns']), WhmcsTables::TABLES));
        if ($differences['missing'] !== []) {
            return self::row('whmcs_tables', 'WHMCS tables and columns', 'fail', 'missing: ' . implode(', ', $differences['missing'])
                . ($differences['retyped'] === [] ? '' : '; of another type: ' . implode(', ', $differences['retyped'])),
                'puente cannot run its rules on this database: send this report with a support request', [10, 22, 29, 32, 33, 50]);
        }
        if ($differences['retyped'] !== []) {
            return self::row('whmcs_tables', 'WHMCS tables and columns', 'warn', 'of another type than in WHMCS 8.4: '
                . implode(', ', $differences['retyped']), 'send this report with a support request', [10, 22, 29, 32, 33, 50]);
        }
        return self::row('whmcs_tables', 'WHMCS tables and columns', 'pass',
            sprintf('all %d columns of the %d tables puente reads or writes are there, of the types of WHMCS 8.4', $count,
                count(WhmcsTables::TABLES)), '', [10, 22, 29, 32, 33, 50]);
    }

    private function addonTables(): array
    {
        $missing = array_values(array_filter([Schema::SPOOL, Schema::STATE], static fn (string $table): bool => !Capsule::schema()->hasTable($table)));
        return self::row('addon_tables', 'The addon\'s tables', $missing === [] ? 'pass' : 'fail',
            $missing === [] ? Schema::SPOOL . ' and ' . Schema::STATE . ' exist' : 'missing: ' . implode(', ', $missing),
            $missing === [] ? '' : 'deactivate and activate the addon again', [37]);
    }

    private function moduleLog(): array
    {
        $on = in_array(strtolower((string) Whmcs::setting('ModuleDebugMode')), ['on', '1', 'yes', 'true'], true);
        return self::row('module_log', 'Module log', 'pass', $on
            ? 'on: every call the addon makes is in Configuration > System Logs > Module Log'
            : 'off (WHMCS\'s default): failures staff must act on still reach the Activity Log and the Status tab',
            $on ? 'switch it off again when done: it keeps request bodies' : '', [11]);
    }

    private function cron(): array
    {
        $last = json_decode((string) $this->forwarder->sharedState()->read('last_cron'), true);
        if (!is_array($last)) {
            return self::row('cron', 'WHMCS cron', 'warn', 'the cron has not run since the addon was activated',
                'check that WHMCS\'s cron runs every 5 minutes (crons/cron.php): it sends the events that waited', [12, 44]);
        }
        $ago = ($this->clock)() - (int) ($last['at'] ?? 0);
        $when = gmdate('Y-m-d H:i', (int) $last['at']) . ' UTC (' . (string) ($last['sapi'] ?? '?') . ')';
        return self::row('cron', 'WHMCS cron', $ago <= self::CRON_LATE ? 'pass' : 'warn', "last run {$when}",
            $ago <= self::CRON_LATE ? '' : 'the cron has not run for over two hours: check crons/cron.php in the server\'s crontab', [12, 44]);
    }

    private function hooks(): array
    {
        $settings = $this->forwarder->settings();
        $off = array_values(array_filter(Settings::GROUPS, static fn (string $group): bool => !$settings->forwards($group)));
        $detail = count(HookCatalog::hooks()) . ' hook points forwarded' . ($off === [] ? ', every group on' : '; off: ' . implode(', ', $off))
            . '; the service lists when each last arrived';
        return self::row('hooks', 'Forwarded hooks', 'pass', $detail, $off === [] ? '' : 'the rules of a group switched off see none of its events', [1, 7]);
    }

    private function postedValues(?string $posted): array
    {
        if ($posted === null) {
            return self::row('posted_values', 'Posted form values', 'warn', 'not checked: run the diagnostics with the button',
                '', [17, 38]);
        }
        if ($posted === self::PROBE) {
            return self::row('posted_values', 'Posted form values', 'pass', 'they reach the addon as typed (& < > " \')', '', [17, 38]);
        }
        if (html_entity_decode($posted, ENT_QUOTES | ENT_HTML5, 'UTF-8') === self::PROBE) {
            return self::row('posted_values', 'Posted form values', 'pass',
                'WHMCS hands them over HTML-escaped (' . $posted . '): passwords are checked in both forms', '', [17, 38]);
        }
        return self::row('posted_values', 'Posted form values', 'warn', 'they arrive changed: ' . json_encode($posted),
            'send this report with a support request: passwords with these characters may not be recognised', [17, 38]);
    }

    private function formToken(bool $accepted): array
    {
        $available = function_exists('generate_token');
        return self::row('form_token', 'Form token', $available && $accepted ? 'pass' : 'warn',
            $available ? ($accepted ? 'generate_token(\'plain\') is the token WHMCS posts back' : 'the posted token differed from generate_token(\'plain\')')
                : 'generate_token is missing', $available && $accepted ? '' : 'send this report with a support request: the addon\'s buttons do nothing', [17]);
    }

    private function adminSession(?int $adminId, bool $adminArea): array
    {
        $ok = $adminId !== null && $adminArea;
        return self::row('admin_session', 'Admin session', $ok ? 'pass' : 'warn',
            $ok ? "ADMINAREA is defined and \$_SESSION['adminid'] is {$adminId}" : 'this page did not see the admin area\'s session',
            $ok ? '' : 'events from the admin area may be attributed to the system instead of the admin', [13, 56]);
    }

    private function users(): array
    {
        $currentUser = class_exists('WHMCS\\Authentication\\CurrentUser');
        $owners = Capsule::table('tblusers_clients')->where('owner', 1)->count();
        return self::row('users', 'Users and account owners', $currentUser ? 'pass' : 'warn',
            ($currentUser ? 'WHMCS\Authentication\CurrentUser is there' : 'WHMCS\Authentication\CurrentUser is missing')
            . "; {$owners} accounts have an owner user", $currentUser ? '' : 'clients cannot confirm cancellations without WHMCS 8 users', [15, 22, 39]);
    }

    private function actionEndpoint(): array
    {
        $init = $this->whmcsRoot . '/init.php';
        $found = is_file($init);
        return self::row('action_file', 'action.php', $found ? 'pass' : 'warn',
            $found ? 'it boots WHMCS from ' . $init . '; the service calls it back below' : "WHMCS's init.php is not at {$init}",
            $found ? '' : 'install the addon in modules/addons/puente/ under the WHMCS root', [19]);
    }

    private function upgradesTab(): array
    {
        if (!Capsule::schema()->hasTable('tblproduct_upgrade_products')) {
            return self::row('upgrades_tab', 'Upgrades tab', 'fail', 'tblproduct_upgrade_products is missing',
                'send this report with a support request', [29, '29a']);
        }
        $rows = Capsule::table('tblproduct_upgrade_products')->count();
        $old = Whmcs::has('tblproducts', 'upgradepackages');
        return self::row('upgrades_tab', 'Upgrades tab', 'pass', "{$rows} upgrade targets in tblproduct_upgrade_products"
            . ($old ? '; WHMCS 7\'s tblproducts.upgradepackages is read for products without rows' : ''), '', [29, '29a']);
    }

    private function defaultCurrency(): array
    {
        $defaults = Capsule::table('tblcurrencies')->where('default', 1)->pluck('code')->map(static fn ($code): string => (string) $code)->all();
        return self::row('default_currency', 'Default currency', count($defaults) === 1 ? 'pass' : 'warn',
            $defaults === [] ? 'no currency is the default' : 'default: ' . implode(', ', $defaults),
            count($defaults) === 1 ? '' : 'mark one currency as the default (clients with currency 0 pay in it)', ['29b']);
    }

    /** Whether invoice lines' relids point where puente reads them (#32, #52). */
    private function invoiceLines(): array
    {
        $kinds = [
            'service lines (Hosting, PromoHosting, Setup)' => [['Hosting', 'PromoHosting', 'Setup'], 'tblhosting'],
            'addon lines (Addon)' => [['Addon'], 'tblhostingaddons'],
            'upgrade lines (Upgrade)' => [['Upgrade'], 'tblupgrades'],
            'domain lines (Domain…)' => [null, 'tbldomains'],
        ];
        $found = [];
        $doubtful = [];
        foreach ($kinds as $name => [$types, $table]) {
            $lines = Capsule::table('tblinvoiceitems')->orderBy('id', 'desc')->limit(self::SAMPLE);
            $types === null ? $lines->where('type', 'like', 'Domain%') : $lines->whereIn('type', $types);
            $relids = $lines->pluck('relid')->map(static fn ($id): int => (int) $id)->all();
            if ($relids === []) {
                continue;
            }
            $known = Capsule::table($table)->whereIn('id', array_unique($relids))->count();
            $share = $known / count(array_unique($relids));
            $found[] = sprintf('%s: %d of %d point at %s', $name, $known, count(array_unique($relids)), $table);
            if ($share < 0.5) {
                $doubtful[] = $name;
            }
        }
        $detail = $found === [] ? 'no invoice lines to sample yet' : implode('; ', $found);
        return self::row('invoice_lines', 'Invoice lines', $doubtful === [] ? 'pass' : 'warn', $detail,
            $doubtful === [] ? '' : 'most ' . implode(', ', $doubtful) . ' point at no row: send this report with a support request '
                . '(a deleted record leaves some behind; most is unexpected)', [32, 52]);
    }

    /** Whether a renewal line's due date is its invoice's (#41). */
    private function renewalDueDates(): array
    {
        $lines = Capsule::table('tblinvoiceitems')->join('tblinvoices', 'tblinvoices.id', '=', 'tblinvoiceitems.invoiceid')
            ->where('tblinvoiceitems.type', 'Hosting')->orderBy('tblinvoiceitems.id', 'desc')->limit(self::SAMPLE)
            ->get(['tblinvoiceitems.duedate as line_due', 'tblinvoices.duedate as invoice_due']);
        if ($lines->isEmpty()) {
            return self::row('renewal_due_dates', 'Renewal due dates', 'pass', 'no renewal lines to sample yet', '', [41, 42]);
        }
        $same = $lines->filter(static fn ($line): bool => (string) $line->line_due === (string) $line->invoice_due)->count();
        $ok = $same / $lines->count() >= 0.8;
        return self::row('renewal_due_dates', 'Renewal due dates', $ok ? 'pass' : 'warn',
            "{$same} of {$lines->count()} renewal lines are due on their invoice's due date",
            $ok ? '' : 'End of Billing Period dates rest on it: send this report with a support request', [41, 42]);
    }

    /** Whether upgrade rows name their target as puente reads them (#33a). */
    private function upgradeRows(): array
    {
        $rows = Capsule::table('tblupgrades')->whereIn('type', ['package', 'service'])->orderBy('id', 'desc')->limit(50)
            ->get(['id', 'type', 'newvalue', 'new_cycle']);
        $odd = $rows->filter(static fn ($row): bool => $row->type === 'package'
            ? preg_match('/^\d+,\w[\w-]*$/', (string) $row->newvalue) !== 1
            : preg_match('/^\d+$/', (string) $row->newvalue) !== 1)->pluck('id')->all();
        return self::row('upgrade_rows', 'Upgrade orders', $odd === [] ? 'pass' : 'warn',
            $rows->isEmpty() ? 'no product upgrade orders yet' : "{$rows->count()} recent product upgrades read"
                . ($odd === [] ? '' : '; unexpected newvalue in #' . implode(', #', $odd)),
            $odd === [] ? '' : 'send this report with a support request: those upgrades are refused, not applied', ['33a']);
    }

    private function cancelUnpaidInvoices(): array
    {
        $on = in_array(strtolower((string) Whmcs::setting('CancelInvoiceOnCancellation')), ['on', '1', 'yes', 'true'], true);
        return self::row('cancel_unpaid_invoices', 'Cancel unpaid invoices', $on ? 'warn' : 'pass',
            $on ? 'on: WHMCS cancels the invoices the panel\'s rules keep payable' : 'off, as the panel\'s rules need',
            $on ? 'switch off "Cancel Unpaid Invoices" under Configuration > System Settings > General Settings > Invoices' : '', [46]);
    }

    /** Tables naming both a service and a client that a move leaves alone (#50). */
    private function ownerColumns(): array
    {
        $moved = ['tblhosting', 'tblhostingaddons', 'tblsslorders'];
        $suspects = [];
        foreach (self::allColumns() as $table => $columns) {
            $service = array_intersect($columns, ['serviceid', 'service_id', 'hostingid']) !== [];
            $client = array_intersect($columns, ['userid', 'clientid', 'client_id']) !== [];
            if ($service && $client && !in_array($table, $moved, true)) {
                $suspects[] = $table;
            }
        }
        return self::row('owner_columns', 'Owner of a service', $suspects === [] ? 'pass' : 'warn',
            $suspects === [] ? 'no table but ' . implode(', ', $moved) . ' names both a service and its client'
                : 'a move leaves these tables, which name a service and a client, as they are: ' . implode(', ', $suspects),
            $suspects === [] ? '' : 'check whether they belong to the new owner after a transfer; tell puente\'s maintainers', [50]);
    }

    private function emailCollation(): array
    {
        if (Capsule::connection()->getDriverName() !== 'mysql') {
            return self::row('email_collation', 'Email comparison', 'pass', 'not MySQL: puente compares emails in lower case', '', [54]);
        }
        $collation = (string) Capsule::connection()->selectOne('SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS'
            . " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tblclients' AND COLUMN_NAME = 'email'")?->c;
        $insensitive = str_ends_with($collation, '_ci');
        return self::row('email_collation', 'Email comparison', $insensitive ? 'pass' : 'warn', "tblclients.email is {$collation}",
            $insensitive ? '' : 'emails differing only in case are different clients to MySQL; puente compares them in lower case', [54]);
    }

    /** How many users' passwords puente can check without ValidateLogin. */
    private function passwordHashes(): array
    {
        $hashes = Capsule::table('tblusers')->where('password', '!=', '')->limit(500)->pluck('password')->all();
        $php = count(array_filter($hashes, static fn ($hash): bool => password_get_info((string) $hash)['algoName'] !== 'unknown'));
        $other = count($hashes) - $php;
        return self::row('password_hashes', 'Password hashes', 'pass', $hashes === [] ? 'no user has a password yet'
            : "{$php} of " . count($hashes) . ' sampled users have PHP password hashes (checked without touching the client\'s session)'
            . ($other > 0 ? "; {$other} older hashes are checked with WHMCS's ValidateLogin" : ''), '', [38]);
    }

    /** How WHMCS saved the addon's yes/no settings (#8). */
    private function switches(): array
    {
        $switches = array_merge(array_map(static fn (string $group): string => "forward_{$group}", Settings::GROUPS), ['handle_cancellations']);
        $values = Capsule::table('tbladdonmodules')->where('module', Settings::MODULE)->whereIn('setting', $switches)
            ->pluck('value')->map(static fn ($value): string => (string) $value)->unique()->values()->all();
        $odd = array_values(array_diff($values, ['', 'on']));
        return self::row('switches', 'Yes/no settings', $odd === [] ? 'pass' : 'warn',
            $values === [] ? 'not saved yet (every switch is on)' : 'saved as: ' . implode(', ', array_map('json_encode', $values)),
            $odd === [] ? '' : 'puente reads on, 1, yes and true as ticked: check the switches on the settings page', [8]);
    }

    private function smarty(): array
    {
        $version = class_exists('Smarty') && defined('Smarty::SMARTY_VERSION') ? (string) constant('Smarty::SMARTY_VERSION') : '';
        if ($version === '') {
            return self::row('smarty', 'Smarty', 'warn', 'the Smarty class is not loaded here', 'the client pages need WHMCS\'s Smarty', [47]);
        }
        $major = (int) ltrim($version, 'v');
        return self::row('smarty', 'Smarty', in_array($major, [3, 4], true) ? 'pass' : 'warn', "Smarty {$version}",
            in_array($major, [3, 4], true) ? '' : 'the addon\'s templates are written for Smarty 3 and 4', [47]);
    }

    private function upgradePages(): array
    {
        $unknown = $this->forwarder->problems()->recent()['upgrade_service_unknown'] ?? null;
        return self::row('upgrade_pages', 'Upgrade pages', $unknown === null ? 'pass' : 'warn',
            $unknown === null ? 'every upgrade price so far named its service (serviceid or id)'
                : "{$unknown['count']} upgrade prices named no service the addon could find: WHMCS kept its price",
            $unknown === null ? '' : 'check that the client area uses Twenty-One\'s upgrade pages or a theme that posts serviceid', [31]);
    }

    private function problems(): array
    {
        $recent = array_filter($this->forwarder->problems()->recent(),
            fn (array $problem): bool => ($this->clock)() - (int) $problem['last_at'] <= 86400);
        return self::row('problems', 'Recent problems', $recent === [] ? 'pass' : 'warn',
            $recent === [] ? 'none in the last 24 hours' : count($recent) . ' kinds in the last 24 hours: ' . implode(', ', array_keys($recent)),
            $recent === [] ? '' : 'see the Status tab', [11]);
    }

    /**
     * Every table of the database with its columns.
     *
     * @return array<string, list<string>>
     */
    private static function allColumns(): array
    {
        $connection = Capsule::connection();
        $tables = [];
        if ($connection->getDriverName() === 'mysql') {
            foreach ($connection->select('SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()') as $row) {
                $tables[(string) $row->t][] = strtolower((string) $row->c);
            }
            return $tables;
        }
        foreach ($connection->select("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") as $table) {
            foreach ($connection->select('PRAGMA table_info(' . $connection->getPdo()->quote((string) $table->name) . ')') as $column) {
                $tables[(string) $table->name][] = strtolower((string) $column->name);
            }
        }
        return $tables;
    }
}
