<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The spool as one file per event in a folder, for when there is no WHMCS
 * database. Files appear whole (written aside, then renamed) and their names
 * sort in arrival order.
 */
final class FileSpool implements Spool
{
    private string $dir;

    public function __construct(string $dir)
    {
        $this->dir = rtrim($dir, '/') . '/spool';
        Files::ensureDirectory($this->dir);
    }

    public function append(Event $event): void
    {
        // Microseconds, then the ULID (time-ordered) for events of one instant.
        $name = sprintf('%017d-%s.json', (int) (microtime(true) * 1e6), $event->id);
        Files::writeAtomically("{$this->dir}/{$name}", $this->encode($event, 0, null));
    }

    public function isEmpty(): bool
    {
        return $this->names(1) === [];
    }

    public function count(): int
    {
        return count($this->names(PHP_INT_MAX));
    }

    public function oldest(int $limit): array
    {
        $events = [];
        foreach ($this->names($limit) as $name) {
            $record = json_decode((string) @file_get_contents("{$this->dir}/{$name}"), true);
            if (is_array($record) && isset($record['id'], $record['type'], $record['instance'], $record['body'])) {
                $events[$name] = new Event($record['id'], $record['type'], $record['instance'], $record['body']);
            }
        }
        return $events;
    }

    public function remove(string $reference): void
    {
        @unlink("{$this->dir}/" . basename($reference));
    }

    public function noteFailure(string $reference, string $error): void
    {
        $path = "{$this->dir}/" . basename($reference);
        $record = json_decode((string) @file_get_contents($path), true);
        if (is_array($record) && isset($record['id'], $record['type'], $record['instance'], $record['body'])) {
            $event = new Event($record['id'], $record['type'], $record['instance'], $record['body']);
            Files::writeAtomically($path, $this->encode($event, (int) ($record['attempts'] ?? 0) + 1, $error));
        }
    }

    /** @return string[] */
    private function names(int $limit): array
    {
        $names = [];
        foreach (@scandir($this->dir) ?: [] as $name) {
            if (str_ends_with($name, '.json')) {
                $names[] = $name;
                if (count($names) >= $limit) {
                    break;
                }
            }
        }
        return $names;
    }

    private function encode(Event $event, int $attempts, ?string $error): string
    {
        return json_encode([
            'id' => $event->id,
            'type' => $event->type,
            'instance' => $event->instance,
            'body' => $event->body,
            'attempts' => $attempts,
            'last_error' => $error,
        ], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
    }
}
