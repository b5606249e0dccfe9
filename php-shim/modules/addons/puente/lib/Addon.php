<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's WHMCS functions (puente_config, _activate, _deactivate,
 * _upgrade, _output), kept here so tests call them without WHMCS.
 */
final class Addon
{

    /** @return array<string, mixed> */
    public static function config(): array
    {
        $fields = [
            'service_url' => ['FriendlyName' => 'Service URL', 'Type' => 'text', 'Size' => '60',
                'Description' => 'Base URL of the puente service, without /v1 (e.g. http://127.0.0.1:8080); for several replicas, each one\'s URL separated by spaces, tried in order when one cannot be reached. PUENTE_URL overrides it.'],
            'secret' => ['FriendlyName' => 'Signing secret', 'Type' => 'password', 'Size' => '60',
                'Description' => 'whsec_... as in the service\'s PUENTE_HOOK_SECRETS; several, space-separated, while rotating (the first signs). PUENTE_SECRET overrides it.'],
            'instance' => ['FriendlyName' => 'Instance name', 'Type' => 'text', 'Size' => '30', 'Default' => 'default',
                'Description' => 'Names this WHMCS install to the service (letters, digits, . _ -). PUENTE_INSTANCE overrides it.'],
            'connect_timeout_ms' => ['FriendlyName' => 'Connect timeout (ms)', 'Type' => 'text', 'Size' => '6', 'Default' => '200',
                'Description' => 'Longest wait to connect to the service (at most 2000).'],
            'total_timeout_ms' => ['FriendlyName' => 'Total timeout (ms)', 'Type' => 'text', 'Size' => '6', 'Default' => '500',
                'Description' => 'Longest a hook waits for the service (at most 5000); slower events are spooled and replayed by the cron.'],
            'decision_timeout_ms' => ['FriendlyName' => 'Decision timeout (ms)', 'Type' => 'text', 'Size' => '6', 'Default' => '1500',
                'Description' => 'Longest WHMCS waits for a decision (upgrade prices and checks) before the fallback applies.'],
            'breaker_seconds' => ['FriendlyName' => 'Pause after a failure (s)', 'Type' => 'text', 'Size' => '6', 'Default' => '30',
                'Description' => 'After a failed send, hooks spool without trying the service for this long.'],
            'spool_limit' => ['FriendlyName' => 'Spool limit (events)', 'Type' => 'text', 'Size' => '8', 'Default' => (string) Settings::SPOOL_LIMIT,
                'Description' => 'Most events kept while the service is unreachable; newer ones are dropped (counted on this page, kept in the module log) so an outage of weeks cannot fill the WHMCS database. PUENTE_SPOOL_LIMIT overrides it.'],
            'dashboard_url' => ['FriendlyName' => 'Dashboard URL', 'Type' => 'text', 'Size' => '60',
                'Description' => 'Address of the puente service as your staff\'s browsers reach it (e.g. https://puente.example.com), for the "Open the puente dashboard" button; empty: the Service URL. PUENTE_DASHBOARD_URL overrides it.'],
            'handle_cancellations' => ['FriendlyName' => 'puente handles cancellations', 'Type' => 'yesno', 'Default' => 'on',
                'Description' => 'WHMCS\'s "Request Cancellation" page sends the client to puente\'s, which asks for their email and password again and shows the real dates.'],
        ];
        foreach (Settings::GROUPS as $group) {
            $fields["forward_{$group}"] = ['FriendlyName' => 'Forward ' . $group . ' hooks', 'Type' => 'yesno', 'Default' => 'on',
                'Description' => 'Hooks: ' . implode(', ', array_keys(array_filter(HookCatalog::HOOKS, static fn ($hook) => $hook[0] === $group)))];
        }
        return [
            'name' => 'puente',
            'description' => 'Forwards WHMCS events, signed, to the puente service (upgrades, cancellations, transfers, WhatsApp alerts). '
                . 'Needs WHMCS 8.6+ on PHP 8.1+.',
            'version' => \puente_version(),
            'author' => 'puente',
            'language' => 'spanish',
            'fields' => $fields,
        ];
    }

    /** @return array{status: string, description: string} */
    public static function activate(): array
    {
        try {
            Schema::create();
            return ['status' => 'success', 'description' => 'puente is active. Set the service URL and signing secret, then use "Send test event" on the addon page.'];
        } catch (\Throwable $e) {
            return ['status' => 'error', 'description' => 'Could not create the addon tables: ' . $e->getMessage()];
        }
    }

    /**
     * Drops the addon's tables, unless events still wait in the spool: then
     * the tables stay (with the events) and the administrator is told how
     * many wait, and how to send them or drop them on purpose.
     *
     * @return array{status: string, description: string}
     */
    public static function deactivate(): array
    {
        try {
            $waiting = Capsule::schema()->hasTable(Schema::SPOOL) ? Capsule::table(Schema::SPOOL)->count() : 0;
            if ($waiting > 0) {
                return ['status' => 'info', 'description' => sprintf(
                    'puente is deactivated, but %d events are still waiting for the service, so its tables (%s, %s) were kept with them. '
                    . 'To send them, activate puente again and press "Send waiting events now" on its page (the cron sends them too while puente is active). '
                    . 'To drop them on purpose, activate puente, press "Discard waiting events" on its page, then deactivate it again.',
                    $waiting,
                    Schema::SPOOL,
                    Schema::STATE,
                )];
            }
            Schema::drop();
            return ['status' => 'success', 'description' => 'puente is deactivated and its tables removed; no events were waiting.'];
        } catch (\Throwable $e) {
            return ['status' => 'error', 'description' => 'Could not deactivate puente cleanly: ' . $e->getMessage()];
        }
    }

    /**
     * Runs once after the files of a new version are in place: the schema
     * steps newer than the version WHMCS had (Schema::upgrade).
     *
     * @param array<string, mixed> $vars `version` is the previous version
     */
    public static function upgrade(array $vars): void
    {
        $previous = is_scalar($vars['version'] ?? null) ? (string) $vars['version'] : null;
        $ran = Schema::upgrade($previous);
        Settings::forget();
        Whmcs::log('upgrade', ['version' => $previous], 'schema steps run: ' . ($ran === [] ? 'none' : implode(', ', $ran)));
    }

    /**
     * The admin page (Addons > puente): its Status and Diagnostics tabs.
     *
     * @param array<string, mixed> $vars
     */
    public static function output(array $vars): string
    {
        return AdminPage::render($vars, Shim::forwarder(), static fn (): int => time());
    }
}
