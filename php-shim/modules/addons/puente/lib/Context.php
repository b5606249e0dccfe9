<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Who caused a hook and through which door: the envelope's `context.actor`
 * and `context.source`.
 */
final class Context
{
    /**
     * @param array{kind: string, id?: int, user_id?: int} $actor
     * @param bool $reauthenticated the client re-entered their email and
     *        password for this action (signed as `context.reauthenticated`)
     */
    private function __construct(
        public readonly array $actor,
        public readonly string $source,
        public readonly bool $reauthenticated = false,
    ) {
    }

    /** The same context, for an action the client re-authenticated. */
    public function reauthenticated(): self
    {
        return new self($this->actor, $this->source, true);
    }

    /**
     * The WHMCS admin logged in to this session ($_SESSION['adminid']), for
     * the addon's admin page.
     *
     * @param array<string, mixed> $session
     */
    public static function loggedInAdmin(array $session): ?int
    {
        return self::id($session['adminid'] ?? null);
    }

    /** The context of the running PHP request or cron process. */
    public static function detect(): self
    {
        $userId = null;
        try {
            if (class_exists(\WHMCS\Authentication\CurrentUser::class)) {
                $userId = (new \WHMCS\Authentication\CurrentUser())->user()?->id;
            }
        } catch (\Throwable $e) {
            $userId = null;
        }
        return self::from(
            $_SESSION ?? [],
            defined('ADMINAREA'),
            PHP_SAPI === 'cli',
            (string) ($_SERVER['SCRIPT_NAME'] ?? ''),
            is_numeric($userId) ? (int) $userId : null,
        );
    }

    /**
     * Decides the context from what WHMCS exposes (see
     * docs/WHMCS-ASSUMPTIONS.md): the cron runs on php-cli; the external
     * API is includes/api.php; admin pages define ADMINAREA and keep the
     * admin in $_SESSION['adminid']; the client area keeps the active client
     * in $_SESSION['uid']. An admin logged in as a client is the admin.
     *
     * @param array<string, mixed> $session
     */
    public static function from(array $session, bool $adminArea, bool $cli, string $script, ?int $userId = null): self
    {
        $adminId = self::id($session['adminid'] ?? null);
        $clientId = self::id($session['uid'] ?? null);
        if (str_ends_with($script, '/includes/api.php')) {
            return new self(['kind' => 'api'], 'api');
        }
        if ($cli) {
            return new self(['kind' => 'system'], 'cron');
        }
        if ($adminArea) {
            return new self($adminId === null ? ['kind' => 'system'] : ['kind' => 'admin', 'id' => $adminId], 'adminarea');
        }
        if ($adminId !== null) {
            return new self(['kind' => 'admin', 'id' => $adminId], 'clientarea');
        }
        if ($clientId !== null) {
            $actor = ['kind' => 'client', 'id' => $clientId];
            if ($userId !== null) {
                $actor['user_id'] = $userId;
            }
            return new self($actor, 'clientarea');
        }
        // A payment gateway callback or another anonymous client-area request.
        return new self(['kind' => 'system'], 'clientarea');
    }

    private static function id(mixed $value): ?int
    {
        return is_numeric($value) && (int) $value > 0 ? (int) $value : null;
    }
}
