<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * What an open invoice of a service is (SPEC §2.4), on WHMCS's tables: the
 * rule the service applies through the API (src/domain/invoices.rs), both
 * tested against fixtures/open-invoices.json.
 *
 * An invoice is open when it is Unpaid, Payment Pending or in Collections
 * (a Draft is not issued). It carries a line of the service when one of its
 * lines is the service's Hosting, PromoHosting or Setup line, an Addon line
 * of one of its addons, a line of its domain (types starting with Domain)
 * when the domain goes with it, or an Upgrade line of an upgrade of the
 * service or of one of its addons.
 */
final class OpenInvoices
{
    /** Invoice statuses still to be paid. */
    public const OPEN_STATUSES = ['Unpaid', 'Payment Pending', 'Collections'];

    /** The service's own lines, by `relid` = the service. */
    private const SERVICE_LINES = ['Hosting', 'PromoHosting', 'Setup'];

    /** tblupgrades types whose `relid` is the service. */
    private const SERVICE_UPGRADES = ['package', 'service', 'configoptions'];

    /**
     * The open invoices with a line of the service (and of the domain when
     * it goes with it), by id.
     *
     * @return list<int>
     */
    public static function ofService(int $serviceId, ?int $domainId): array
    {
        $addons = self::addons($serviceId);
        $upgrades = array_column(self::upgradeRows($serviceId, $addons), 'id');
        return Capsule::table('tblinvoiceitems')
            ->join('tblinvoices', 'tblinvoices.id', '=', 'tblinvoiceitems.invoiceid')
            ->whereIn('tblinvoices.status', self::OPEN_STATUSES)
            ->where(static function ($lines) use ($serviceId, $addons, $domainId, $upgrades): void {
                $lines->where(static function ($service) use ($serviceId): void {
                    $service->whereIn('tblinvoiceitems.type', self::SERVICE_LINES)
                        ->where('tblinvoiceitems.relid', $serviceId);
                });
                if ($addons !== []) {
                    $lines->orWhere(static function ($addon) use ($addons): void {
                        $addon->where('tblinvoiceitems.type', 'Addon')->whereIn('tblinvoiceitems.relid', $addons);
                    });
                }
                if ($upgrades !== []) {
                    $lines->orWhere(static function ($upgrade) use ($upgrades): void {
                        $upgrade->where('tblinvoiceitems.type', 'Upgrade')->whereIn('tblinvoiceitems.relid', $upgrades);
                    });
                }
                if ($domainId !== null) {
                    $lines->orWhere(static function ($domain) use ($domainId): void {
                        $domain->where('tblinvoiceitems.type', 'like', 'Domain%')->where('tblinvoiceitems.relid', $domainId);
                    });
                }
            })
            ->orderBy('tblinvoices.id')
            ->distinct()
            ->pluck('tblinvoices.id')
            ->map(static fn ($id): int => (int) $id)
            ->all();
    }

    /**
     * The service's addons (`tblhostingaddons.id`).
     *
     * @return list<int>
     */
    public static function addons(int $serviceId): array
    {
        return Capsule::table('tblhostingaddons')->where('hostingid', $serviceId)->orderBy('id')->pluck('id')
            ->map(static fn ($id): int => (int) $id)->all();
    }

    /**
     * The upgrades of the service and of its addons: rows of tblupgrades
     * whose `relid` is the service (package, service, configoptions) or one
     * of `$addons` (addon).
     *
     * @param list<int> $addons
     * @return list<array{id: int, type: string, relid: int}>
     */
    public static function upgradeRows(int $serviceId, array $addons): array
    {
        return Capsule::table('tblupgrades')
            ->where(static function ($rows) use ($serviceId, $addons): void {
                $rows->where(static function ($service) use ($serviceId): void {
                    $service->whereIn('type', self::SERVICE_UPGRADES)->where('relid', $serviceId);
                });
                if ($addons !== []) {
                    $rows->orWhere(static function ($addon) use ($addons): void {
                        $addon->where('type', 'addon')->whereIn('relid', $addons);
                    });
                }
            })
            ->orderBy('id')
            ->get(['id', 'type', 'relid'])
            ->map(static fn ($row): array => ['id' => (int) $row->id, 'type' => (string) $row->type, 'relid' => (int) $row->relid])
            ->all();
    }
}
