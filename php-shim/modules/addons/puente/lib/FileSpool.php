<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The spool as an append-only journal in a folder, for when there is no
 * WHMCS database: one JSON line per event, appended under an exclusive
 * flock, and the byte offset of the oldest waiting event beside it. Events
 * leave oldest first, so leaving is moving the offset; a drained journal is
 * truncated. Appending costs a few microseconds whatever the journal holds.
 */
final class FileSpool implements Spool
{
    private string $journal;
    private string $offsetFile;
    private string $failureFile;
    private string $countFile;

    /** No journal line is shorter: below this many bytes per event, it is not full. */
    private const SMALLEST_LINE = 64;

    public function __construct(string $dir)
    {
        $dir = rtrim($dir, '/') . '/spool';
        Files::ensureDirectory($dir);
        $this->journal = "{$dir}/journal";
        $this->offsetFile = "{$dir}/offset";
        $this->failureFile = "{$dir}/head-failure";
        $this->countFile = "{$dir}/count";
    }

    public function append(Event $event): void
    {
        $line = json_encode([
            'id' => $event->id,
            'type' => $event->type,
            'instance' => $event->instance,
            'body' => $event->body,
        ], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR) . "\n";
        $this->withJournal('a', function ($handle) use ($line): void {
            if (fwrite($handle, $line) !== strlen($line) || !fflush($handle)) {
                throw new \RuntimeException("cannot append to {$this->journal}");
            }
        });
    }

    public function isEmpty(): bool
    {
        clearstatcache(true, $this->journal);
        $size = @filesize($this->journal);
        return $size === false || $size <= $this->offset();
    }

    public function count(): int
    {
        $handle = @fopen($this->journal, 'r');
        if ($handle === false) {
            return 0;
        }
        fseek($handle, $this->offset());
        $count = 0;
        while (($line = fgets($handle)) !== false) {
            $count += str_ends_with($line, "\n") ? 1 : 0;
        }
        fclose($handle);
        return $count;
    }

    /**
     * A size check first; only a journal big enough to be full is counted,
     * from where the last count stopped (the count is kept beside it with
     * the offset and size it was made at).
     */
    public function holdsAtLeast(int $count): bool
    {
        clearstatcache(true, $this->journal);
        $size = (int) @filesize($this->journal);
        $offset = $this->offset();
        if ($size - $offset < $count * self::SMALLEST_LINE) {
            return false;
        }
        $kept = json_decode((string) @file_get_contents($this->countFile), true);
        [$from, $lines] = is_array($kept) && ($kept['offset'] ?? null) === $offset
            && ($kept['size'] ?? PHP_INT_MAX) <= $size
            ? [(int) $kept['size'], (int) $kept['lines']]
            : [$offset, 0];
        $lines += $this->linesBetween($from, $size);
        Files::writeAtomically($this->countFile, json_encode(['offset' => $offset, 'size' => $size, 'lines' => $lines]));
        return $lines >= $count;
    }

    /**
     * References are the byte offset just past each event's line.
     */
    public function oldest(int $limit): array
    {
        $handle = @fopen($this->journal, 'r');
        if ($handle === false) {
            return [];
        }
        fseek($handle, $this->offset());
        $events = [];
        while (count($events) < $limit && ($line = fgets($handle)) !== false) {
            if (!str_ends_with($line, "\n")) {
                break; // an append in progress; it is read next time
            }
            $record = json_decode($line, true);
            if (is_array($record) && isset($record['id'], $record['type'], $record['instance'], $record['body'])) {
                $events[(string) ftell($handle)] = new Event($record['id'], $record['type'], $record['instance'], $record['body']);
            } else {
                // A line torn by a crash cannot be sent; skip it, but say so.
                Whmcs::log('spool', '', 'skipped an unreadable spool line: ' . substr($line, 0, 200));
                $this->remove((string) ftell($handle));
            }
        }
        fclose($handle);
        return $events;
    }

    /** Removes the event and every older one (the spool drains in order). */
    public function remove(string $reference): void
    {
        $offset = (int) $reference;
        if ($offset <= $this->offset()) {
            return;
        }
        Files::writeAtomically($this->offsetFile, (string) $offset);
        @unlink($this->failureFile);
        $this->withJournal('c', function ($handle) use ($offset): void {
            // Drained: start the journal again, unless an append came in meanwhile.
            if (fstat($handle)['size'] === $offset) {
                ftruncate($handle, 0);
                Files::writeAtomically($this->offsetFile, '0');
            }
        });
    }

    public function noteFailure(string $reference, string $error): void
    {
        $previous = json_decode((string) @file_get_contents($this->failureFile), true);
        $attempts = is_array($previous) && ($previous['reference'] ?? null) === $reference ? (int) $previous['attempts'] : 0;
        Files::writeAtomically($this->failureFile, json_encode(['reference' => $reference, 'attempts' => $attempts + 1, 'error' => $error]));
    }

    private function linesBetween(int $from, int $to): int
    {
        $handle = @fopen($this->journal, 'r');
        if ($handle === false || $to <= $from) {
            return 0;
        }
        fseek($handle, $from);
        $lines = 0;
        $left = $to - $from;
        while ($left > 0 && ($chunk = fread($handle, min($left, 1 << 16))) !== false && $chunk !== '') {
            $lines += substr_count($chunk, "\n");
            $left -= strlen($chunk);
        }
        fclose($handle);
        return $lines;
    }

    private function offset(): int
    {
        return (int) @file_get_contents($this->offsetFile);
    }

    /** @param callable(resource): void $change */
    private function withJournal(string $mode, callable $change): void
    {
        $handle = fopen($this->journal, $mode);
        if ($handle === false) {
            throw new \RuntimeException("cannot open {$this->journal}");
        }
        try {
            if (!flock($handle, LOCK_EX)) {
                throw new \RuntimeException("cannot lock {$this->journal}");
            }
            $change($handle);
        } finally {
            flock($handle, LOCK_UN);
            fclose($handle);
        }
    }
}
