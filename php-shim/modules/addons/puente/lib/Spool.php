<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Events waiting for the service, oldest first. Every implementation keeps
 * an event until remove() is called for it.
 */
interface Spool
{
    public function append(Event $event): void;

    public function isEmpty(): bool;

    public function count(): int;

    /**
     * Whether `$count` or more events wait, cheaply enough to ask on every
     * hook while the service is down (it may count a few more than wait,
     * never fewer).
     */
    public function holdsAtLeast(int $count): bool;

    /**
     * Up to `$limit` events in the order they were appended, each with the
     * reference that remove() and noteFailure() take.
     *
     * @return array<string, Event> reference => event
     */
    public function oldest(int $limit): array;

    public function remove(string $reference): void;

    public function noteFailure(string $reference, string $error): void;
}
