<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The facts the upgrade hooks lack, read from WHMCS's database so the
 * service can decide without calling back into a WHMCS that is waiting for
 * its answer (SPEC §3.2 `_puente`). Every table and column is one of a
 * real WHMCS 8.4 database (docs/WHMCS-ASSUMPTIONS.md #29–#34), and every
 * query names the columns it reads.
 */
final class UpgradeFacts
{
    /** WHMCS pricing columns, which are also the cycle names puente reads. */
    private const CYCLES = ['monthly', 'quarterly', 'semiannually', 'annually', 'biennially', 'triennially'];

    /**
     * The tblupgrades types that move a service to another product: the
     * legacy upgrade page writes `package`, WHMCS 8's upgrade flow `service`.
     * `configoptions` and `addon` rows change something else.
     */
    public const PRODUCT_TYPES = ['package', 'service'];

    private const UPGRADE_COLUMNS = ['id', 'userid', 'orderid', 'type', 'relid', 'originalvalue', 'newvalue',
        'new_cycle', 'status', 'paid'];

    /**
     * @return array<string, mixed>|null null when the service or product is unknown
     */
    public static function read(int $serviceId, int $targetPid): ?array
    {
        if (!Whmcs::hasDatabase()) {
            return null;
        }
        $service = Capsule::table('tblhosting')->where('id', $serviceId)
            ->first(['userid', 'packageid', 'domainstatus', 'billingcycle', 'amount', 'nextduedate']);
        if ($service === null || !Capsule::table('tblproducts')->where('id', $targetPid)->exists()) {
            return null;
        }
        $client = Capsule::table('tblclients')->where('id', $service->userid)->first(['currency', 'language']);
        $currencyId = self::currencyId((int) ($client->currency ?? 0));
        $pricing = Capsule::table('tblpricing')
            ->where('type', 'product')
            ->where('relid', $targetPid)
            ->where('currency', $currencyId)
            ->first(self::CYCLES);
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
                'status' => (string) $service->domainstatus,
                'billingcycle' => (string) $service->billingcycle,
                'recurringamount' => (string) $service->amount,
                'nextduedate' => (string) $service->nextduedate,
            ],
            'currency' => self::currencyCode($currencyId),
            // The language of the refusals, by the rule the pages follow.
            'language' => Messages::pickLanguage((string) ($client->language ?? ''), is_string($_SESSION['Language'] ?? null) ? $_SESSION['Language'] : ''),
            'upgrade_targets' => self::upgradeTargets((int) $service->packageid),
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
     * The products a product may move to (its Upgrades tab): rows of
     * `tblproduct_upgrade_products` in WHMCS 8; a WHMCS 7 database keeps
     * them as a serialised array in `tblproducts.upgradepackages`, which is
     * read only where that column exists.
     *
     * @return int[]
     */
    public static function upgradeTargets(int $productId): array
    {
        $targets = [];
        if (Whmcs::has('tblproduct_upgrade_products')) {
            $targets = Capsule::table('tblproduct_upgrade_products')
                ->where('product_id', $productId)
                ->orderBy('upgrade_product_id')
                ->pluck('upgrade_product_id')
                ->all();
        }
        if ($targets === [] && Whmcs::has('tblproducts', 'upgradepackages')) {
            $stored = Capsule::table('tblproducts')->where('id', $productId)->value('upgradepackages');
            $list = is_string($stored) && $stored !== '' ? @unserialize($stored, ['allowed_classes' => false]) : [];
            $targets = is_array($list) ? $list : [];
        }
        $targets = array_values(array_unique(array_map('intval', $targets)));
        sort($targets);
        return $targets;
    }

    /**
     * The service's paid invoice lines the service sums into "amount paid
     * for the current period": its renewals (`Hosting`), their promotions
     * (`PromoHosting`) and its product upgrade charges (`Upgrade`, whose
     * relid is a tblupgrades id; configurable-option upgrades are not the
     * plan's price). Null when the invoices cannot be read: the service
     * then uses the recurring amount and records that it did.
     *
     * @return list<array{type: string, amount: string, duedate: string, datepaid: string}>|null
     */
    public static function paidLines(int $serviceId): ?array
    {
        try {
            $upgradeIds = Capsule::table('tblupgrades')->where('relid', $serviceId)
                ->whereIn('type', self::PRODUCT_TYPES)->pluck('id')->all();
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
            Whmcs::log('paid invoice lines', ['serviceid' => $serviceId], get_class($e) . ': ' . $e->getMessage());
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
     * A tblupgrades row as the service records it. A product upgrade
     * (`package`/`service`) also carries the service it names (its current
     * owner and product), the owner's currency and the target product's
     * price on the row's cycle; the service checks that the row's client
     * owns the service before it applies anything. Other types are sent as
     * they are, to be recorded only.
     *
     * @return array<string, mixed>|null null when there is no such row
     */
    public static function upgradeRow(int $upgradeId): ?array
    {
        $row = Capsule::table('tblupgrades')->where('id', $upgradeId)->first(self::UPGRADE_COLUMNS);
        if ($row === null) {
            return null;
        }
        $fact = [
            'id' => (int) $row->id,
            'type' => (string) $row->type,
            'relid' => (int) $row->relid,
            'userid' => (int) $row->userid,
            'orderid' => (int) $row->orderid,
            'originalvalue' => (string) $row->originalvalue,
            'newvalue' => (string) $row->newvalue,
            'new_cycle' => (string) $row->new_cycle,
            'status' => (string) $row->status,
            'paid' => (string) $row->paid,
        ];
        if (!in_array($fact['type'], self::PRODUCT_TYPES, true)) {
            return $fact;
        }
        $service = Capsule::table('tblhosting')->where('id', $fact['relid'])->first(['userid', 'packageid']);
        if ($service === null) {
            return $fact;
        }
        $fact['service'] = ['id' => $fact['relid'], 'userid' => (int) $service->userid, 'pid' => (int) $service->packageid];
        $currencyId = self::currencyId((int) (Capsule::table('tblclients')->where('id', $service->userid)->value('currency') ?? 0));
        $fact['currency'] = self::currencyCode($currencyId);
        // The service reads the target from the row itself; the price is
        // read here, where the pricing table is.
        [$productId, $cycle] = self::target($row);
        $column = self::pricingColumn($cycle);
        if ($productId > 0 && $column !== null) {
            $price = Capsule::table('tblpricing')->where('type', 'product')->where('relid', $productId)
                ->where('currency', $currencyId)->value($column);
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
     * The target product and cycle of a product upgrade order of the
     * service, for PreUpgradeCheckout: only a `package`/`service` row whose
     * relid is that service and whose client owns it; anything else is not
     * priced by puente.
     *
     * @return array{0: int, 1: string} [0, ''] when unknown
     */
    public static function ordered(int $upgradeId, int $serviceId): array
    {
        if (!Whmcs::hasDatabase() || $upgradeId <= 0 || $serviceId <= 0) {
            return [0, ''];
        }
        $row = Capsule::table('tblupgrades')->where('id', $upgradeId)->first(self::UPGRADE_COLUMNS);
        if ($row === null || !in_array((string) $row->type, self::PRODUCT_TYPES, true) || (int) $row->relid !== $serviceId) {
            return [0, ''];
        }
        $owner = Capsule::table('tblhosting')->where('id', $serviceId)->value('userid');
        if ($owner === null || (int) $owner !== (int) $row->userid) {
            return [0, ''];
        }
        return self::target($row);
    }

    /**
     * A product upgrade's target: `newvalue` is "<pid>,<cycle>" (legacy
     * `package` rows) or "<pid>" (WHMCS 8 `service` rows); the cycle is
     * `new_cycle` when WHMCS filled it, else the one in `newvalue`.
     *
     * @return array{0: int, 1: string} the cycle lower-case, as pricing names it
     */
    private static function target(object $row): array
    {
        $parts = explode(',', (string) $row->newvalue, 2);
        $productId = is_numeric(trim($parts[0])) ? (int) trim($parts[0]) : 0;
        $cycle = trim((string) $row->new_cycle) !== '' ? (string) $row->new_cycle : ($parts[1] ?? '');
        return [$productId, strtolower(trim($cycle))];
    }

    /** The tblpricing column of a cycle in either WHMCS spelling, if it has one. */
    private static function pricingColumn(string $cycle): ?string
    {
        $column = strtolower(str_replace(['-', ' '], '', $cycle));
        return in_array($column, self::CYCLES, true) ? $column : null;
    }

    /** A client's currency id; 0 stands for the system's default currency. */
    private static function currencyId(int $clientCurrency): int
    {
        if ($clientCurrency > 0) {
            return $clientCurrency;
        }
        return (int) (Capsule::table('tblcurrencies')->where('default', 1)->value('id') ?? 1);
    }

    private static function currencyCode(int $currencyId): string
    {
        return (string) (Capsule::table('tblcurrencies')->where('id', $currencyId)->value('code') ?? '');
    }
}
