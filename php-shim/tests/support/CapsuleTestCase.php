<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\Settings;
use WHMCS\Module\Addon\Puente\Shim;
use WHMCS\Module\Addon\Puente\Whmcs;

/**
 * A test inside a WHMCS with its database: a fresh SQLite database with the
 * tables and columns of a real WHMCS 8.4 install and the demo install's
 * rows (fixtures/whmcs-8.4/), and, after every passing test, the audit of
 * every statement that ran on it: a table or column WHMCS 8.4 does not have
 * fails the test.
 */
abstract class CapsuleTestCase extends ShimTestCase
{
    protected ?FakeService $service = null;

    protected function setUp(): void
    {
        parent::setUp();
        WhmcsDatabase::open(':memory:', true, true);
        Whmcs::forgetSchema();
        Settings::forget();
        Shim::install(null);
    }

    protected function assertPostConditions(): void
    {
        $this->assertSame([], WhmcsDatabase::audit(), 'every query names tables and columns of WHMCS 8.4');
    }

    protected function tearDown(): void
    {
        $this->service?->stop();
        Settings::forget();
        Shim::install(null);
        $_POST = [];
        unset($_REQUEST['id']);
        parent::tearDown();
    }

    /** Saves the addon's settings as WHMCS does, in tbladdonmodules. */
    protected function save(string $url): void
    {
        foreach (['service_url' => $url, 'secret' => self::SECRET, 'instance' => 'paneldecliente', 'forward_quotes' => ''] as $setting => $value) {
            Capsule::table('tbladdonmodules')->insert(['module' => 'puente', 'setting' => $setting, 'value' => $value]);
        }
        Settings::forget();
        Shim::install(null);
    }

    /** A fake service, with the addon's settings pointing at it. */
    protected function startService(): FakeService
    {
        $this->service = FakeService::start();
        $this->save($this->service->url);
        return $this->service;
    }

    /** Settings pointing at a port nobody listens on. */
    protected function saveUnreachable(): void
    {
        $this->save('http://127.0.0.1:' . FakeService::freePort());
    }
}
