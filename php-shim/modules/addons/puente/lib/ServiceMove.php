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
 * attached to it or to one of its addons and, when asked, the domain of the
 * same name change owner together, or nothing does. Rows keyed by the
 * service alone (configurable options, custom field values, cancellation
 * requests, the module queue) follow it; history (invoices and their lines,
 * orders, upgrades) stays with the old owner. A gateway subscription of
 * anything that moves (the service, an addon, the domain) would keep
 * charging the old owner, so each is cleared and named for staff to cancel
 * at the gateway: in the answer, both activity logs and an email to staff.
 * The answer is kept with the move, so a repeated call (a lost answer)
 * names the same subscriptions.
 */
final class ServiceMove
{

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
                static fn (): array => self::move($ids['transfer_id'], $ids['service_id'], $ids['from_client_id'], $ids['to_client_id'],
                    $domainId, $email),
            );
        } catch (MoveRefused $refusal) {
            return self::refused($refusal->refusal, $refusal->getMessage());
        } catch (\Throwable $e) {
            // Rolled back: nothing moved. The service asks again later.
            Whmcs::log('MoveService', $ids, get_class($e) . ': ' . $e->getMessage());
            Whmcs::problem('move_failed', sprintf('the move of service #%d (transfer #%d) failed and was undone (%s); '
                . 'the service asks again later', $ids['service_id'], $ids['transfer_id'], get_class($e)));
            return self::refused('internal_error', 'the move failed and was undone; see the WHMCS module log');
        }
        if ($moved['moved']) {
            self::logActivity($ids, $moved);
            self::notifyStaff($ids, $moved['subscriptions_cleared']);
        }
        return ['result' => 'success'] + $moved;
    }

    /**
     * The checks and the move, inside the transaction: a refusal or a
     * failure anywhere rolls every change back.
     *
     * @return array<string, mixed>
     */
    private static function move(int $transferId, int $serviceId, int $from, int $to, ?int $domainId, string $email): array
    {
        $service = Capsule::table('tblhosting')->where('id', $serviceId)->first(['userid', 'domainstatus', 'subscriptionid']);
        if ($service === null) {
            throw new MoveRefused('not_found', "WHMCS has no service {$serviceId}");
        }
        if ((int) $service->userid === $to) {
            // Moved by an earlier call whose answer was lost: that answer again.
            return ['moved' => false] + (self::earlierAnswer($transferId)
                ?? ['addons' => 0, 'ssl_orders' => 0, 'domain_moved' => false, 'subscriptions_cleared' => []]);
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
        $unpaid = OpenInvoices::ofService($serviceId, $domainId);
        if ($unpaid !== []) {
            throw new MoveRefused('unpaid_invoices', 'unpaid invoices carry lines of the service: #' . implode(', #', $unpaid));
        }
        $domain = null;
        if ($domainId !== null) {
            $domain = Capsule::table('tbldomains')->where('id', $domainId)->first(['userid', 'status', 'subscriptionid']);
            if ($domain === null || (int) $domain->userid !== $from || (string) $domain->status !== 'Active') {
                throw new MoveRefused('service_not_active', "domain {$domainId} is not an active domain of client {$from}");
            }
        }
        $addons = Capsule::table('tblhostingaddons')->where('hostingid', $serviceId)->orderBy('id')->get(['id', 'subscriptionid']);
        $addonIds = $addons->map(static fn ($addon): int => (int) $addon->id)->all();
        $cleared = array_merge(
            self::subscriptions('service', [[$serviceId, $service->subscriptionid]]),
            self::subscriptions('addon', $addons->map(static fn ($addon): array => [(int) $addon->id, $addon->subscriptionid])->all()),
            $domain === null ? [] : self::subscriptions('domain', [[$domainId, $domain->subscriptionid]]),
        );

        $changed = Capsule::table('tblhosting')->where('id', $serviceId)->where('userid', $from)
            ->update(['userid' => $to, 'subscriptionid' => '']);
        if ($changed !== 1) {
            throw new MoveRefused('not_owner', "service {$serviceId} changed owner meanwhile");
        }
        $addonsMoved = Capsule::table('tblhostingaddons')->where('hostingid', $serviceId)
            ->update(['userid' => $to, 'subscriptionid' => '']);
        $sslMoved = Capsule::table('tblsslorders')
            ->where(static function ($orders) use ($serviceId, $addonIds): void {
                $orders->where('serviceid', $serviceId);
                if ($addonIds !== []) {
                    $orders->orWhereIn('addon_id', $addonIds);
                }
            })
            ->update(['userid' => $to]);
        $domainMoved = $domainId !== null
            && Capsule::table('tbldomains')->where('id', $domainId)->where('userid', $from)
                ->update(['userid' => $to, 'subscriptionid' => '']) === 1;
        $answer = [
            'addons' => $addonsMoved,
            'ssl_orders' => $sslMoved,
            'domain_moved' => $domainMoved,
            'subscriptions_cleared' => $cleared,
        ];
        self::keepAnswer($transferId, $answer);
        return ['moved' => true] + $answer;
    }

    /**
     * The non-empty subscriptions of `kind` rows ([id, subscriptionid]).
     *
     * @param list<array{0: int, 1: mixed}> $rows
     * @return list<array{kind: string, id: int, subscription: string}>
     */
    private static function subscriptions(string $kind, array $rows): array
    {
        $found = [];
        foreach ($rows as [$id, $subscription]) {
            $subscription = trim((string) $subscription);
            if ($subscription !== '') {
                $found[] = ['kind' => $kind, 'id' => $id, 'subscription' => $subscription];
            }
        }
        return $found;
    }

    /**
     * Keeps a move's answer, in its transaction, for a repeated call.
     *
     * @param array<string, mixed> $answer
     */
    private static function keepAnswer(int $transferId, array $answer): void
    {
        if (Whmcs::has(Schema::STATE)) {
            Capsule::table(Schema::STATE)->updateOrInsert(['name' => "move_{$transferId}"],
                ['value' => json_encode($answer, JSON_UNESCAPED_SLASHES)]);
        }
    }

    /** @return array<string, mixed>|null the answer of the move that happened */
    private static function earlierAnswer(int $transferId): ?array
    {
        if (!Whmcs::has(Schema::STATE)) {
            return null;
        }
        $kept = Capsule::table(Schema::STATE)->where('name', "move_{$transferId}")->value('value');
        $answer = is_string($kept) ? json_decode($kept, true) : null;
        return is_array($answer) ? $answer : null;
    }

    /**
     * Both clients' activity logs say what happened, and what staff must do
     * about cleared subscriptions.
     *
     * @param array<string, int> $ids
     * @param array<string, mixed> $moved
     */
    private static function logActivity(array $ids, array $moved): void
    {
        $text = sprintf('puente: service #%d moved from client #%d to client #%d (transfer #%d, both clients consented)',
            $ids['service_id'], $ids['from_client_id'], $ids['to_client_id'], $ids['transfer_id']);
        if ($moved['domain_moved']) {
            $text .= ', with its domain';
        }
        if ($moved['subscriptions_cleared'] !== []) {
            $text .= '; gateway subscriptions cleared (cancel them at the gateway): ' . self::describe($moved['subscriptions_cleared']);
        }
        foreach ([$ids['from_client_id'], $ids['to_client_id']] as $client) {
            Whmcs::activity($text, $client);
        }
    }

    /**
     * Emails staff the subscriptions to cancel at the gateway (WHMCS's
     * SendAdminEmail, to the admins who get account notifications).
     *
     * @param array<string, int> $ids
     * @param list<array{kind: string, id: int, subscription: string}> $cleared
     */
    private static function notifyStaff(array $ids, array $cleared): void
    {
        if ($cleared === [] || !function_exists('localAPI')) {
            return;
        }
        $items = array_map(static fn (array $one): string => '<li>' . htmlspecialchars(self::describe([$one]), ENT_QUOTES) . '</li>', $cleared);
        $failure = null;
        try {
            $answer = localAPI('SendAdminEmail', [
                'customsubject' => sprintf('puente: cancel %d gateway subscription(s) of a moved service', count($cleared)),
                'custommessage' => sprintf('<p>Service #%d moved from client #%d to client #%d (transfer #%d). '
                    . 'These gateway subscriptions were cleared from WHMCS so that they bill nobody through it, '
                    . 'but the gateway still charges client #%d for them: cancel each there.</p><ul>%s</ul>',
                    $ids['service_id'], $ids['from_client_id'], $ids['to_client_id'], $ids['transfer_id'],
                    $ids['from_client_id'], implode('', $items)),
                'type' => 'account',
            ]);
            if (!is_array($answer) || ($answer['result'] ?? '') !== 'success') {
                $failure = (string) (is_array($answer) ? ($answer['message'] ?? 'no message') : 'no answer');
            }
        } catch (\Throwable $e) {
            $failure = get_class($e);
        }
        if ($failure !== null) {
            Whmcs::problem('move_staff_email', sprintf('The email to staff about the gateway subscriptions cleared by transfer #%d '
                . 'could not be sent (%s): cancel them at the gateway: %s', $ids['transfer_id'], $failure, self::describe($cleared)));
        }
    }

    /** @param list<array{kind: string, id: int, subscription: string}> $cleared */
    private static function describe(array $cleared): string
    {
        return implode(', ', array_map(static fn (array $one): string => "{$one['kind']} #{$one['id']}: {$one['subscription']}", $cleared));
    }

    /** @return array{result: string, code: string, message: string} */
    private static function refused(string $code, string $message): array
    {
        return ['result' => 'error', 'code' => $code, 'message' => $message];
    }
}
