<?php

use WHMCS\Module\Addon\Puente\HookCatalog;
use WHMCS\Module\Addon\Puente\Scrubber;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\Signer;

/**
 * Each forwarded hook, fired through hooks.php as WHMCS would, reaches the
 * service as a signed envelope of SPEC §3.2.
 */
final class HookEnvelopeTest extends ShimTestCase
{
    private static FakeService $service;

    public static function setUpBeforeClass(): void
    {
        self::$service = FakeService::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$service->stop();
        Shim::install(null);
    }

    /** @return array<string, array{0: string}> */
    public static function hooks(): array
    {
        $cases = [];
        foreach (HookCatalog::hooks() as $hook) {
            $cases[$hook] = [$hook];
        }
        return $cases;
    }

    public function test_hooks_php_registers_every_catalogued_hook_and_the_cron_replay(): void
    {
        foreach (HookCatalog::hooks() as $hook) {
            $this->assertCount(1, $GLOBALS['whmcs_hooks'][$hook] ?? [], "{$hook} is not registered exactly once");
        }
        $this->assertCount(1, $GLOBALS['whmcs_hooks']['AfterCronJob'] ?? []);
        $this->assertGreaterThanOrEqual(20, count(HookCatalog::hooks()));
    }

    /** @dataProvider hooks */
    public function test_each_forwarded_hook_arrives_as_a_signed_envelope(string $hook): void
    {
        Shim::install($this->forwarder($this->settings(self::$service->url)));
        $before = count(self::$service->requests());
        $vars = self::fixture($hook);

        $GLOBALS['whmcs_hooks'][$hook][0]($vars);

        $requests = array_slice(self::$service->requests(), $before);
        $this->assertCount(1, $requests);
        [$request] = $requests;
        $this->assertSame('/v1/hooks', $request['path']);
        $this->assertSame('application/json', $request['headers']['content-type']);
        $this->assertSame('paneldecliente', $request['headers']['puente-instance']);
        $this->assertSame((string) $this->now, $request['headers']['webhook-timestamp']);
        $this->assertMatchesRegularExpression('/^evt_[0-9A-Z]{26}$/', $request['headers']['webhook-id']);
        $this->assertTrue(Signer::verify([self::SECRET], $request['headers']['webhook-id'],
            $request['headers']['webhook-timestamp'], $request['headers']['webhook-signature'], $request['body'], $this->now));

        $envelope = json_decode($request['body'], true);
        $this->assertSame($hook, $envelope['type']);
        $this->assertSame(gmdate('Y-m-d\TH:i:s\Z', $this->now), $envelope['timestamp']);
        $expected = Scrubber::scrub($hook, $vars);
        if ($hook === 'CancellationRequest') {
            // Whether the client's own requests wait for their confirmation.
            $expected['_puente'] = ['handles_cancellations' => true];
        }
        $this->assertSame($expected, $envelope['data']);
        // php-cli is the cron: a system actor.
        $this->assertSame(['instance' => 'paneldecliente', 'actor' => ['kind' => 'system'], 'source' => 'cron',
            'whmcs_version' => '', 'shim_version' => '0.1.0'], $envelope['context']);
        $this->assertSame([], $GLOBALS['whmcs_module_log']);
    }

    public function test_each_invocation_gets_its_own_webhook_id(): void
    {
        Shim::install($this->forwarder($this->settings(self::$service->url)));
        $before = count(self::$service->requests());

        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](self::fixture('InvoicePaid'));
        $GLOBALS['whmcs_hooks']['InvoicePaid'][0](self::fixture('InvoicePaid'));

        $ids = array_map(static fn (array $r): string => $r['headers']['webhook-id'], array_slice(self::$service->requests(), $before));
        $this->assertCount(2, array_unique($ids));
    }

    public function test_a_switched_off_group_is_not_forwarded(): void
    {
        Shim::install($this->forwarder($this->settings(self::$service->url, ['forward_quotes' => ''])));
        $before = count(self::$service->requests());

        $GLOBALS['whmcs_hooks']['QuoteCreated'][0](self::fixture('QuoteCreated'));
        $GLOBALS['whmcs_hooks']['InvoiceCancelled'][0](self::fixture('InvoiceCancelled'));

        $types = array_map(static fn (array $e): string => $e['type'], array_slice(self::envelopes(self::$service), $before));
        $this->assertSame(['InvoiceCancelled'], $types);
    }

    public function test_a_hook_never_throws_into_whmcs_even_with_unusable_vars(): void
    {
        Shim::install($this->forwarder($this->settings(self::$service->url)));
        $before = count(self::$service->requests());

        $GLOBALS['whmcs_hooks']['ClientAdd'][0]("not an array");
        $GLOBALS['whmcs_hooks']['ClientAdd'][0](['firstname' => "\xff\xfe invalid utf-8"]);

        $envelopes = array_slice(self::envelopes(self::$service), $before);
        $this->assertSame([], (array) $envelopes[0]['data']);
        $this->assertSame("\u{FFFD}\u{FFFD} invalid utf-8", $envelopes[1]['data']['firstname']);
    }
}
