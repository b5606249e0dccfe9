<?php

use WHMCS\Module\Addon\Puente\Schema;

/**
 * Which schema steps an upgrade runs: those newer than the version WHMCS
 * had, compared as versions (WHMCS's own upgrade example compares floats,
 * which puts 0.10 below 0.9), oldest first.
 */
final class SchemaStepsTest extends ShimTestCase
{
    /** @var list<string> the versions whose steps ran, in order */
    private array $ran = [];

    public function test_a_step_runs_when_upgrading_from_an_older_version_compared_as_versions_not_floats(): void
    {
        $this->assertSame(['0.10.0'], Schema::upgrade('0.9.0', $this->steps()));
        $this->assertSame(['0.10.0'], $this->ran);

        $this->assertSame([], $this->upgradeFrom('0.10.0'), '0.10.0 is not older than itself');
        $this->assertSame([], $this->upgradeFrom('0.11.0'));
        $this->assertSame(['0.9.0', '0.10.0'], $this->upgradeFrom('0.2.0'));
        $this->assertSame(['0.9.0', '0.10.0'], $this->upgradeFrom('0.9.0-rc.1'), 'a pre-release comes before its release');
    }

    public function test_without_a_readable_previous_version_every_step_runs_oldest_first(): void
    {
        foreach ([null, '', 'garbage', 'v0.9', '0.9.0; DROP'] as $previous) {
            $this->assertSame(['0.1.0', '0.9.0', '0.10.0'], $this->upgradeFrom($previous), var_export($previous, true));
        }
    }

    public function test_the_addons_steps_are_released_versions_no_newer_than_the_addon(): void
    {
        $versions = array_map('strval', array_keys(Schema::steps()));

        $this->assertContains('0.1.0', $versions, 'the step that creates the tables');
        foreach ($versions as $version) {
            $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', $version);
            $this->assertTrue(version_compare($version, puente_version(), '<='), "step {$version} is newer than the addon (" . puente_version() . '): installs of it would run it again on every upgrade');
        }
        $this->assertSame(Schema::stepsAfter(null, $versions), $versions, 'listed oldest first, as they run');
    }

    /** @return list<string> the versions whose steps ran */
    private function upgradeFrom(?string $previous): array
    {
        $this->ran = [];
        $returned = Schema::upgrade($previous, $this->steps());
        $this->assertSame($this->ran, $returned, 'upgrade() names the steps it ran');
        return $returned;
    }

    /**
     * Three steps, listed out of order, that record when they run.
     *
     * @return array<string, callable(): void>
     */
    private function steps(): array
    {
        $step = fn (string $version): \Closure => function () use ($version): void {
            $this->ran[] = $version;
        };
        return ['0.10.0' => $step('0.10.0'), '0.1.0' => $step('0.1.0'), '0.9.0' => $step('0.9.0')];
    }
}
