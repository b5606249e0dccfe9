<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Gets events to the service without ever holding WHMCS up for more than
 * one bounded timeout: send live when the service is healthy and nothing is
 * waiting, otherwise spool; replay the spool in order with the original
 * `webhook-id`s, re-signed with a fresh timestamp.
 *
 * With several replicas (several service URLs), a request goes to the first
 * one whose breaker allows it; one that cannot be reached opens its own
 * breaker and the next is tried within the same time budget, so no load
 * balancer is needed. A replica that received an event and another that
 * receives it again store it once (the `webhook-id`).
 */
final class Forwarder
{
    public const HOOKS_PATH = '/v1/hooks';

    /** Events a hook replays after its own, so a client's page stays fast. */
    private const HOOK_REPLAY_LIMIT = 10;

    /** @var array<string, Breaker> one per service URL */
    private array $breakers = [];

    private Problems $problems;

    /**
     * @param \Closure(): int $clock Unix seconds
     */
    public function __construct(
        private Settings $settings,
        private Spool $spool,
        private SharedState $state,
        private Transport $transport,
        private \Closure $clock,
    ) {
        foreach ($settings->urls as $at => $url) {
            // The first URL keeps the name a single URL always had.
            $name = $at === 0 ? Breaker::NAME : Breaker::NAME . ':' . substr(sha1($url), 0, 12);
            $this->breakers[$url] = new Breaker($state, $settings->breakerSeconds, $name);
        }
        $this->problems = new Problems($state, $clock);
    }

    /** Failures staff must act on. */
    public function problems(): Problems
    {
        return $this->problems;
    }

    public function settings(): Settings
    {
        return $this->settings;
    }

    /** The first service URL's breaker (the only one with a single URL). */
    public function breaker(): Breaker
    {
        return $this->breakers[$this->settings->url] ?? new Breaker($this->state, $this->settings->breakerSeconds);
    }

    /**
     * The service URLs this process may try now, in order: those whose
     * breaker is closed, or whose window ended and this process won the
     * probe. A breaker that cannot be read lets its URL be tried.
     *
     * @return string[]
     */
    public function allowedUrls(): array
    {
        $now = ($this->clock)();
        return array_values(array_filter(
            $this->settings->urls,
            fn (string $url): bool => $this->guard(fn (): bool => $this->breakers[$url]->allows($now), true),
        ));
    }

    /** Whether every service URL's breaker is open. */
    public function allOpen(): bool
    {
        $now = ($this->clock)();
        foreach ($this->breakers as $breaker) {
            if (!$this->guard(fn (): bool => $breaker->isOpen($now), false)) {
                return false;
            }
        }
        return $this->breakers !== [];
    }

    /** The state every PHP process of the install shares. */
    public function sharedState(): SharedState
    {
        return $this->state;
    }

    /** Scrubs, wraps and dispatches one hook invocation (one webhook-id). */
    public function forward(string $hook, mixed $vars, Context $context): ?Event
    {
        $group = HookCatalog::group($hook);
        if ($group === null || !$this->settings->forwards($group)) {
            return null;
        }
        $data = Scrubber::scrub($hook, $vars);
        $facts = $this->guard(fn (): array => Enricher::facts($hook, $data, $this->settings), []);
        if ($facts !== []) {
            $data['_puente'] = $facts;
        }
        $event = Event::envelope($hook, $data, $context, $this->settings->instance, ($this->clock)());
        $this->dispatch($event);
        return $event;
    }

    /** Sends an event now, or spools it; returns what happened. */
    public function dispatch(Event $event): string
    {
        if (!$this->settings->isComplete()) {
            $outcome = $this->spoolSafely($event);
            $this->noteError((string) $this->settings->problem());
            return $outcome;
        }
        if (!$this->guard(fn () => $this->spool->isEmpty(), true)) {
            $full = $this->guard(fn () => $this->spool->holdsAtLeast($this->settings->spoolLimit), false);
            $urls = $this->allowedUrls();
            if ($full && $urls !== []) {
                // A full spool would drop it: better ahead of the queue than lost.
                return $this->sendNow($event, $urls);
            }
            // Older events wait: this one goes behind them, in order.
            $outcome = $this->spoolSafely($event);
            if ($urls !== []) {
                $this->replay(self::HOOK_REPLAY_LIMIT, $this->settings->totalTimeoutMs / 1000, $urls);
            }
            return $outcome;
        }
        $urls = $this->allowedUrls();
        if ($urls === []) {
            return $this->spoolSafely($event);
        }
        return $this->sendNow($event, $urls);
    }

    /**
     * Sends an event at once to the first of `$urls` that takes it; spools
     * it (or counts it dropped) if none does.
     *
     * @param string[] $urls
     */
    private function sendNow(Event $event, array $urls): string
    {
        $response = $this->send($event, self::HOOKS_PATH, $this->settings->totalTimeoutMs, $urls);
        if ($response->isSuccess()) {
            return 'delivered';
        }
        if ($response->isPermanentFailure()) {
            $this->reject($event, $response);
            return 'rejected';
        }
        $outcome = $this->spoolSafely($event);
        $this->failed($event, $response);
        return $outcome;
    }

    /**
     * Sends waiting events oldest first until the spool is empty, `$limit`
     * events were sent, the time budget is spent, or the service fails.
     * One process replays at a time.
     *
     * @param ?string[] $urls the service URLs to try (every one, in order, when null)
     * @return array{delivered: int, rejected: int, failed: bool, locked: bool}
     */
    public function replay(int $limit, float $budgetSeconds, ?array $urls = null): array
    {
        $report = ['delivered' => 0, 'rejected' => 0, 'failed' => false, 'locked' => false];
        if (!$this->settings->isComplete()) {
            return $report;
        }
        $now = ($this->clock)();
        $lock = $this->state->read('replay_lock');
        if (($lock !== null && (int) $lock > $now)
            || !$this->state->compareAndSet('replay_lock', $lock, (string) ($now + (int) ceil($budgetSeconds) + 60))) {
            $report['locked'] = true;
            return $report;
        }
        $deadline = hrtime(true) + (int) ($budgetSeconds * 1e9);
        // The cron's replay (no URLs given) is the breakers' probe: every
        // URL in order, whatever their breakers say.
        $urls ??= $this->settings->urls;
        try {
            while ($limit > 0) {
                $batch = $this->spool->oldest(min($limit, 100));
                if ($batch === []) {
                    break;
                }
                foreach ($batch as $reference => $event) {
                    if (hrtime(true) >= $deadline) {
                        return $report;
                    }
                    $limit--;
                    $response = $this->send($event, self::HOOKS_PATH, $this->settings->totalTimeoutMs, $urls);
                    if ($response->isSuccess()) {
                        $this->spool->remove((string) $reference);
                        $report['delivered']++;
                    } elseif ($response->isPermanentFailure()) {
                        $this->spool->remove((string) $reference);
                        $this->reject($event, $response);
                        $report['rejected']++;
                    } else {
                        $this->spool->noteFailure((string) $reference, $response->describe());
                        $this->failed($event, $response);
                        $report['failed'] = true;
                        return $report;
                    }
                }
            }
            return $report;
        } finally {
            $this->state->write('replay_lock', '0');
        }
    }

    /**
     * Drops every waiting event, on the administrator's explicit request;
     * their ids go to the module log. Returns how many were dropped.
     */
    public function discardWaiting(): int
    {
        $ids = [];
        while (($batch = $this->spool->oldest(500)) !== []) {
            foreach ($batch as $reference => $event) {
                $this->spool->remove((string) $reference);
                $ids[] = $event->id;
            }
        }
        if ($ids !== []) {
            Whmcs::log('discard', '', sprintf('%d waiting events discarded by an administrator: %s', count($ids), implode(' ', $ids)));
        }
        return count($ids);
    }

    /**
     * Signs an event with a fresh timestamp and posts it to the first of
     * `$urls` (every service URL when null) that it reaches, all within
     * `$totalMs`: a URL that cannot be reached opens its breaker and the
     * next one is tried; any answer ends the tries, and its URL's breaker
     * closes on a 2xx and opens on a failure retrying may fix.
     *
     * @param ?string[] $urls
     */
    public function send(Event $event, string $path, int $totalMs, ?array $urls = null): Response
    {
        $deadline = hrtime(true) + $totalMs * 1_000_000;
        $response = new Response(0, '', (string) ($this->settings->problem() ?? 'no service URL to try'));
        foreach ($urls ?? $this->settings->urls as $url) {
            $left = intdiv($deadline - hrtime(true), 1_000_000);
            if ($left < 50) {
                break;
            }
            $response = $this->post($url . $path, $event, min($this->settings->connectTimeoutMs, $left), $left);
            $breaker = $this->breakers[$url] ?? null;
            if ($breaker === null) {
                return $response;
            }
            if ($response->isSuccess()) {
                $this->guard(fn () => $breaker->succeeded(), null);
                return $response;
            }
            if (!$response->isPermanentFailure()) {
                $this->guard(fn () => $breaker->failed(($this->clock)()), null);
            }
            if (!$response->unreached) {
                return $response;
            }
        }
        return $response;
    }

    private function post(string $url, Event $event, int $connectMs, int $totalMs): Response
    {
        $timestamp = ($this->clock)();
        try {
            return $this->transport->post($url, [
                "webhook-id: {$event->id}",
                "webhook-timestamp: {$timestamp}",
                'webhook-signature: ' . Signer::sign($this->settings->secrets[0], $event->id, $timestamp, $event->body),
                "puente-instance: {$event->instance}",
            ], $event->body, $connectMs, $totalMs);
        } catch (\Throwable $e) {
            return new Response(0, '', get_class($e) . ': ' . $e->getMessage());
        }
    }

    /**
     * What the admin page shows.
     *
     * @return array{spooled: ?int, rejected: int, overflowed: int, breaker_open: bool, last_error: ?array{at: int, message: string}}
     */
    public function status(): array
    {
        $lastError = json_decode((string) $this->guard(fn () => $this->state->read('last_error'), null), true);
        return [
            'spooled' => $this->guard(fn () => $this->spool->count(), null),
            'rejected' => (int) $this->guard(fn () => $this->state->read('rejected'), 0),
            'overflowed' => (int) $this->guard(fn () => $this->state->read('overflowed'), 0),
            'breaker_open' => $this->allOpen(),
            'last_error' => is_array($lastError) ? $lastError : null,
        ];
    }

    public function noteError(string $message): void
    {
        $this->guard(fn () => $this->state->write('last_error', json_encode(['at' => ($this->clock)(), 'message' => $message])), null);
    }

    /**
     * Keeps an event whatever breaks, unless the spool is full (the oldest
     * are kept: they are the ones replayed first); the module log is the
     * last resort. `spooled`, or `dropped` when the spool was full.
     */
    private function spoolSafely(Event $event): string
    {
        $limit = $this->settings->spoolLimit;
        if ($this->guard(fn () => $this->spool->holdsAtLeast($limit), false)) {
            $this->increment('overflowed');
            $this->noteError("spool full ({$limit} events): {$event->type} {$event->id} dropped");
            Whmcs::log("spool {$event->type}", ['webhook-id' => $event->id, 'body' => $event->body], "NOT SPOOLED: the spool holds its limit of {$limit} events", $this->settings->secrets);
            $this->problems->report('spool_full', "events are being dropped: the spool holds its limit of {$limit} events "
                . 'while the service is unreachable (the last dropped: ' . "{$event->type} {$event->id}). Bring the service back, "
                . 'or raise the spool limit');
            return 'dropped';
        }
        try {
            $this->spool->append($event);
        } catch (\Throwable $first) {
            try {
                if ($this->spool instanceof TableSpool) {
                    // The table may be missing if activation did not finish.
                    Schema::create();
                }
                $this->spool->append($event);
            } catch (\Throwable $second) {
                Whmcs::log("spool {$event->type}", ['webhook-id' => $event->id, 'body' => $event->body], 'NOT SPOOLED: ' . $second->getMessage(), $this->settings->secrets);
                $this->problems->report('spool_failed', "an event could not be kept for the service ({$event->type} {$event->id}): "
                    . get_class($second) . '. Check that the addon is activated (its tables exist)');
                return 'dropped';
            }
        }
        return 'spooled';
    }

    private function failed(Event $event, Response $response): void
    {
        $this->noteError("{$event->type} {$event->id}: " . $response->describe());
        Whmcs::log("send {$event->type}", ['webhook-id' => $event->id], $response->describe() . '; spooled for replay', $this->settings->secrets);
        if ($response->status === 401) {
            $this->problems->report('signature_refused', 'the service refused the addon\'s signature (' . $response->describe()
                . '): the signing secret differs from the service\'s PUENTE_HOOK_SECRETS, or the clocks differ by more than '
                . '5 minutes. Events wait in the spool until it is fixed');
        } else {
            $this->problems->report('service_unreachable', 'the service could not be reached (' . $response->describe()
                . '): events wait in the spool and are sent when it answers again');
        }
    }

    /** The service refused the event for good (400/413/415): log and count it. */
    private function reject(Event $event, Response $response): void
    {
        $this->increment('rejected');
        $this->noteError("{$event->type} {$event->id} refused: " . $response->describe());
        Whmcs::log("rejected {$event->type}", ['webhook-id' => $event->id, 'body' => $event->body], $response->describe(), $this->settings->secrets);
        $this->problems->report('event_rejected', "the service refused an event for good ({$event->type} {$event->id}: "
            . $response->describe() . '); it will not be sent again. Check the addon and service versions');
    }

    /** Adds one to a shared counter, racing other PHP processes fairly. */
    private function increment(string $counter): void
    {
        $this->guard(function () use ($counter): void {
            for ($try = 0; $try < 5; $try++) {
                $count = $this->state->read($counter);
                if ($this->state->compareAndSet($counter, $count, (string) ((int) $count + 1))) {
                    return;
                }
            }
        }, null);
    }

    /** Runs a step whose failure must not stop delivery; `$fallback` if it throws. */
    public function guard(callable $step, mixed $fallback): mixed
    {
        try {
            return $step();
        } catch (\Throwable $e) {
            Whmcs::log('storage', '', get_class($e) . ': ' . $e->getMessage(), $this->settings->secrets);
            return $fallback;
        }
    }
}
