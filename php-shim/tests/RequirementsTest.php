<?php

/**
 * The floor the addon checks before loading anything: PHP 8.1 and WHMCS
 * 8.6, compared as versions (WHMCS's own upgrade example compares floats,
 * which puts 8.10 below 8.6). The real PHP 7.2 and 8.1 interpreters run the
 * entry files in tests/floor/check.mjs.
 */
final class RequirementsTest extends ShimTestCase
{
    public function test_the_floor_is_php_8_1_and_whmcs_8_6_compared_as_versions(): void
    {
        $this->assertNull(puente_requirements_problem_for('8.1.0', '8.6.0-release.1'));
        $this->assertNull(puente_requirements_problem_for('8.3.4', '8.13.1-release.1'));
        $this->assertNull(puente_requirements_problem_for('8.2.36', '8.10.0'), '8.10 is newer than 8.6');
        $this->assertNull(puente_requirements_problem_for('8.1.2', ''), 'an unknown WHMCS version is not refused');

        $oldPhp = (string) puente_requirements_problem_for('8.0.30', '8.6.0');
        $oldWhmcs = (string) puente_requirements_problem_for('8.2.0', '8.5.9-release.1');

        $this->assertStringContainsString('puente needs PHP 8.1.0 or newer and WHMCS 8.6.0 or newer (here: PHP 8.0.30, WHMCS 8.6.0)', $oldPhp);
        $this->assertStringContainsString('puente necesita PHP 8.1.0', $oldPhp);
        $this->assertStringContainsString('here: PHP 8.2.0, WHMCS 8.5.9-release.1', $oldWhmcs);
    }

    public function test_the_running_php_meets_it_and_the_addon_says_its_one_version(): void
    {
        $this->assertNull(puente_requirements_problem_for(PHP_VERSION, ''));
        $this->assertSame(puente_version(), puente_config()['version']);
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', puente_version());
    }
}
