<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The client's transfers page (`index.php?m=puente&action=transfers`, with
 * `&id=N` to offer a service): asking to move a service to another client
 * by their email (and the domain of the same name with it), the requests
 * addressed to the client with accept and decline, their own with withdraw,
 * and every transfer's status. The service decides every rule; this page
 * carries the questions and shows the answers.
 */
final class TransferPage
{
    private const STEPS = ['accept', 'decline', 'withdraw'];

    /**
     * @param array<string, mixed> $request the page's parameters (a post's own fields first)
     * @return array<string, mixed> what `puente_clientarea` returns
     */
    public static function page(array $request, bool $isPost, ClientActions $actions, Context $context, string $sessionToken): array
    {
        $language = Messages::language();
        $serviceId = self::positive($request['id'] ?? null);
        $clientId = (int) ($context->actor['id'] ?? 0);
        $vars = [
            'serviceid' => $serviceId,
            'domain' => $serviceId > 0 ? self::domainOf($serviceId, $clientId) : null,
            'outgoing' => [],
            'incoming' => [],
            'notice' => null,
            'error' => null,
            'error_code' => null,
            'unavailable' => false,
            'token' => $sessionToken,
            'email' => '',
        ];
        if ($context->actor['kind'] !== 'client') {
            $vars['error'] = Messages::text('upgrade_clients_only');
        } else {
            if ($isPost) {
                $vars = self::submit($vars, $request, $actions, $context, $sessionToken, $language);
            }
            $answer = $actions->send(ClientActions::TRANSFER_LIST, ['language' => $language], $context);
            if ($answer['status'] === 200) {
                $vars['outgoing'] = self::shown($answer['body']['outgoing'] ?? []);
                $vars['incoming'] = self::shown($answer['body']['incoming'] ?? []);
            } elseif ($vars['error'] === null) {
                $vars = self::refusal($vars, $answer);
            }
        }
        return [
            'pagetitle' => Messages::text('transfer_title'),
            'breadcrumb' => ['index.php?m=puente&action=transfers' => Messages::text('transfer_title')],
            'templatefile' => 'transfers',
            'requirelogin' => true,
            'forcessl' => false,
            'vars' => $vars + ['texts' => Messages::all()],
        ];
    }

    /**
     * @param array<string, mixed> $vars
     * @param array<string, mixed> $request
     * @return array<string, mixed>
     */
    private static function submit(array $vars, array $request, ClientActions $actions, Context $context, string $sessionToken, string $language): array
    {
        if (!FormToken::accepts($request['token'] ?? null, $sessionToken)) {
            return ['error' => Messages::text('form_expired'), 'error_code' => 'invalid_token'] + $vars;
        }
        $step = (string) ($request['step'] ?? '');
        if ($step === 'request') {
            $email = trim((string) ($request['recipient_email'] ?? ''));
            $data = ['service_id' => $vars['serviceid'], 'recipient_email' => $email, 'language' => $language];
            if (($request['with_domain'] ?? '') === '1' && is_array($vars['domain'])) {
                $data['domain_id'] = $vars['domain']['id'];
            }
            $answer = $actions->send(ClientActions::TRANSFER, $data, $context);
            if ($answer['status'] === 201) {
                return ['notice' => Messages::text('transfer_requested_ok')] + $vars;
            }
            return self::refusal(['email' => $email] + $vars, $answer);
        }
        $transferId = self::positive($request['transfer'] ?? null);
        if (!in_array($step, self::STEPS, true) || $transferId === 0) {
            return ['error' => Messages::text('try_again_later'), 'error_code' => 'invalid_step'] + $vars;
        }
        $answer = $actions->send(ClientActions::TRANSFER . "/{$transferId}/{$step}", ['language' => $language], $context);
        if ($answer['status'] === 200) {
            return ['notice' => Messages::text("transfer_{$step}_ok")] + $vars;
        }
        return self::refusal($vars, $answer);
    }

    /**
     * The service's refusal: its own words for a rule or who may (it
     * explains every transfer refusal in the client's language).
     *
     * @param array<string, mixed> $vars
     * @param array{status: int, body: array<string, mixed>} $answer
     * @return array<string, mixed>
     */
    private static function refusal(array $vars, array $answer): array
    {
        $status = $answer['status'];
        $vars['error_code'] = (string) ($answer['body']['error']['code'] ?? '');
        if ($status === 0 || $status >= 500) {
            $vars['unavailable'] = true;
            $vars['error'] = Messages::text('try_again_later');
        } elseif ($status === 404) {
            $vars['error'] = Messages::text('transfer_unknown');
        } else {
            $vars['error'] = (string) ($answer['body']['error']['message'] ?? Messages::text('try_again_later'));
        }
        return $vars;
    }

    /**
     * Each transfer as the template shows it, with the steps the client may
     * take on it.
     *
     * @param mixed $transfers
     * @return list<array<string, mixed>>
     */
    private static function shown(mixed $transfers): array
    {
        return array_values(array_filter(is_array($transfers) ? $transfers : [], 'is_array'));
    }

    /**
     * The client's active domain of the service's name, which may move with
     * it; null when there is none (or no database to ask).
     *
     * @return array{id: int, name: string}|null
     */
    private static function domainOf(int $serviceId, int $clientId): ?array
    {
        if (!Whmcs::hasDatabase() || $clientId <= 0) {
            return null;
        }
        try {
            $name = Capsule::table('tblhosting')->where('id', $serviceId)->where('userid', $clientId)->value('domain');
            if (!is_string($name) || trim($name) === '') {
                return null;
            }
            $id = Capsule::table('tbldomains')->where('userid', $clientId)->where('domain', trim($name))
                ->where('status', 'Active')->value('id');
            return $id === null ? null : ['id' => (int) $id, 'name' => trim($name)];
        } catch (\Throwable $e) {
            Whmcs::log('transfer page', '', get_class($e) . ': ' . $e->getMessage());
            return null;
        }
    }

    private static function positive(mixed $value): int
    {
        return is_numeric($value) && (int) $value > 0 ? (int) $value : 0;
    }
}
