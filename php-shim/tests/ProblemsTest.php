<?php

use WHMCS\Module\Addon\Puente\FileState;
use WHMCS\Module\Addon\Puente\Problems;

/**
 * Failures staff must act on reach the Activity Log, which WHMCS always
 * keeps (the module log only while module logging is on), once an hour per
 * kind, and are counted for the addon's admin page.
 */
final class ProblemsTest extends ShimTestCase
{
    protected function setUp(): void
    {
        parent::setUp();
        $GLOBALS['whmcs_activity_log'] = [];
    }

    public function test_a_problem_goes_to_the_activity_log_once_an_hour_and_is_counted_for_the_page(): void
    {
        $now = 1_800_000_000;
        $problems = new Problems(new FileState($this->dir), static function () use (&$now): int {
            return $now;
        });

        $problems->report('service_unreachable', 'the service could not be reached');
        $now += 60;
        $problems->report('service_unreachable', 'the service could not be reached again');
        $problems->report('signature_refused', 'the signature was refused');
        $now += Problems::LOG_EVERY;
        $problems->report('service_unreachable', 'still unreachable');

        $this->assertSame([
            ['puente: the service could not be reached (Addons > puente shows what to do)', 0],
            ['puente: the signature was refused (Addons > puente shows what to do)', 0],
            ['puente: still unreachable (Addons > puente shows what to do)', 0],
        ], $GLOBALS['whmcs_activity_log']);
        $recent = $problems->recent();
        $this->assertSame(['service_unreachable', 'signature_refused'], array_keys($recent), 'most recent first');
        $this->assertSame(3, $recent['service_unreachable']['count']);
        $this->assertSame('still unreachable', $recent['service_unreachable']['message']);
        $problems->clear();
        $this->assertSame([], $problems->recent());
    }
}
