<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * "La única forma de dar de baja el servicio es con su email de cliente y la
 * clave de seguridad": the email and password typed again must be the
 * logged-in user's, and that user must own the client account.
 *
 * The password is checked without touching the client's live session where
 * possible: `password_verify` against the user's stored hash
 * (`tblusers.password`) when it is a PHP password hash. WHMCS documents that
 * `ValidateLogin` starts a session and "can affect other aspects of your
 * script if using the LocalAPI", so it is asked only for a hash PHP cannot
 * check (an older WHMCS format). WHMCS may hand posted values to the addon
 * HTML-escaped (`&` as `&amp;`), and may have hashed a password in either
 * form, so the typed value is tried raw, unescaped and escaped: one check,
 * one attempt against the lockout. The password goes nowhere else: never
 * into an envelope, a log or an error.
 */
class Reauthentication
{
    /**
     * @param ?int $userId the logged-in WHMCS 8 user (context.actor.user_id)
     */
    public function check(string $email, string $password, ?int $userId, int $clientId): bool
    {
        if (trim($email) === '' || $password === '' || $userId === null || $clientId <= 0) {
            return false;
        }
        $hash = $this->storedHash($userId, $email);
        if ($hash === false) {
            // Not the logged-in user's email: nothing to check it against.
            return false;
        }
        $valid = $hash !== null && password_get_info($hash)['algoName'] !== 'unknown'
            ? self::verifies($password, $hash)
            : $this->validateLogin($email, $password, $userId);
        return $valid && $this->owns($userId, $clientId);
    }

    /**
     * The forms WHMCS may have handed or hashed the typed value in: as
     * posted, with its HTML entities decoded, and HTML-escaped.
     *
     * @return list<string>
     */
    public static function forms(string $typed): array
    {
        return array_values(array_unique([
            $typed,
            html_entity_decode($typed, ENT_QUOTES | ENT_HTML5, 'UTF-8'),
            htmlspecialchars($typed, ENT_QUOTES, 'UTF-8'),
        ]));
    }

    /** Whether one form of the typed password matches the PHP hash. */
    private static function verifies(string $password, string $hash): bool
    {
        foreach (self::forms($password) as $form) {
            if (password_verify($form, $hash)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The logged-in user's stored password hash, when the typed email is
     * theirs (in any of its forms, case aside); false when it is not (or
     * there is no such user); null when WHMCS's database cannot say (then
     * WHMCS's ValidateLogin decides).
     */
    protected function storedHash(int $userId, string $email): string|false|null
    {
        if (!Whmcs::hasDatabase() || !Whmcs::has('tblusers')) {
            return null;
        }
        $user = Capsule::table('tblusers')->where('id', $userId)->first(['email', 'password']);
        if ($user === null) {
            return false;
        }
        foreach (self::forms(trim($email)) as $form) {
            if (strcasecmp($form, trim((string) $user->email)) === 0) {
                return (string) $user->password;
            }
        }
        return false;
    }

    /**
     * WHMCS's own check, for a hash PHP cannot verify: the answer must be
     * the logged-in user. Each form of the password is one call.
     */
    private function validateLogin(string $email, string $password, int $userId): bool
    {
        if (!function_exists('localAPI')) {
            return false;
        }
        foreach (self::forms($password) as $form) {
            try {
                $answer = localAPI('ValidateLogin', ['email' => trim($email), 'password2' => $form]);
            } catch (\Throwable $e) {
                // Said without the password: only that the check could not run.
                Whmcs::log('reauthentication', '', 'ValidateLogin failed: ' . get_class($e));
                Whmcs::problem('reauthentication_unavailable', 'a client\'s password could not be checked (ValidateLogin failed: '
                    . get_class($e) . '): the client could not confirm a cancellation');
                return false;
            }
            if (is_array($answer) && ($answer['result'] ?? '') === 'success') {
                return (int) ($answer['userid'] ?? 0) === $userId;
            }
        }
        return false;
    }

    /** Whether the user is the client account's owner (not only a user of it). */
    protected function owns(int $userId, int $clientId): bool
    {
        if (!Whmcs::hasDatabase() || !Whmcs::has('tblusers_clients')) {
            return false;
        }
        return Capsule::table('tblusers_clients')
            ->where('auth_user_id', $userId)
            ->where('owner', 1)
            ->where('client_id', $clientId)
            ->exists();
    }
}
