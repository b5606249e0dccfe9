<?php

/**
 * The addon's tables as version 0.1.0 created them, frozen, with rows of
 * that version. Never edit it: installs of 0.1.0 have these tables, and
 * SchemaUpgradeTest upgrades from them. A release that changes the tables
 * adds its own file beside this one.
 */

use Illuminate\Database\Schema\Builder;

return [
    'create' => static function (Builder $schema): void {
        $schema->create('mod_puente_spool', static function ($table): void {
            $table->bigIncrements('seq');
            $table->string('webhook_id', 128)->unique();
            $table->string('type', 64);
            $table->string('instance', 64);
            $table->mediumText('body');
            $table->unsignedInteger('attempts')->default(0);
            $table->string('last_error', 255)->nullable();
            $table->unsignedInteger('spooled_at');
        });
        $schema->create('mod_puente_state', static function ($table): void {
            $table->string('name', 64)->primary();
            $table->text('value');
        });
    },
    'rows' => [
        'mod_puente_spool' => [
            ['seq' => 1, 'webhook_id' => 'evt_01JD5ZQ8Y3T4M6N7P8Q9R0S1T2', 'type' => 'ClientAdd', 'instance' => 'default',
                'body' => '{"type":"ClientAdd","data":{"client_id":1842}}', 'attempts' => 0, 'last_error' => null, 'spooled_at' => 1796640000],
            ['seq' => 2, 'webhook_id' => 'evt_01JD5ZQ9A1B2C3D4E5F6G7H8J9', 'type' => 'InvoicePaid', 'instance' => 'default',
                'body' => '{"type":"InvoicePaid","data":{"invoiceid":5120}}', 'attempts' => 3, 'last_error' => 'connect timeout', 'spooled_at' => 1796640060],
        ],
        'mod_puente_state' => [
            ['name' => 'breaker_open_until', 'value' => '1796640090'],
            ['name' => 'rejected', 'value' => '2'],
        ],
    ],
];
