<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * What one HTTP exchange gave: a status (0 when none came back), the body,
 * curl's error text for a transport failure, and whether the request never
 * reached the service (no connection was made: another replica may take it).
 */
final class Response
{
    /** Statuses that retrying cannot fix (SPEC §3.6). */
    private const PERMANENT = [400, 413, 415];

    public function __construct(
        public readonly int $status,
        public readonly string $body,
        public readonly string $error = '',
        public readonly bool $unreached = false,
    ) {
    }

    public function isSuccess(): bool
    {
        return $this->status >= 200 && $this->status < 300;
    }

    /** The service refused the event itself; sending it again would fail again. */
    public function isPermanentFailure(): bool
    {
        return in_array($this->status, self::PERMANENT, true);
    }

    /** A short description for logs and the admin page. */
    public function describe(): string
    {
        if ($this->status === 0) {
            return 'no answer: ' . ($this->error === '' ? 'unknown transport error' : $this->error);
        }
        $error = json_decode($this->body, true)['error'] ?? null;
        if (is_array($error) && isset($error['code'])) {
            return "HTTP {$this->status} {$error['code']}: " . substr((string) ($error['message'] ?? ''), 0, 200);
        }
        return "HTTP {$this->status}";
    }
}
