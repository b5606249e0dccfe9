<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * `ServiceFacts` (action.php): what the service needs to know about one
 * service that WHMCS's API cannot tell, read on its tables:
 * - `upgrades`: the tblupgrades rows of the service and of its addons, so
 *   the service can tell which Upgrade invoice lines are the service's
 *   (OpenInvoices);
 * - `cancellation_request`: the request WHMCS holds for it in
 *   tblcancelrequests, or null. Staff withdraw a request only by deleting
 *   it in WHMCS's admin area (no API, no hook), so the service asks before
 *   it terminates anything.
 */
final class ServiceFacts
{
    /**
     * @param array<string, mixed> $data `service_id`
     * @return array<string, mixed> the answer
     */
    public static function run(array $data): array
    {
        $serviceId = is_numeric($data['service_id'] ?? null) ? (int) $data['service_id'] : 0;
        if ($serviceId <= 0) {
            return ['result' => 'error', 'code' => 'invalid_request', 'message' => 'data.service_id must be a positive id'];
        }
        if (!Whmcs::hasDatabase()) {
            return ['result' => 'error', 'code' => 'no_database', 'message' => 'the addon runs without WHMCS\'s database'];
        }
        return [
            'result' => 'success',
            'service_id' => $serviceId,
            'upgrades' => OpenInvoices::upgradeRows($serviceId, OpenInvoices::addons($serviceId)),
            'cancellation_request' => self::cancellationRequest($serviceId),
        ];
    }

    /**
     * The newest cancellation request WHMCS holds for the service, or null.
     *
     * @return array{id: int, type: string, date: string}|null
     */
    public static function cancellationRequest(int $serviceId): ?array
    {
        $row = Capsule::table('tblcancelrequests')->where('relid', $serviceId)->orderBy('id', 'desc')
            ->first(['id', 'type', 'date']);
        return $row === null ? null : ['id' => (int) $row->id, 'type' => (string) $row->type, 'date' => (string) $row->date];
    }
}
