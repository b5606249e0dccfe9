<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's tables in the WHMCS database, built by steps: each step is
 * keyed by the addon version that introduced it and is idempotent (it
 * checks before it changes), so running every step again on tables that
 * already have them changes nothing.
 */
final class Schema
{
    public const SPOOL = 'mod_puente_spool';
    public const STATE = 'mod_puente_state';

    /**
     * The schema steps, keyed by the version that introduced each. A later
     * version that changes the tables adds its step here; a step is never
     * edited once released, because installs of that version already ran it.
     *
     * @return array<string, callable(): void>
     */
    public static function steps(): array
    {
        return [
            '0.1.0' => static function (): void {
                self::createSpoolAndState();
            },
        ];
    }

    /** A fresh install (activation): every step, each skipping what exists. */
    public static function create(): void
    {
        self::upgrade(null);
    }

    /**
     * Brings the tables from those of version `$previous` (what WHMCS passes
     * to `_upgrade`) to this version's: runs, oldest first, every step newer
     * than `$previous`, compared with version_compare (0.10.0 is newer than
     * 0.9.0). With no previous version, or one that is not a version, every
     * step runs; they are idempotent.
     *
     * @param array<string, callable(): void>|null $steps null: steps()
     * @return list<string> the versions whose steps ran
     */
    public static function upgrade(?string $previous, ?array $steps = null): array
    {
        $steps ??= self::steps();
        $ran = self::stepsAfter($previous, array_keys($steps));
        foreach ($ran as $version) {
            $steps[$version]();
        }
        return $ran;
    }

    /**
     * Which of `$versions` are newer than `$previous`, oldest first; all of
     * them when `$previous` is null or not a version.
     *
     * @param list<string|int> $versions
     * @return list<string>
     */
    public static function stepsAfter(?string $previous, array $versions): array
    {
        // PHP turns an array key such as '1' into an integer.
        $versions = array_map('strval', $versions);
        usort($versions, 'version_compare');
        $previous = trim((string) $previous);
        if (preg_match('/^\d+(\.\d+)*(-[0-9A-Za-z.]+)?$/', $previous) !== 1) {
            return $versions;
        }
        return array_values(array_filter($versions, static fn (string $version): bool => version_compare($version, $previous, '>')));
    }

    public static function drop(): void
    {
        Capsule::schema()->dropIfExists(self::SPOOL);
        Capsule::schema()->dropIfExists(self::STATE);
    }

    /** 0.1.0: the spool and the shared state. */
    private static function createSpoolAndState(): void
    {
        $schema = Capsule::schema();
        if (!$schema->hasTable(self::SPOOL)) {
            $schema->create(self::SPOOL, static function ($table): void {
                $table->bigIncrements('seq');
                $table->string('webhook_id', 128)->unique();
                $table->string('type', 64);
                $table->string('instance', 64);
                $table->mediumText('body');
                $table->unsignedInteger('attempts')->default(0);
                $table->string('last_error', 255)->nullable();
                $table->unsignedInteger('spooled_at');
            });
        }
        if (!$schema->hasTable(self::STATE)) {
            $schema->create(self::STATE, static function ($table): void {
                $table->string('name', 64)->primary();
                $table->text('value');
            });
        }
    }
}
