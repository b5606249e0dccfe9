<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's client-area page (`index.php?m=puente`): the upgrade preview
 * of a service (what the chosen plan and cycle will cost under puente's
 * policy) and the manual upgrade request when no automatic upgrade is
 * possible. Returns what WHMCS's `<module>_clientarea` returns.
 */
final class ClientArea
{
    /**
     * @param array<string, mixed> $request the page's parameters (a post's own fields first)
     * @param string $sessionToken the session's form token: a post whose `token` differs does nothing
     * @return array<string, mixed>
     */
    public static function page(array $request, bool $isPost, ClientActions $actions, Context $context, string $sessionToken): array
    {
        $serviceId = self::positive($request['id'] ?? null);
        $targetPid = self::positive($request['pid'] ?? null);
        $cycle = preg_replace('/[^A-Za-z -]/', '', (string) ($request['billingcycle'] ?? '')) ?? '';
        $vars = [
            'serviceid' => $serviceId,
            'pid' => $targetPid,
            'billingcycle' => $cycle,
            'quote' => null,
            'ticket' => null,
            'error' => null,
            'unavailable' => false,
            'token' => $sessionToken,
        ];
        if ($isPost && !FormToken::accepts($request['token'] ?? null, $sessionToken)) {
            // A post from another site, or from a page older than the session.
            $vars['error'] = Messages::text('form_expired');
            $vars['error_code'] = 'invalid_token';
        } elseif ($serviceId > 0 && $targetPid > 0 && $cycle !== '') {
            $facts = UpgradeFacts::forClientAction($serviceId, $targetPid);
            $data = ['service_id' => $serviceId, 'product_id' => $targetPid, 'cycle' => $cycle];
            if ($facts !== null) {
                $data['_puente'] = $facts;
            }
            $manual = $isPost && ($request['action'] ?? '') === 'manual';
            if ($manual) {
                $data['note'] = mb_substr(trim((string) ($request['note'] ?? '')), 0, 2000);
            }
            $answer = $actions->send($manual ? ClientActions::UPGRADE_MANUAL : ClientActions::UPGRADE_QUOTE, $data, $context);
            $vars = self::answer($vars, $answer, $manual);
        }
        return [
            'pagetitle' => Messages::text('upgrade_title'),
            'breadcrumb' => ['index.php?m=puente' => Messages::text('upgrade_title')],
            'templatefile' => 'upgrade',
            'requirelogin' => true,
            'forcessl' => false,
            'vars' => $vars + ['texts' => Messages::all()],
        ];
    }

    /**
     * @param array<string, mixed> $vars
     * @param array{status: int, body: array<string, mixed>} $answer
     * @return array<string, mixed>
     */
    private static function answer(array $vars, array $answer, bool $manual): array
    {
        $status = $answer['status'];
        $body = $answer['body'];
        if ($status === 0 || $status >= 500) {
            $vars['unavailable'] = true;
            $vars['error'] = Messages::text('try_again_later');
        } elseif ($status >= 200 && $status < 300) {
            $vars[$manual ? 'ticket' : 'quote'] = $body;
        } else {
            // The service explains its rule refusals (409) in the client's
            // language; who-may refusals get the page's own words.
            $code = (string) ($body['error']['code'] ?? '');
            $vars['error_code'] = $code;
            $vars['error'] = match (true) {
                $status === 409 => (string) ($body['error']['message'] ?? Messages::text('try_again_later')),
                in_array($code, ['not_owner', 'not_found'], true) => Messages::text('upgrade_service_unknown'),
                $code === 'actor_not_client' => Messages::text('upgrade_clients_only'),
                default => Messages::text('try_again_later'),
            };
        }
        return $vars;
    }

    private static function positive(mixed $value): int
    {
        return is_numeric($value) && (int) $value > 0 ? (int) $value : 0;
    }
}
