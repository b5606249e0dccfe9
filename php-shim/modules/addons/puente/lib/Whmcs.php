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
     * Writes to the module log (Utilities > Logs > Module Log) with the
     * given strings masked; does nothing outside WHMCS.
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
