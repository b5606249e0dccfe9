<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * A circuit breaker shared by every PHP process of the install. One failed
 * send opens it for a window; while open, hooks make no connection attempt.
 * When the window ends one process wins the right to try again (the probe);
 * the others keep spooling until it succeeds.
 */
final class Breaker
{
    /** The first (or only) service URL's breaker. */
    public const NAME = 'breaker_open_until';

    /** Whether the last read found the breaker closed (saves a read on success). */
    private bool $seenClosed = false;

    /** @param string $name the shared state it lives in (one per service URL) */
    public function __construct(private SharedState $state, private int $windowSeconds, private string $name = self::NAME)
    {
    }

    /** Whether this process may try the service now. */
    public function allows(int $now): bool
    {
        $openUntil = $this->state->read($this->name);
        $this->seenClosed = $openUntil === null || (int) $openUntil === 0;
        if ($this->seenClosed) {
            return true;
        }
        if ($now < (int) $openUntil) {
            return false;
        }
        return $this->state->compareAndSet($this->name, $openUntil, (string) ($now + $this->windowSeconds));
    }

    public function isOpen(int $now): bool
    {
        return $now < (int) ($this->state->read($this->name) ?? 0);
    }

    public function succeeded(): void
    {
        if ($this->seenClosed) {
            return;
        }
        $openUntil = $this->state->read($this->name);
        if ($openUntil !== null && (int) $openUntil !== 0) {
            $this->state->write($this->name, '0');
        }
    }

    public function failed(int $now): void
    {
        $this->seenClosed = false;
        $this->state->write($this->name, (string) ($now + $this->windowSeconds));
    }
}
