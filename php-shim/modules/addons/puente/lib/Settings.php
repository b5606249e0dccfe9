<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's settings: what the administrator saved under Setup > Addon
 * Modules, overridden by environment variables so secrets can stay out of
 * the WHMCS database and the shim runs without WHMCS.
 */
final class Settings
{
    public const MODULE = 'puente';

    /** Hook groups an administrator can switch off, each a `forward_<group>` field. */
    public const GROUPS = ['clients', 'invoices', 'services', 'domains', 'quotes'];

    /** Environment variable => stored setting it overrides. */
    private const ENV = [
        'PUENTE_URL' => 'service_url',
        'PUENTE_SECRET' => 'secret',
        'PUENTE_INSTANCE' => 'instance',
        'PUENTE_SPOOL_DIR' => 'spool_dir',
        'PUENTE_SPOOL_LIMIT' => 'spool_limit',
        'PUENTE_DASHBOARD_URL' => 'dashboard_url',
    ];

    /** Events the spool keeps by default while the service is unreachable. */
    public const SPOOL_LIMIT = 100000;

    private static ?self $loaded = null;

    /**
     * @param string[] $secrets signing secrets; the first one signs
     * @param array<string, bool> $groups
     * @param string[] $urls every replica's URL, in the order tried; `$url` is the first
     */
    private function __construct(
        public readonly string $url,
        public readonly array $secrets,
        public readonly string $instance,
        public readonly int $connectTimeoutMs,
        public readonly int $totalTimeoutMs,
        public readonly int $decisionTimeoutMs,
        public readonly int $breakerSeconds,
        public readonly array $groups,
        public readonly ?string $spoolDir,
        public readonly bool $handlesCancellations = true,
        public readonly int $spoolLimit = self::SPOOL_LIMIT,
        public readonly string $dashboardUrl = '',
        public readonly array $urls = [],
    ) {
    }

    /**
     * Builds settings from stored values (`tbladdonmodules` rows) and the
     * environment, which wins.
     *
     * @param array<string, mixed> $stored
     * @param array<string, string|false> $env
     */
    public static function fromSources(array $stored, array $env): self
    {
        foreach (self::ENV as $variable => $setting) {
            $value = $env[$variable] ?? false;
            if (is_string($value) && trim($value) !== '') {
                $stored[$setting] = $value;
            }
        }
        $text = static fn (string $key): string => trim((string) ($stored[$key] ?? ''));
        $groups = [];
        foreach (self::GROUPS as $group) {
            // A group is forwarded unless its switch was saved as off.
            $groups[$group] = self::switchedOn($stored["forward_{$group}"] ?? 'on');
        }
        $instance = $text('instance') === '' ? 'default' : $text('instance');
        $spoolDir = $text('spool_dir');
        // Several replicas: URLs separated by spaces or commas, tried in order.
        $urls = array_values(array_filter(array_map(
            static fn (string $url): string => rtrim($url, '/'),
            preg_split('/[\s,]+/', $text('service_url')) ?: [],
        ), static fn (string $url): bool => $url !== ''));

        return new self(
            url: $urls[0] ?? '',
            secrets: array_values(array_filter(preg_split('/\s+/', $text('secret')) ?: [], [Signer::class, 'isSecret'])),
            instance: preg_match('/^[A-Za-z0-9_.-]{1,64}$/', $instance) === 1 ? $instance : '',
            // Bounded whatever is saved: a typo must not let a hook hang WHMCS.
            connectTimeoutMs: self::bounded($stored['connect_timeout_ms'] ?? null, 200, 2000),
            totalTimeoutMs: self::bounded($stored['total_timeout_ms'] ?? null, 500, 5000),
            decisionTimeoutMs: self::bounded($stored['decision_timeout_ms'] ?? null, 1500, 5000),
            breakerSeconds: self::bounded($stored['breaker_seconds'] ?? null, 30, 3600),
            groups: $groups,
            spoolDir: $spoolDir === '' ? null : $spoolDir,
            handlesCancellations: self::switchedOn($stored['handle_cancellations'] ?? 'on'),
            spoolLimit: self::bounded($stored['spool_limit'] ?? null, self::SPOOL_LIMIT, 10000000),
            // Where staff browsers reach the service; the service URL when unset.
            dashboardUrl: $text('dashboard_url') === '' ? ($urls[0] ?? '') : rtrim($text('dashboard_url'), '/'),
            urls: $urls,
        );
    }

    /** The settings of this PHP process, read once. */
    public static function load(): self
    {
        return self::$loaded ??= self::fromSources(self::stored(), self::environment());
    }

    /** Forgets the settings read by load(), after they were saved. */
    public static function forget(): void
    {
        self::$loaded = null;
    }

    /** Whether events can be signed and sent; otherwise they wait in the spool. */
    public function isComplete(): bool
    {
        return $this->url !== '' && $this->secrets !== [] && $this->instance !== '';
    }

    public function forwards(string $group): bool
    {
        return $this->groups[$group] ?? false;
    }

    /** What is wrong with the settings, for the admin page and the module log. */
    public function problem(): ?string
    {
        return match (true) {
            $this->url === '' => 'no service URL is set (setting "Service URL" or PUENTE_URL)',
            $this->secrets === [] => 'no signing secret of the form whsec_<base64> is set (setting "Signing secret" or PUENTE_SECRET)',
            $this->instance === '' => 'the instance name must be 1-64 letters, digits, ".", "_" or "-"',
            default => null,
        };
    }

    /**
     * @return array<string, string>
     */
    private static function stored(): array
    {
        if (!Whmcs::hasDatabase()) {
            return [];
        }
        try {
            return \WHMCS\Database\Capsule::table('tbladdonmodules')
                ->where('module', self::MODULE)
                ->pluck('value', 'setting')
                ->all();
        } catch (\Throwable $e) {
            return [];
        }
    }

    /**
     * php-fpm passes pool `env[...]` entries through getenv(); web server
     * variables (Apache SetEnv, nginx fastcgi_param) arrive in $_SERVER.
     *
     * @return array<string, string|false>
     */
    private static function environment(): array
    {
        $env = [];
        foreach (array_keys(self::ENV) as $variable) {
            $value = getenv($variable);
            if ($value === false && isset($_SERVER[$variable]) && is_string($_SERVER[$variable])) {
                $value = $_SERVER[$variable];
            }
            $env[$variable] = $value;
        }
        return $env;
    }

    /** A `yesno` field as WHMCS saves it: `on` when ticked. */
    private static function switchedOn(mixed $value): bool
    {
        return in_array(strtolower((string) $value), ['on', '1', 'yes', 'true'], true);
    }

    /** A positive whole number saved as text, `$default` when it is not one, at most `$max`. */
    private static function bounded(mixed $value, int $default, int $max): int
    {
        if (!is_numeric($value) || (int) $value < 1) {
            return $default;
        }
        return min((int) $value, $max);
    }
}
