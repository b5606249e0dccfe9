<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's tables in the WHMCS database.
 */
final class Schema
{
    public const SPOOL = 'mod_puente_spool';
    public const STATE = 'mod_puente_state';

    /** Creates whichever of the tables is missing. */
    public static function create(): void
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

    public static function drop(): void
    {
        Capsule::schema()->dropIfExists(self::SPOOL);
        Capsule::schema()->dropIfExists(self::STATE);
    }
}
