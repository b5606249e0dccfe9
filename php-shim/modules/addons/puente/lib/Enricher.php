<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Facts a hook's `$vars` lack and only WHMCS's database knows, sent as
 * `data._puente` (SPEC §3.2) so the service need not call back into WHMCS.
 */
final class Enricher
{
    /**
     * @param array<string, mixed> $data the scrubbed payload
     * @param Settings $settings the addon's settings
     * @return array<string, mixed> empty when there is nothing to add
     */
    public static function facts(string $hook, array $data, Settings $settings): array
    {
        // Whether the client's own request on WHMCS's form needs their
        // confirmation on puente's page: only while puente handles them.
        if ($hook === 'CancellationRequest') {
            return ['handles_cancellations' => $settings->handlesCancellations];
        }
        if (!Whmcs::hasDatabase()) {
            return [];
        }
        // A processed upgrade: the service records it from the tblupgrades
        // row, and applies it when it moved the service to another product.
        if (in_array($hook, ['AfterProductUpgrade', 'AfterConfigOptionsUpgrade'], true) && is_numeric($data['upgradeid'] ?? null)) {
            $row = UpgradeFacts::upgradeRow((int) $data['upgradeid']);
            return $row === null ? [] : ['upgrade' => $row];
        }
        if ($hook === 'InvoicePaid' && is_numeric($data['invoiceid'] ?? null)) {
            $rows = UpgradeFacts::invoiceUpgrades((int) $data['invoiceid']);
            return $rows === [] ? [] : ['upgrades' => $rows];
        }
        $userId = match ($hook) {
            'UserChangePassword' => $data['userid'] ?? null,
            'UserLogin' => $data['user']['id'] ?? null,
            default => null,
        };
        if (!is_numeric($userId)) {
            return [];
        }
        // A WHMCS 8 User reaches clients through tblusers_clients; the alerts
        // go to the clients the user owns.
        $clientIds = Capsule::table('tblusers_clients')
            ->where('auth_user_id', (int) $userId)
            ->where('owner', 1)
            ->orderBy('client_id')
            ->pluck('client_id')
            ->map(static fn ($id): int => (int) $id)
            ->all();
        return ['client_ids' => $clientIds];
    }
}
