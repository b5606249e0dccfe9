<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The spool as a table of the WHMCS database, ordered by its sequence.
 */
final class TableSpool implements Spool
{
    public function append(Event $event): void
    {
        // A webhook-id already waiting is the same event: keep the first.
        Capsule::table(Schema::SPOOL)->insertOrIgnore([
            'webhook_id' => $event->id,
            'type' => $event->type,
            'instance' => $event->instance,
            'body' => $event->body,
            'spooled_at' => time(),
        ]);
    }

    public function isEmpty(): bool
    {
        return !Capsule::table(Schema::SPOOL)->exists();
    }

    public function count(): int
    {
        return Capsule::table(Schema::SPOOL)->count();
    }

    public function oldest(int $limit): array
    {
        $events = [];
        foreach (Capsule::table(Schema::SPOOL)->orderBy('seq')->limit($limit)->get() as $row) {
            $events[(string) $row->seq] = new Event($row->webhook_id, $row->type, $row->instance, $row->body);
        }
        return $events;
    }

    public function remove(string $reference): void
    {
        Capsule::table(Schema::SPOOL)->where('seq', (int) $reference)->delete();
    }

    public function noteFailure(string $reference, string $error): void
    {
        Capsule::table(Schema::SPOOL)->where('seq', (int) $reference)->update([
            'attempts' => Capsule::raw('attempts + 1'),
            'last_error' => substr($error, 0, 255),
        ]);
    }
}
