<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * `MoveService` (SPEC §3.4): moves a service to its new owner inside WHMCS,
 * whose API cannot. Every precondition is checked again on the tables, in
 * the one transaction that moves: the service, its addons, the SSL orders
 * attached to it and, when asked, the domain of the same name change owner
 * together, or nothing does. Rows keyed by the service alone (configurable
 * options, custom field values, cancellation requests, the module queue)
 * follow it; history (invoices and their lines, orders, upgrades) stays
 * with the old owner. A gateway subscription would keep charging the old
 * owner, so it is cleared and named for staff to cancel at the gateway.
 */
final class ServiceMove
{
    /** Invoice statuses still to be paid. */
    private const UNPAID = ['Unpaid', 'Payment Pending', 'Collections'];

    /**
     * @param array<string, mixed> $data transfer_id, service_id, from_client_id, to_client_id;
     *        domain_id and recipient_email (the recipient must still be the one client with it), optional
     * @param string $webhookId must be `move_<transfer_id>`
     * @return array<string, mixed> the answer
     */
    public static function run(array $data, string $webhookId): array
    {
        $ids = [];
        foreach (['transfer_id', 'service_id', 'from_client_id', 'to_client_id'] as $key) {
            $ids[$key] = is_numeric($data[$key] ?? null) && (int) $data[$key] > 0 ? (int) $data[$key] : 0;
            if ($ids[$key] === 0) {
                return self::refused('invalid_request', "data.{$key} must be a positive id");
            }
        }
        $domainId = is_numeric($data['domain_id'] ?? null) && (int) $data['domain_id'] > 0 ? (int) $data['domain_id'] : null;
        $email = is_string($data['recipient_email'] ?? null) ? trim($data['recipient_email']) : '';
        if ($webhookId !== 'move_' . $ids['transfer_id']) {
            return self::refused('invalid_request', "the request id {$webhookId} is not this transfer's (move_{$ids['transfer_id']})");
        }
        if (!Whmcs::hasDatabase()) {
            return self::refused('no_database', 'the addon runs without WHMCS\'s database');
        }
        try {
            $moved = Capsule::connection()->transaction(
                static fn (): array => self::move($ids['service_id'], $ids['from_client_id'], $ids['to_client_id'], $domainId, $email),
            );
        } catch (MoveRefused $refusal) {
            return self::refused($refusal->refusal, $refusal->getMessage());
        } catch (\Throwable $e) {
            // Rolled back: nothing moved. The service asks again later.
            Whmcs::log('MoveService', $ids, get_class($e) . ': ' . $e->getMessage());
            return self::refused('internal_error', 'the move failed and was undone; see the WHMCS module log');
        }
        if ($moved['moved']) {
            self::logActivity($ids, $moved);
        }
        return ['result' => 'success'] + $moved;
    }

    /**
     * The checks and the move, inside the transaction: a refusal or a
     * failure anywhere rolls every change back.
     *
     * @return array<string, mixed>
     */
    private static function move(int $serviceId, int $from, int $to, ?int $domainId, string $email): array
    {
        $service = Capsule::table('tblhosting')->where('id', $serviceId)->first(['userid', 'domainstatus', 'subscriptionid']);
        if ($service === null) {
            throw new MoveRefused('not_found', "WHMCS has no service {$serviceId}");
        }
        if ((int) $service->userid === $to) {
            // Moved by an earlier call whose answer was lost.
            return ['moved' => false, 'addons' => 0, 'ssl_orders' => 0, 'domain_moved' => false, 'subscription_cleared' => null];
        }
        if ((int) $service->userid !== $from) {
            throw new MoveRefused('not_owner', "service {$serviceId} belongs to client {$service->userid}, not {$from}");
        }
        $clients = Capsule::table('tblclients')->whereIn('id', [$from, $to])->pluck('status', 'id')->all();
        foreach ([$from, $to] as $client) {
            if (!isset($clients[$client]) || strcasecmp((string) $clients[$client], 'Closed') === 0) {
                throw new MoveRefused('client_not_active', "client {$client} does not exist or is closed");
            }
        }
        if ($email !== '') {
            // The recipient is still the one client with that email.
            $holders = Capsule::table('tblclients')->whereRaw('LOWER(email) = ?', [strtolower($email)])->pluck('id')
                ->map(static fn ($id): int => (int) $id)->all();
            if (count($holders) > 1) {
                throw new MoveRefused('ambiguous_recipient', "several clients have the email {$email}");
            }
            if ($holders !== [$to]) {
                throw new MoveRefused('recipient_not_found', "client {$to} no longer has the email {$email}");
            }
        }
        if ((string) $service->domainstatus !== 'Active') {
            throw new MoveRefused('service_not_active', "service {$serviceId} is {$service->domainstatus}, not Active");
        }
        $addons = Capsule::table('tblhostingaddons')->where('hostingid', $serviceId)->pluck('id')->map(static fn ($id): int => (int) $id)->all();
        $unpaid = self::unpaidInvoices($serviceId, $addons, $domainId);
        if ($unpaid !== []) {
            throw new MoveRefused('unpaid_invoices', 'unpaid invoices carry lines of the service: #' . implode(', #', $unpaid));
        }
        if ($domainId !== null) {
            $domain = Capsule::table('tbldomains')->where('id', $domainId)->first(['userid', 'status']);
            if ($domain === null || (int) $domain->userid !== $from || (string) $domain->status !== 'Active') {
                throw new MoveRefused('service_not_active', "domain {$domainId} is not an active domain of client {$from}");
            }
        }
        $subscription = trim((string) $service->subscriptionid);
        $changed = Capsule::table('tblhosting')->where('id', $serviceId)->where('userid', $from)
            ->update(['userid' => $to, 'subscriptionid' => '']);
        if ($changed !== 1) {
            throw new MoveRefused('not_owner', "service {$serviceId} changed owner meanwhile");
        }
        $addonsMoved = Capsule::table('tblhostingaddons')->where('hostingid', $serviceId)->update(['userid' => $to]);
        $sslMoved = Capsule::table('tblsslorders')->where('serviceid', $serviceId)->update(['userid' => $to]);
        $domainMoved = $domainId !== null
            && Capsule::table('tbldomains')->where('id', $domainId)->where('userid', $from)->update(['userid' => $to]) === 1;
        return [
            'moved' => true,
            'addons' => $addonsMoved,
            'ssl_orders' => $sslMoved,
            'domain_moved' => $domainMoved,
            'subscription_cleared' => $subscription === '' ? null : $subscription,
        ];
    }

    /**
     * Unpaid invoices with a line of the service, its addons or the domain.
     *
     * @param list<int> $addons
     * @return list<int>
     */
    private static function unpaidInvoices(int $serviceId, array $addons, ?int $domainId): array
    {
        return Capsule::table('tblinvoiceitems')
            ->join('tblinvoices', 'tblinvoices.id', '=', 'tblinvoiceitems.invoiceid')
            ->whereIn('tblinvoices.status', self::UNPAID)
            ->where(static function ($lines) use ($serviceId, $addons, $domainId): void {
                $lines->where(static function ($service) use ($serviceId): void {
                    $service->whereIn('tblinvoiceitems.type', ['Hosting', 'PromoHosting', 'Setup'])
                        ->where('tblinvoiceitems.relid', $serviceId);
                });
                if ($addons !== []) {
                    $lines->orWhere(static function ($addon) use ($addons): void {
                        $addon->where('tblinvoiceitems.type', 'Addon')->whereIn('tblinvoiceitems.relid', $addons);
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
     * Both clients' activity logs say what happened, and what staff must do
     * about a cleared subscription.
     *
     * @param array<string, int> $ids
     * @param array<string, mixed> $moved
     */
    private static function logActivity(array $ids, array $moved): void
    {
        if (!function_exists('logActivity')) {
            return;
        }
        $text = sprintf('puente: service #%d moved from client #%d to client #%d (transfer #%d, both clients consented)',
            $ids['service_id'], $ids['from_client_id'], $ids['to_client_id'], $ids['transfer_id']);
        if ($moved['domain_moved']) {
            $text .= ', with its domain';
        }
        if ($moved['subscription_cleared'] !== null) {
            $text .= "; gateway subscription {$moved['subscription_cleared']} was cleared from the service: cancel it at the gateway";
        }
        foreach ([$ids['from_client_id'], $ids['to_client_id']] as $client) {
            try {
                logActivity($text, $client);
            } catch (\Throwable $e) {
                Whmcs::log('move activity log', '', get_class($e) . ': ' . $e->getMessage());
            }
        }
    }

    /** @return array{result: string, code: string, message: string} */
    private static function refused(string $code, string $message): array
    {
        return ['result' => 'error', 'code' => $code, 'message' => $message];
    }
}
