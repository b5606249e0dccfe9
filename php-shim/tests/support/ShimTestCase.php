<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Module\Addon\Puente\FileSpool;
use WHMCS\Module\Addon\Puente\FileState;
use WHMCS\Module\Addon\Puente\Forwarder;
use WHMCS\Module\Addon\Puente\Settings;
use WHMCS\Module\Addon\Puente\SharedState;
use WHMCS\Module\Addon\Puente\Spool;
use WHMCS\Module\Addon\Puente\Transport;

/**
 * Shared set-up: a temporary spool folder, a clock the test moves, settings
 * pointing at a URL, and the repository's fixtures.
 */
abstract class ShimTestCase extends TestCase
{
    public const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    protected string $dir;
    protected int $now = 1_800_000_000;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/puente-test-' . bin2hex(random_bytes(6));
        mkdir($this->dir, 0700, true);
        $GLOBALS['whmcs_module_log'] = [];
        $_SESSION = [];
    }

    protected function tearDown(): void
    {
        self::removeTree($this->dir);
    }

    /** @param array<string, mixed> $stored */
    protected function settings(string $url, array $stored = []): Settings
    {
        return Settings::fromSources($stored + [
            'service_url' => $url,
            'secret' => self::SECRET,
            'instance' => 'paneldecliente',
            'total_timeout_ms' => '500',
        ], []);
    }

    protected function forwarder(Settings $settings, ?Spool $spool = null, ?SharedState $state = null): Forwarder
    {
        return new Forwarder(
            $settings,
            $spool ?? new FileSpool($this->dir),
            $state ?? new FileState($this->dir),
            new Transport(),
            fn (): int => $this->now,
        );
    }

    /**
     * A hook fixture's `$vars` (fixtures/whmcs/<Hook>.json).
     *
     * @return array<string, mixed>
     */
    public static function fixture(string $hook): array
    {
        $path = dirname(__DIR__, 3) . "/fixtures/whmcs/{$hook}.json";
        return json_decode(file_get_contents($path), true, 512, JSON_THROW_ON_ERROR)['vars'];
    }

    /** @return list<array<string, mixed>> */
    protected static function envelopes(FakeService $service): array
    {
        return array_map(
            static fn (array $request): array => json_decode($request['body'], true, 512, JSON_THROW_ON_ERROR),
            $service->requests(),
        );
    }

    public static function removeTree(string $path): void
    {
        if (is_dir($path) && !is_link($path)) {
            foreach (scandir($path) ?: [] as $name) {
                if ($name !== '.' && $name !== '..') {
                    self::removeTree("{$path}/{$name}");
                }
            }
            @rmdir($path);
        } else {
            @unlink($path);
        }
    }
}
