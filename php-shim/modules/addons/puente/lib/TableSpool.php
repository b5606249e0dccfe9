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

    /**
     * The span of waiting sequence numbers: two primary-key lookups, where
     * COUNT(*) would read every row. Duplicates ignored by append() can
     * leave gaps, so the span may exceed the count by that many.
     */
    public function holdsAtLeast(int $count): bool
    {
        $span = Capsule::table(Schema::SPOOL)
            ->selectRaw('MIN(seq) AS first_seq, MAX(seq) AS last_seq')
            ->first();
        if ($span === null || $span->first_seq === null) {
            return $count <= 0;
        }
        return (int) $span->last_seq - (int) $span->first_seq + 1 >= $count;
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
