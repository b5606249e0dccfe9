<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Failures staff must act on, where staff look. WHMCS's module log records
 * only while module logging is switched on (off by default: developer docs,
 * `module-logging`), so each problem also goes to the Activity Log (always
 * on) and is kept for the addon's admin page with how often it happened.
 * A problem that repeats (the service down for an hour of hooks) is written
 * to the Activity Log at most once an hour per kind; the page counts them
 * all. Kept in the shared state, so every PHP process adds to one list.
 */
final class Problems
{
    /** State key of the list. */
    private const KEY = 'problems';
    /** Seconds before the same kind is written to the Activity Log again. */
    public const LOG_EVERY = 3600;
    /** Kinds kept (the most recent). */
    private const KEEP = 20;
    /** Longest message kept. */
    private const MESSAGE_CHARS = 500;

    /**
     * @param \Closure(): int $clock Unix seconds
     */
    public function __construct(private SharedState $state, private \Closure $clock)
    {
    }

    /**
     * Records a problem of `kind` (a short snake_case name) with what
     * happened and what to do. Never throws.
     */
    public function report(string $kind, string $message): void
    {
        $message = mb_substr(trim($message), 0, self::MESSAGE_CHARS);
        $now = ($this->clock)();
        $log = false;
        try {
            for ($try = 0; $try < 5; $try++) {
                $stored = $this->state->read(self::KEY);
                $problems = self::decode($stored);
                $problem = $problems[$kind] ?? ['count' => 0, 'first_at' => $now, 'logged_at' => 0];
                $log = $now - (int) $problem['logged_at'] >= self::LOG_EVERY;
                $problems[$kind] = [
                    'message' => $message,
                    'count' => (int) $problem['count'] + 1,
                    'first_at' => (int) $problem['first_at'],
                    'last_at' => $now,
                    'logged_at' => $log ? $now : (int) $problem['logged_at'],
                ];
                uasort($problems, static fn (array $a, array $b): int => $b['last_at'] <=> $a['last_at']);
                $problems = array_slice($problems, 0, self::KEEP, true);
                if ($this->state->compareAndSet(self::KEY, $stored, (string) json_encode($problems, JSON_UNESCAPED_SLASHES))) {
                    break;
                }
            }
        } catch (\Throwable $e) {
            // The shared state failing must not hide the problem itself.
            $log = true;
        }
        if ($log) {
            Whmcs::activity("puente: {$message} (Addons > puente shows what to do)");
        }
    }

    /**
     * The problems kept, most recent first.
     *
     * @return array<string, array{message: string, count: int, first_at: int, last_at: int, logged_at: int}>
     */
    public function recent(): array
    {
        try {
            return self::decode($this->state->read(self::KEY));
        } catch (\Throwable $e) {
            return [];
        }
    }

    /** Forgets every problem (the administrator dealt with them). */
    public function clear(): void
    {
        $this->state->write(self::KEY, '{}');
    }

    /** @return array<string, array<string, mixed>> */
    private static function decode(?string $stored): array
    {
        $problems = $stored === null ? [] : json_decode($stored, true);
        return is_array($problems) ? $problems : [];
    }
}
