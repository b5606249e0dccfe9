<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * "La única forma de dar de baja el servicio es con su email de cliente y la
 * clave de seguridad": the email and password typed again, checked by WHMCS
 * itself (`localAPI('ValidateLogin')`), must be the logged-in user's, and
 * that user must own the client account. The password goes to WHMCS's
 * local API and nowhere else: never into an envelope, a log or an error.
 */
class Reauthentication
{
    /**
     * @param ?int $userId the logged-in WHMCS 8 user (context.actor.user_id)
     */
    public function check(string $email, string $password, ?int $userId, int $clientId): bool
    {
        if ($email === '' || $password === '' || $userId === null || $clientId <= 0 || !function_exists('localAPI')) {
            return false;
        }
        try {
            $answer = localAPI('ValidateLogin', ['email' => $email, 'password2' => $password]);
        } catch (\Throwable $e) {
            // Said without the password: only that the check could not run.
            Whmcs::log('reauthentication', '', 'ValidateLogin failed: ' . get_class($e));
            return false;
        }
        if (!is_array($answer) || ($answer['result'] ?? '') !== 'success' || (int) ($answer['userid'] ?? 0) !== $userId) {
            return false;
        }
        return $this->owns($userId, $clientId);
    }

    /** Whether the user is the client account's owner (not only a user of it). */
    protected function owns(int $userId, int $clientId): bool
    {
        if (!Whmcs::hasDatabase() || !Whmcs::has('tblusers_clients')) {
            return false;
        }
        return Capsule::table('tblusers_clients')
            ->where('auth_user_id', $userId)
            ->where('client_id', $clientId)
            ->where('owner', 1)
            ->exists();
    }
}
