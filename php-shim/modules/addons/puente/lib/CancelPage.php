<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The client's cancellation page (`index.php?m=puente&action=cancel&id=N`,
 * or `&domainid=N`): the seed's conditions, both types with this service's
 * real dates and the invoices that stay payable (the service's preview),
 * then the request once the client has typed their email and password
 * again. The service decides every rule; this page carries the question,
 * checks the password with WHMCS, and never lets the password go further.
 */
final class CancelPage
{
    public const TYPES = ['Immediate', 'End of Billing Period'];

    /** Longest reason sent. */
    private const MAX_REASON_CHARS = 2000;

    /**
     * @param array<string, mixed> $request the page's parameters (a post's own fields first)
     * @param string $sessionToken the session's form token
     * @param \Closure(): int $clock
     * @return array<string, mixed> what `puente_clientarea` returns
     */
    public static function page(
        array $request,
        bool $isPost,
        ClientActions $actions,
        Context $context,
        string $sessionToken,
        Reauthentication $reauthentication,
        SharedState $state,
        \Closure $clock,
    ): array {
        $serviceId = self::positive($request['id'] ?? null);
        $domainId = $serviceId > 0 ? 0 : self::positive($request['domainid'] ?? null);
        $language = Messages::language();
        $vars = [
            'serviceid' => $serviceId,
            'domainid' => $domainId,
            'preview' => null,
            'result' => null,
            'error' => null,
            'error_code' => null,
            'unavailable' => false,
            'token' => $sessionToken,
            'types' => self::TYPES,
            'chosen_type' => in_array($request['type'] ?? null, self::TYPES, true) ? $request['type'] : 'End of Billing Period',
            'email' => '',
            // A request made on WHMCS's own form, waiting for this confirmation.
            'awaiting' => null,
        ];
        $subject = $serviceId > 0 ? ['service_id' => $serviceId] : ($domainId > 0 ? ['domain_id' => $domainId] : null);
        $clientId = (int) ($context->actor['id'] ?? 0);
        if ($subject === null) {
            $vars['error'] = Messages::text('cancel_choose');
        } elseif ($context->actor['kind'] !== 'client') {
            $vars['error'] = Messages::text('upgrade_clients_only');
        } elseif ($isPost) {
            $lockout = new Lockout($state, $serviceId > 0 ? "{$clientId}:service{$serviceId}" : "{$clientId}:domain{$domainId}");
            $vars = self::submit($vars, $request, $subject, $actions, $context, $sessionToken, $reauthentication, $lockout,
                $clock, $language);
        }
        if ($subject !== null && $vars['result'] === null && !$vars['unavailable'] && $context->actor['kind'] === 'client') {
            $answer = $actions->send(ClientActions::CANCEL_PREVIEW, $subject + ['language' => $language], $context);
            $vars = self::preview($vars, $answer, isset($request['type']));
        }
        return [
            'pagetitle' => Messages::text('cancel_title'),
            'breadcrumb' => ['index.php?m=puente&action=cancel' => Messages::text('cancel_title')],
            'templatefile' => 'cancel',
            'requirelogin' => true,
            'forcessl' => false,
            'vars' => $vars + ['texts' => Messages::all()],
        ];
    }

    /**
     * The request: token, lockout, the password checked by WHMCS, then the
     * service. A wrong password changes nothing but the failure count.
     *
     * @param array<string, mixed> $vars
     * @param array<string, mixed> $request
     * @param array<string, int> $subject
     * @param \Closure(): int $clock
     * @return array<string, mixed>
     */
    private static function submit(
        array $vars,
        array $request,
        array $subject,
        ClientActions $actions,
        Context $context,
        string $sessionToken,
        Reauthentication $reauthentication,
        Lockout $lockout,
        \Closure $clock,
        string $language,
    ): array {
        if (!FormToken::accepts($request['token'] ?? null, $sessionToken)) {
            return ['error' => Messages::text('form_expired'), 'error_code' => 'invalid_token'] + $vars;
        }
        $now = ($clock)();
        $locked = $lockout->lockedFor($now);
        if ($locked > 0) {
            return ['error' => sprintf(Messages::text('cancel_locked'), (int) ceil($locked / 60)), 'error_code' => 'locked'] + $vars;
        }
        $email = trim((string) ($request['email'] ?? ''));
        $password = (string) ($request['password'] ?? '');
        $type = $request['type'] ?? null;
        if (isset($subject['service_id']) && !in_array($type, self::TYPES, true)) {
            return ['error' => Messages::text('cancel_choose_type'), 'error_code' => 'type_missing', 'email' => $email] + $vars;
        }
        $userId = isset($context->actor['user_id']) ? (int) $context->actor['user_id'] : null;
        $valid = $reauthentication->check($email, $password, $userId, (int) ($context->actor['id'] ?? 0));
        unset($password);
        if (!$valid) {
            $lockout->failed($now);
            return ['error' => Messages::text('cancel_wrong_credentials'), 'error_code' => 'wrong_credentials', 'email' => $email] + $vars;
        }
        $lockout->succeeded();
        $data = $subject + [
            'reason' => mb_substr(trim((string) ($request['reason'] ?? '')), 0, self::MAX_REASON_CHARS),
            'language' => $language,
        ];
        if (isset($subject['service_id'])) {
            $data['type'] = $type;
        }
        $answer = $actions->send(ClientActions::CANCEL, $data, $context->reauthenticated());
        $status = $answer['status'];
        if ($status >= 200 && $status < 300) {
            $vars['result'] = $answer['body'];
            return $vars;
        }
        return self::refusal($vars, $answer);
    }

    /**
     * The service's preview; a request the client made on WHMCS's own form
     * is shown as waiting for this confirmation, its type chosen.
     *
     * @param array<string, mixed> $vars
     * @param array{status: int, body: array<string, mixed>} $answer
     * @param bool $typeChosen the client already picked a type on this page
     * @return array<string, mixed>
     */
    private static function preview(array $vars, array $answer, bool $typeChosen): array
    {
        if ($answer['status'] === 200) {
            $vars['preview'] = $answer['body'];
            $awaiting = $answer['body']['awaiting_confirmation'] ?? null;
            if (is_array($awaiting)) {
                $type = in_array($awaiting['type'] ?? null, self::TYPES, true) ? $awaiting['type'] : 'End of Billing Period';
                $kind = Messages::text($type === 'Immediate' ? 'cancel_kind_immediate' : 'cancel_kind_end');
                $vars['awaiting'] = sprintf(Messages::text('cancel_awaiting_confirmation'), $kind, (string) ($awaiting['requested_on'] ?? ''));
                if (!$typeChosen) {
                    $vars['chosen_type'] = $type;
                }
            }
            return $vars;
        }
        // An earlier error (a wrong password, say) stays the one shown.
        return $vars['error'] === null ? self::refusal($vars, $answer) : $vars;
    }

    /**
     * The service's refusal in the client's words: its own text for a rule
     * (409), the page's words for who-may and unknown services.
     *
     * @param array<string, mixed> $vars
     * @param array{status: int, body: array<string, mixed>} $answer
     * @return array<string, mixed>
     */
    private static function refusal(array $vars, array $answer): array
    {
        $status = $answer['status'];
        $code = (string) ($answer['body']['error']['code'] ?? '');
        $vars['error_code'] = $code;
        if ($status === 0 || $status >= 500) {
            $vars['unavailable'] = true;
            $vars['error'] = Messages::text('try_again_later');
        } elseif ($status === 409) {
            $vars['error'] = (string) ($answer['body']['error']['message'] ?? Messages::text('try_again_later'));
        } elseif (in_array($code, ['not_owner', 'not_found'], true)) {
            $vars['error'] = Messages::text('upgrade_service_unknown');
        } else {
            $vars['error'] = Messages::text('try_again_later');
        }
        return $vars;
    }

    private static function positive(mixed $value): int
    {
        return is_numeric($value) && (int) $value > 0 ? (int) $value : 0;
    }
}
