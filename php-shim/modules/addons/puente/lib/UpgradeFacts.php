<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The facts `ShoppingCartValidateUpgrade` lacks, read from WHMCS's
 * database so the service can decide without calling back into a WHMCS
 * that is waiting for its answer (SPEC §3.2 `_puente`). Table and column
 * names: docs/WHMCS-ASSUMPTIONS.md #29.
 */
final class UpgradeFacts
{
    /** WHMCS pricing columns, which are also the cycle names puente reads. */
    private const CYCLES = ['monthly', 'quarterly', 'semiannually', 'annually', 'biennially', 'triennially'];

    /**
     * @return array<string, mixed>|null null when the service or product is unknown
     */
    public static function read(int $serviceId, int $targetPid): ?array
    {
        if (!Whmcs::hasDatabase()) {
            return null;
        }
        $service = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        $target = Capsule::table('tblproducts')->where('id', $targetPid)->first();
        if ($service === null || $target === null) {
            return null;
        }
        $client = Capsule::table('tblclients')->where('id', $service->userid)->first();
        $currencyId = (int) ($client->currency ?? 1);
        $currency = Capsule::table('tblcurrencies')->where('id', $currencyId)->value('code');
        $current = Capsule::table('tblproducts')->where('id', $service->packageid)->first();
        $pricing = Capsule::table('tblpricing')
            ->where('type', 'product')
            ->where('relid', $targetPid)
            ->where('currency', $currencyId)
            ->first();
        $prices = [];
        foreach (self::CYCLES as $cycle) {
            if ($pricing !== null && isset($pricing->{$cycle})) {
                $prices[$cycle] = (string) $pricing->{$cycle};
            }
        }
        return [
            'service' => [
                'billingcycle' => (string) $service->billingcycle,
                'recurringamount' => (string) $service->amount,
                'nextduedate' => (string) $service->nextduedate,
            ],
            'currency' => (string) ($currency ?? ''),
            'language' => (string) ($client->language ?? ''),
            'upgrade_targets' => self::upgradeTargets($current->upgradepackages ?? ''),
            'target_pricing' => (object) $prices,
        ];
    }

    /**
     * The target product and cycle of an upgrade order: its tblupgrades row
     * holds them as `newvalue` = "<pid>,<cycle>" for package upgrades.
     *
     * @return array{0: int, 1: string} [0, ''] when unknown
     */
    public static function ordered(int $upgradeId): array
    {
        if (!Whmcs::hasDatabase() || $upgradeId <= 0) {
            return [0, ''];
        }
        $row = Capsule::table('tblupgrades')->where('id', $upgradeId)->where('type', 'package')->first();
        $parts = explode(',', (string) ($row->newvalue ?? ''), 2);
        return count($parts) === 2 ? [(int) $parts[0], strtolower(trim($parts[1]))] : [0, ''];
    }

    /**
     * WHMCS keeps a product's upgrade list as a serialised PHP array of
     * product ids; anything else is read as no targets.
     *
     * @return int[]
     */
    private static function upgradeTargets(mixed $stored): array
    {
        $list = is_string($stored) && $stored !== '' ? @unserialize($stored, ['allowed_classes' => false]) : [];
        return is_array($list) ? array_values(array_map('intval', $list)) : [];
    }
}
