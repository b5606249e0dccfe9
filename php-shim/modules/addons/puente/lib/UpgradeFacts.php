<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The facts the upgrade hooks lack, read from WHMCS's database so the
 * service can decide without calling back into a WHMCS that is waiting for
 * its answer (SPEC §3.2 `_puente`). Table and column names:
 * docs/WHMCS-ASSUMPTIONS.md #29–#34.
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
        $facts = [
            'service' => [
                'pid' => (int) $service->packageid,
                'userid' => (int) $service->userid,
                'status' => (string) ($service->domainstatus ?? ''),
                'billingcycle' => (string) $service->billingcycle,
                'recurringamount' => (string) $service->amount,
                'nextduedate' => (string) $service->nextduedate,
            ],
            'currency' => (string) ($currency ?? ''),
            'language' => (string) ($client->language ?? ''),
            'upgrade_targets' => self::upgradeTargets($current->upgradepackages ?? ''),
            'target_pricing' => (object) $prices,
        ];
        $paid = self::paidLines($serviceId);
        if ($paid !== null) {
            $facts['paid_lines'] = $paid;
        }
        return $facts;
    }

    /**
     * As read(), with the product names a ticket shows, for the client
     * area's actions.
     *
     * @return array<string, mixed>|null
     */
    public static function forClientAction(int $serviceId, int $targetPid): ?array
    {
        $facts = self::read($serviceId, $targetPid);
        if ($facts === null) {
            return null;
        }
        $name = static fn (int $pid): string => (string) (Capsule::table('tblproducts')->where('id', $pid)->value('name') ?? '');
        return $facts + [
            'service_name' => $name((int) $facts['service']['pid']),
            'target_name' => $name($targetPid),
        ];
    }

    /**
     * The service's paid invoice lines the service sums into "amount paid
     * for the current period": its renewals (`Hosting`), their promotions
     * (`PromoHosting`) and its upgrade charges (`Upgrade`, whose relid is a
     * tblupgrades id). Null when the invoices cannot be read: the service
     * then uses the recurring amount and records that it did.
     *
     * @return list<array{type: string, amount: string, duedate: string, datepaid: string}>|null
     */
    public static function paidLines(int $serviceId): ?array
    {
        try {
            $upgradeIds = Capsule::table('tblupgrades')->where('relid', $serviceId)->pluck('id')->all();
            $rows = Capsule::table('tblinvoiceitems')
                ->join('tblinvoices', 'tblinvoices.id', '=', 'tblinvoiceitems.invoiceid')
                ->where('tblinvoices.status', 'Paid')
                ->where(static function ($lines) use ($serviceId, $upgradeIds): void {
                    $lines->where(static function ($renewals) use ($serviceId): void {
                        $renewals->whereIn('tblinvoiceitems.type', ['Hosting', 'PromoHosting'])
                            ->where('tblinvoiceitems.relid', $serviceId);
                    });
                    if ($upgradeIds !== []) {
                        $lines->orWhere(static function ($upgrades) use ($upgradeIds): void {
                            $upgrades->where('tblinvoiceitems.type', 'Upgrade')
                                ->whereIn('tblinvoiceitems.relid', $upgradeIds);
                        });
                    }
                })
                // The current period is at most three years long.
                ->orderBy('tblinvoiceitems.id', 'desc')
                ->limit(100)
                ->get(['tblinvoiceitems.type', 'tblinvoiceitems.amount', 'tblinvoiceitems.duedate', 'tblinvoices.datepaid']);
        } catch (\Throwable $e) {
            return null;
        }
        $lines = [];
        foreach ($rows as $row) {
            $lines[] = [
                'type' => (string) $row->type,
                'amount' => (string) $row->amount,
                'duedate' => substr((string) $row->duedate, 0, 10),
                'datepaid' => substr((string) $row->datepaid, 0, 10),
            ];
        }
        return array_reverse($lines);
    }

    /**
     * A tblupgrades row as the service applies it: the row, the owner, the
     * client's currency and the new product's price on the new cycle.
     *
     * @return array<string, mixed>|null null when there is no such row
     */
    public static function upgradeRow(int $upgradeId): ?array
    {
        $row = Capsule::table('tblupgrades')->where('id', $upgradeId)->first();
        if ($row === null) {
            return null;
        }
        $fact = [
            'id' => (int) $row->id,
            'type' => (string) ($row->type ?? ''),
            'relid' => (int) ($row->relid ?? 0),
            'originalvalue' => (string) ($row->originalvalue ?? ''),
            'newvalue' => (string) ($row->newvalue ?? ''),
            'status' => (string) ($row->status ?? ''),
            'paid' => (string) ($row->paid ?? ''),
        ];
        $service = Capsule::table('tblhosting')->where('id', $fact['relid'])->first();
        if ($service === null) {
            return $fact;
        }
        $fact['userid'] = (int) $service->userid;
        $currencyId = (int) (Capsule::table('tblclients')->where('id', $service->userid)->value('currency') ?? 1);
        $fact['currency'] = (string) (Capsule::table('tblcurrencies')->where('id', $currencyId)->value('code') ?? '');
        $parts = explode(',', $fact['newvalue'], 2);
        $cycle = strtolower(str_replace(['-', ' '], '', trim($parts[1] ?? '')));
        if (count($parts) === 2 && in_array($cycle, self::CYCLES, true)) {
            $price = Capsule::table('tblpricing')->where('type', 'product')->where('relid', (int) $parts[0])
                ->where('currency', $currencyId)->value($cycle);
            if ($price !== null) {
                $fact['new_price'] = (string) $price;
            }
        }
        return $fact;
    }

    /**
     * The upgrade rows of an invoice's `Upgrade` lines.
     *
     * @return list<array<string, mixed>>
     */
    public static function invoiceUpgrades(int $invoiceId): array
    {
        $ids = Capsule::table('tblinvoiceitems')->where('invoiceid', $invoiceId)->where('type', 'Upgrade')
            ->orderBy('id')->pluck('relid')->all();
        return array_values(array_filter(array_map(static fn ($id): ?array => self::upgradeRow((int) $id), $ids)));
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
