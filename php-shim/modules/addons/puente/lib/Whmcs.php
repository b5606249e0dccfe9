<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The few facts about the surrounding WHMCS that the shim asks for, in one
 * place, each tolerant of WHMCS being absent (tests, php-cli tools).
 */
final class Whmcs
{
    /** Whether WHMCS's database (Capsule) is there to use. */
    public static function hasDatabase(): bool
    {
        return class_exists(\WHMCS\Database\Capsule::class);
    }

    /** @var array<string, bool> "table" or "table.column" => whether the database has it */
    private static array $schema = [];

    /**
     * Whether WHMCS's database has the table (or, with a column, that
     * column of it): some tables and columns differ between WHMCS
     * versions. Asked once per process.
     */
    public static function has(string $table, ?string $column = null): bool
    {
        $key = $column === null ? $table : "{$table}.{$column}";
        if (!array_key_exists($key, self::$schema)) {
            $schema = \WHMCS\Database\Capsule::schema();
            self::$schema[$key] = $column === null ? $schema->hasTable($table) : $schema->hasColumn($table, $column);
        }
        return self::$schema[$key];
    }

    /** Forgets what has() learnt (tests change the schema under one process). */
    public static function forgetSchema(): void
    {
        self::$schema = [];
    }

    /**
     * A general setting of WHMCS (`tblconfiguration`), or null when it
     * cannot be read.
     */
    public static function setting(string $name): ?string
    {
        if (!self::hasDatabase()) {
            return null;
        }
        try {
            $value = \WHMCS\Database\Capsule::table('tblconfiguration')->where('setting', $name)->value('value');
            return $value === null ? null : (string) $value;
        } catch (\Throwable $e) {
            return null;
        }
    }

    /** The WHMCS version, or "" outside WHMCS. */
    public static function version(): string
    {
        try {
            if (class_exists(\WHMCS\Config\Setting::class)) {
                return (string) \WHMCS\Config\Setting::getValue('Version');
            }
            global $CONFIG;
            return is_array($CONFIG ?? null) ? (string) ($CONFIG['Version'] ?? '') : '';
        } catch (\Throwable $e) {
            return '';
        }
    }

    /**
     * Writes to WHMCS's Activity Log (Configuration > System Logs >
     * Activity Log), for the client when given; always on, unlike the
     * module log. Does nothing outside WHMCS, and never throws.
     */
    public static function activity(string $message, int $clientId = 0): void
    {
        if (!function_exists('logActivity')) {
            return;
        }
        try {
            logActivity($message, $clientId);
        } catch (\Throwable $e) {
            self::log('activity log', $message, get_class($e) . ': ' . $e->getMessage());
        }
    }

    /**
     * A failure staff must act on: the module log (when it is on), the
     * Activity Log and the addon's admin page (Problems). Never throws.
     */
    public static function problem(string $kind, string $message): void
    {
        self::log($kind, '', $message);
        try {
            Shim::forwarder()->problems()->report($kind, $message);
        } catch (\Throwable $e) {
            self::activity("puente: {$message}");
        }
    }

    /**
     * Writes to the module log (Configuration > System Logs > Module Log)
     * with the given strings masked; does nothing outside WHMCS, and
     * nothing while WHMCS's module logging is off.
     *
     * @param string[] $mask
     */
    public static function log(string $action, mixed $request, mixed $response, array $mask = []): void
    {
        if (!function_exists('logModuleCall')) {
            return;
        }
        try {
            logModuleCall(Settings::MODULE, $action, $request, $response, '', array_values(array_filter($mask)));
        } catch (\Throwable $e) {
            // Logging must never be the thing that breaks WHMCS.
        }
    }
}
