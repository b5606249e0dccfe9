<?php

use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\Event;
use WHMCS\Module\Addon\Puente\FileSpool;
use WHMCS\Module\Addon\Puente\FileState;
use WHMCS\Module\Addon\Puente\Scrubber;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\Signer;

/**
 * What happens to events when the service is up, down, hung, refusing, and
 * back again.
 */
final class DeliveryTest extends ShimTestCase
{
    private ?FakeService $service = null;
    private ?HungService $hung = null;

    protected function tearDown(): void
    {
        $this->service?->stop();
        $this->hung?->stop();
        Shim::install(null);
        parent::tearDown();
    }

    private function fire(string $hook, ?string $url = null): string
    {
        $forwarder = $this->forwarder($this->settings($url ?? $this->service->url));
        $event = Event::envelope($hook, Scrubber::scrub($hook, self::fixture($hook)), Context::from([], false, true, ''), 'paneldecliente', $this->now);
        $forwarder->dispatch($event);
        return $event->id;
    }

    private function spool(): FileSpool
    {
        return new FileSpool($this->dir);
    }

    public function test_service_down_spools_the_event_and_pauses_live_sends(): void
    {
        $down = 'http://127.0.0.1:' . FakeService::freePort();

        $this->fire('InvoicePaid', $down);
        $this->fire('InvoiceCancelled', $down);

        $this->assertSame(2, $this->spool()->count());
        $this->assertTrue($this->forwarder($this->settings($down))->breaker()->isOpen($this->now));
        // Only the first hook tried (and logged); the second went straight to the spool.
        $this->assertCount(1, $GLOBALS['whmcs_module_log']);
        $this->assertStringContainsString('no answer', $GLOBALS['whmcs_module_log'][0]['response']);
        $this->assertStringNotContainsString(self::SECRET, json_encode($GLOBALS['whmcs_module_log']));
    }

    public function test_a_full_spool_keeps_the_oldest_events_counts_the_rest_and_never_drops_what_the_service_takes(): void
    {
        $down = $this->settings('http://127.0.0.1:' . FakeService::freePort(), ['spool_limit' => '3']);
        $outcomes = [];
        $ids = [];
        foreach (['ClientAdd', 'InvoiceCreated', 'InvoicePaid', 'DomainDelete', 'QuoteCreated'] as $hook) {
            $event = Event::envelope($hook, Scrubber::scrub($hook, self::fixture($hook)), Context::from([], false, true, ''), 'paneldecliente', $this->now);
            $outcomes[] = $this->forwarder($down)->dispatch($event);
            $ids[] = $event->id;
        }

        $this->assertSame(['spooled', 'spooled', 'spooled', 'dropped', 'dropped'], $outcomes);
        $this->assertSame(array_slice($ids, 0, 3), array_map(static fn (Event $e): string => $e->id, array_values($this->spool()->oldest(10))));
        $status = $this->forwarder($down)->status();
        $this->assertSame(2, $status['overflowed']);
        $this->assertStringContainsString('spool full (3 events)', $status['last_error']['message']);
        $dropped = array_values(array_filter($GLOBALS['whmcs_module_log'], static fn (array $entry): bool => str_contains($entry['response'], 'NOT SPOOLED')));
        $this->assertCount(2, $dropped, 'each dropped event is kept in the module log');
        $this->assertStringContainsString($ids[3], json_encode($dropped[0]));
        $this->assertStringNotContainsString(self::SECRET, json_encode($GLOBALS['whmcs_module_log']));

        // The service is back while the spool is still full: a new event
        // goes ahead of the queue rather than being dropped.
        $this->service = FakeService::start();
        $this->now += 31;
        $up = $this->settings($this->service->url, ['spool_limit' => '3']);
        $late = Event::envelope('InvoicePaid', Scrubber::scrub('InvoicePaid', self::fixture('InvoicePaid')), Context::from([], false, true, ''), 'paneldecliente', $this->now);

        $this->assertSame('delivered', $this->forwarder($up)->dispatch($late));
        $this->assertSame([$late->id], array_map(static fn (array $r): string => $r['headers']['webhook-id'], $this->service->requests()));
        $this->assertSame(3, $this->spool()->count(), 'the waiting ones are replayed by the cron, in order');
        $this->assertSame(2, $this->forwarder($up)->status()['overflowed']);
    }

    public function test_the_spool_limit_is_counted_without_reading_the_whole_journal_each_time(): void
    {
        $spool = $this->spool();
        for ($n = 0; $n < 40; $n++) {
            $spool->append(new Event("evt_{$n}", 'ClientAdd', 'paneldecliente', str_repeat('x', 100)));
        }
        $this->assertFalse($spool->holdsAtLeast(41));
        $this->assertTrue($spool->holdsAtLeast(40));
        // Appends after a count are added to it; leaving events are not counted.
        $spool->append(new Event('evt_40', 'ClientAdd', 'paneldecliente', str_repeat('x', 100)));
        $this->assertTrue($spool->holdsAtLeast(41));
        $first = array_key_first($spool->oldest(1));
        $spool->remove((string) $first);
        $this->assertFalse($spool->holdsAtLeast(41));
        $this->assertTrue($spool->holdsAtLeast(40));
        // Far below the limit, the journal's size alone answers.
        $this->assertFalse($spool->holdsAtLeast(100000));
    }

    public function test_a_hung_service_costs_one_bounded_timeout_per_window_not_one_per_hook(): void
    {
        $this->hung = new HungService();

        $this->fire('InvoicePaid', $this->hung->url);
        $this->assertSame(1, $this->hung->takeConnections());
        $this->assertStringContainsString('timed out', $GLOBALS['whmcs_module_log'][0]['response']);

        foreach (['InvoiceCreated', 'ClientAdd', 'DomainDelete', 'QuoteCreated', 'OrderPaid'] as $hook) {
            $this->fire($hook, $this->hung->url);
        }
        $this->assertSame(0, $this->hung->takeConnections(), 'hooks connected while the breaker was open');
        $this->assertSame(6, $this->spool()->count());

        $this->now += 31;
        $this->fire('ServiceEdit', $this->hung->url);
        $this->assertSame(1, $this->hung->takeConnections(), 'after the window one hook probes the service');
        $this->assertSame(7, $this->spool()->count());
    }

    public function test_after_the_window_exactly_one_process_wins_the_probe(): void
    {
        $state = new FileState($this->dir);
        $first = $this->forwarder($this->settings('http://127.0.0.1:9'), null, $state)->breaker();
        $second = $this->forwarder($this->settings('http://127.0.0.1:9'), null, new FileState($this->dir))->breaker();
        $first->failed($this->now);

        $this->assertFalse($second->allows($this->now + 29));
        $this->assertTrue($first->allows($this->now + 30));
        $this->assertFalse($second->allows($this->now + 30));
        $first->succeeded();
        $this->assertTrue($second->allows($this->now + 30));
    }

    public function test_the_cron_replays_every_spooled_event_once_in_order_with_its_original_id(): void
    {
        $down = 'http://127.0.0.1:' . FakeService::freePort();
        $hooks = ['ClientAdd', 'InvoiceCreated', 'InvoicePaid', 'AfterModuleSuspend', 'DomainDelete'];
        $ids = [];
        foreach ($hooks as $hook) {
            $ids[] = $this->fire($hook, $down);
            $this->now += 1;
        }
        $spooledBodies = array_map(static fn (Event $e): string => $e->body, array_values($this->spool()->oldest(10)));

        $this->service = FakeService::start();
        $this->now += 3600;
        Shim::install($this->forwarder($this->settings($this->service->url)));
        $GLOBALS['whmcs_hooks']['AfterCronJob'][0]([]);
        $GLOBALS['whmcs_hooks']['AfterCronJob'][0]([]);

        $requests = $this->service->requests();
        $this->assertSame($ids, array_map(static fn (array $r): string => $r['headers']['webhook-id'], $requests));
        $this->assertSame($spooledBodies, array_column($requests, 'body'), 'the exact spooled bytes are sent');
        foreach ($requests as $request) {
            // Re-signed with a fresh timestamp, which the service's window accepts.
            $this->assertSame((string) $this->now, $request['headers']['webhook-timestamp']);
            $this->assertTrue(Signer::verify([self::SECRET], $request['headers']['webhook-id'], $request['headers']['webhook-timestamp'],
                $request['headers']['webhook-signature'], $request['body'], $this->now));
        }
        $this->assertTrue($this->spool()->isEmpty());
        $this->assertFalse($this->forwarder($this->settings($this->service->url))->breaker()->isOpen($this->now));
    }

    public function test_the_next_hook_after_an_outage_sends_the_waiting_events_first(): void
    {
        $down = 'http://127.0.0.1:' . FakeService::freePort();
        $waiting = [$this->fire('ClientAdd', $down), $this->fire('InvoicePaid', $down)];
        $this->service = FakeService::start();
        $this->now += 31;

        $live = $this->fire('InvoiceCancelled');

        $this->assertSame([...$waiting, $live], array_map(static fn (array $r): string => $r['headers']['webhook-id'], $this->service->requests()));
        $this->assertTrue($this->spool()->isEmpty());
    }

    public function test_a_failure_during_replay_stops_it_and_keeps_the_rest_in_order(): void
    {
        $this->service = FakeService::start();
        $this->service->answerWith(503);
        $ids = [$this->fire('ClientAdd'), $this->fire('InvoicePaid')];
        $this->now += 31;

        $report = $this->forwarder($this->settings($this->service->url))->replay(100, 5.0);

        $this->assertTrue($report['failed']);
        $this->assertSame(0, $report['delivered']);
        $this->assertSame($ids, array_map(static fn (Event $e): string => $e->id, array_values($this->spool()->oldest(10))));
        $this->assertCount(2, $this->service->requests(), 'one live try, one replay try, then it stopped');
    }

    /** @return array<string, array{0: int, 1: bool}> */
    public static function statuses(): array
    {
        return [
            '400 is refused for good' => [400, false],
            '413 is refused for good' => [413, false],
            '415 is refused for good' => [415, false],
            '401 may be a secret being rotated' => [401, true],
            '404 may be a wrong URL being fixed' => [404, true],
            '408 is retried' => [408, true],
            '429 is retried' => [429, true],
            '500 is retried' => [500, true],
            '503 is retried' => [503, true],
        ];
    }

    /** @dataProvider statuses */
    public function test_only_errors_retrying_cannot_fix_skip_the_spool(int $status, bool $spooled): void
    {
        $this->service = FakeService::start();
        $this->service->answerWith($status);

        $this->fire('InvoicePaid');

        $this->assertSame($spooled ? 1 : 0, $this->spool()->count());
        $forwarder = $this->forwarder($this->settings($this->service->url));
        $this->assertSame($spooled ? 0 : 1, $forwarder->status()['rejected']);
        $this->assertSame($spooled, $forwarder->breaker()->isOpen($this->now));
        $this->assertCount(1, $GLOBALS['whmcs_module_log']);
        $this->assertStringContainsString("HTTP {$status} set_by_test", $GLOBALS['whmcs_module_log'][0]['response']);
    }

    public function test_a_held_replay_lock_keeps_a_second_process_from_replaying(): void
    {
        $this->service = FakeService::start();
        $this->spool()->append(new Event('evt_waiting', 'InvoicePaid', 'paneldecliente', '{}'));
        (new FileState($this->dir))->write('replay_lock', (string) ($this->now + 60));

        $report = $this->forwarder($this->settings($this->service->url))->replay(100, 5.0);

        $this->assertTrue($report['locked']);
        $this->assertSame([], $this->service->requests());
        $this->assertSame(1, $this->spool()->count());
    }

    public function test_events_wait_while_the_settings_are_incomplete_and_go_once_they_are_fixed(): void
    {
        $this->service = FakeService::start();
        $incomplete = $this->forwarder($this->settings($this->service->url, ['secret' => 'not-a-whsec-secret']));
        $event = Event::envelope('ClientAdd', [], Context::from([], false, true, ''), 'paneldecliente', $this->now);

        $this->assertSame('spooled', $incomplete->dispatch($event));
        $this->assertStringContainsString('signing secret', $incomplete->status()['last_error']['message']);
        $this->assertSame([], $this->service->requests());

        $this->forwarder($this->settings($this->service->url))->replay(100, 5.0);
        $this->assertSame([$event->id], array_map(static fn (array $r): string => $r['headers']['webhook-id'], $this->service->requests()));
    }

    public function test_with_several_service_urls_an_unreachable_replica_is_skipped_for_the_next_within_one_hook(): void
    {
        $this->service = FakeService::start();
        $down = 'http://127.0.0.1:' . FakeService::freePort();
        $both = "{$down}, {$this->service->url}/";

        $first = $this->fire('InvoicePaid', $both);

        $this->assertSame([$first], array_map(static fn (array $r): string => $r['headers']['webhook-id'], $this->service->requests()));
        $this->assertTrue($this->spool()->isEmpty(), 'delivered by the second replica, not spooled');
        $forwarder = $this->forwarder($this->settings($both));
        $this->assertSame([$this->service->url], $forwarder->allowedUrls(), 'the unreachable one rests for its window');
        $this->assertTrue($forwarder->breaker()->isOpen($this->now), 'the first URL\'s own breaker opened');
        $this->assertFalse($forwarder->status()['breaker_open'], 'one replica still takes events');

        // The next hooks go straight to the replica that answers.
        $second = $this->fire('InvoiceCancelled', $both);
        $this->assertCount(2, $this->service->requests());
        $this->assertSame($second, $this->service->requests()[1]['headers']['webhook-id']);
        $this->assertTrue($this->spool()->isEmpty());
    }

    public function test_with_every_replica_unreachable_the_event_is_spooled_and_every_breaker_opens(): void
    {
        $urls = 'http://127.0.0.1:' . FakeService::freePort() . ' http://127.0.0.1:' . FakeService::freePort();

        $this->fire('InvoicePaid', $urls);
        $this->fire('InvoiceCancelled', $urls);

        $this->assertSame(2, $this->spool()->count());
        $forwarder = $this->forwarder($this->settings($urls));
        $this->assertSame([], $forwarder->allowedUrls());
        $this->assertTrue($forwarder->status()['breaker_open']);
        // Only the first hook tried (one log line); the second spooled at once.
        $this->assertCount(1, $GLOBALS['whmcs_module_log']);
    }

    public function test_a_replica_that_answers_with_an_error_is_not_asked_again_by_another(): void
    {
        $this->service = FakeService::start();
        $this->service->answerWith(503);
        $second = FakeService::start();
        try {
            $this->fire('InvoicePaid', "{$this->service->url} {$second->url}");
            $this->assertCount(1, $this->service->requests(), 'it reached the first replica');
            $this->assertSame([], $second->requests(), 'an answer ends the tries: the event is spooled, not sent twice now');
            $this->assertSame(1, $this->spool()->count());
        } finally {
            $second->stop();
        }
    }

    public function test_the_cron_replays_through_any_replica_whatever_the_breakers_say(): void
    {
        $down = 'http://127.0.0.1:' . FakeService::freePort();
        $waiting = [$this->fire('ClientAdd', $down), $this->fire('InvoicePaid', $down)];
        $this->assertTrue($this->forwarder($this->settings($down))->breaker()->isOpen($this->now));
        $this->service = FakeService::start();
        $both = "{$down} {$this->service->url}";

        // Within the pause: the cron is the probe, and the second URL answers.
        $report = $this->forwarder($this->settings($both))->replay(100, 5.0);

        $this->assertSame(2, $report['delivered']);
        $this->assertSame($waiting, array_map(static fn (array $r): string => $r['headers']['webhook-id'], $this->service->requests()));
        $this->assertTrue($this->spool()->isEmpty());
    }
}
