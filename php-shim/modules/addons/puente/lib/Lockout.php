<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Five wrong passwords in fifteen minutes on the cancellation form lock it
 * for that service for fifteen minutes (WHMCS's own login ban does not see
 * this form). Kept in the shared state, so every PHP process sees it.
 */
final class Lockout
{
    public const FAILURES = 5;
    public const WINDOW_SECONDS = 900;

    public function __construct(private SharedState $state, private string $subject)
    {
    }

    /** Seconds the form stays locked, 0 when it is open. */
    public function lockedFor(int $now): int
    {
        $failures = $this->failures($now);
        if (count($failures) < self::FAILURES) {
            return 0;
        }
        return max(0, max($failures) + self::WINDOW_SECONDS - $now);
    }

    public function failed(int $now): void
    {
        $failures = $this->failures($now);
        $failures[] = $now;
        $this->state->write($this->key(), json_encode(array_slice($failures, -self::FAILURES)));
    }

    public function succeeded(): void
    {
        $this->state->write($this->key(), '[]');
    }

    /** @return list<int> the failures within the window */
    private function failures(int $now): array
    {
        $stored = json_decode((string) $this->state->read($this->key()), true);
        $recent = array_filter(is_array($stored) ? $stored : [],
            static fn ($at): bool => is_int($at) && $at > $now - self::WINDOW_SECONDS);
        return array_values($recent);
    }

    private function key(): string
    {
        return 'cancel_lock:' . $this->subject;
    }
}
