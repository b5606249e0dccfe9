<?php

namespace WHMCS\Database;

/**
 * WHMCS's Capsule is Laravel's Capsule manager under WHMCS's namespace.
 */
class Capsule extends \Illuminate\Database\Capsule\Manager
{
    /** A fresh in-memory WHMCS database with the settings table. */
    public static function boot(): void
    {
        $capsule = new self();
        $capsule->addConnection(['driver' => 'sqlite', 'database' => ':memory:']);
        $capsule->setAsGlobal();
        self::schema()->create('tbladdonmodules', static function ($table): void {
            $table->string('module', 64);
            $table->string('setting', 64);
            $table->text('value');
        });
    }
}

Capsule::boot();
