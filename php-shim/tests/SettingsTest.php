<?php

use WHMCS\Module\Addon\Puente\Settings;

final class SettingsTest extends ShimTestCase
{
    public function test_environment_variables_override_the_saved_settings(): void
    {
        $settings = Settings::fromSources(
            ['service_url' => 'http://saved:8080/', 'secret' => 'whsec_c2F2ZWQ=', 'instance' => 'saved'],
            ['PUENTE_URL' => 'http://env:9090', 'PUENTE_SECRET' => self::SECRET . ' whsec_b2xk', 'PUENTE_INSTANCE' => 'reseller.two',
                'PUENTE_SPOOL_DIR' => '/var/spool/puente'],
        );

        $this->assertSame('http://env:9090', $settings->url);
        $this->assertSame([self::SECRET, 'whsec_b2xk'], $settings->secrets);
        $this->assertSame('reseller.two', $settings->instance);
        $this->assertSame('/var/spool/puente', $settings->spoolDir);
        $this->assertTrue($settings->isComplete());
    }

    public function test_several_service_urls_are_each_replica_in_the_order_given(): void
    {
        $settings = Settings::fromSources(
            ['service_url' => " http://one:8080/ ,http://two:8080\nhttp://three:8080/ ", 'secret' => self::SECRET],
            [],
        );

        $this->assertSame(['http://one:8080', 'http://two:8080', 'http://three:8080'], $settings->urls);
        $this->assertSame('http://one:8080', $settings->url, 'the first is the one shown and linked');
        $this->assertSame('http://one:8080', $settings->dashboardUrl);
        $this->assertTrue($settings->isComplete());
        $this->assertSame([], Settings::fromSources(['service_url' => ' , '], [])->urls);
    }

    public function test_defaults_are_tight_timeouts_every_group_and_the_default_instance(): void
    {
        $settings = Settings::fromSources(['service_url' => 'http://x', 'secret' => self::SECRET], []);

        $this->assertSame([200, 500, 1500, 30], [$settings->connectTimeoutMs, $settings->totalTimeoutMs, $settings->decisionTimeoutMs, $settings->breakerSeconds]);
        $this->assertSame('default', $settings->instance);
        foreach (Settings::GROUPS as $group) {
            $this->assertTrue($settings->forwards($group));
        }
    }

    public function test_timeouts_are_bounded_whatever_is_saved(): void
    {
        $settings = Settings::fromSources(['connect_timeout_ms' => '60000', 'total_timeout_ms' => '-5', 'decision_timeout_ms' => 'soon'], []);

        $this->assertSame([2000, 500, 1500], [$settings->connectTimeoutMs, $settings->totalTimeoutMs, $settings->decisionTimeoutMs]);
    }

    public function test_each_incomplete_setting_is_named(): void
    {
        $this->assertStringContainsString('PUENTE_URL', Settings::fromSources([], [])->problem());
        $this->assertStringContainsString('PUENTE_SECRET', Settings::fromSources(['service_url' => 'http://x', 'secret' => 'hunter2'], [])->problem());
        $this->assertStringContainsString('instance name', Settings::fromSources(['service_url' => 'http://x', 'secret' => self::SECRET, 'instance' => 'two words'], [])->problem());
        $this->assertNull(Settings::fromSources(['service_url' => 'http://x', 'secret' => self::SECRET], [])->problem());
    }

    public function test_a_group_switch_saved_as_off_stops_that_group_only(): void
    {
        $settings = Settings::fromSources(['forward_quotes' => '', 'forward_domains' => 'on'], []);

        $this->assertFalse($settings->forwards('quotes'));
        $this->assertTrue($settings->forwards('domains'));
        $this->assertFalse($settings->forwards('no-such-group'));
    }
}
