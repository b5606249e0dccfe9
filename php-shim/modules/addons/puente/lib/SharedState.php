<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Small named values every PHP process of the install sees (WHMCS runs a
 * new process per request): the breaker, the replay lock, counters.
 */
interface SharedState
{
    public function read(string $name): ?string;

    public function write(string $name, string $value): void;

    /** Sets `$name` to `$value` only if it still holds `$expected` (null: absent). */
    public function compareAndSet(string $name, ?string $expected, string $value): bool;
}
