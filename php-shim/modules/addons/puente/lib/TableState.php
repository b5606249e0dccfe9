<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Shared state as rows of the addon's state table: every web server and the
 * cron see the same values.
 */
final class TableState implements SharedState
{
    public function read(string $name): ?string
    {
        $value = Capsule::table(Schema::STATE)->where('name', $name)->value('value');
        return $value === null ? null : (string) $value;
    }

    public function write(string $name, string $value): void
    {
        Capsule::table(Schema::STATE)->updateOrInsert(['name' => $name], ['value' => $value]);
    }

    public function compareAndSet(string $name, ?string $expected, string $value): bool
    {
        if ($expected === null) {
            return Capsule::table(Schema::STATE)->insertOrIgnore(['name' => $name, 'value' => $value]) === 1;
        }
        if ($expected === $value) {
            // MySQL counts an update to the same value as no change.
            return $this->read($name) === $expected;
        }
        return Capsule::table(Schema::STATE)
            ->where('name', $name)
            ->where('value', $expected)
            ->update(['value' => $value]) === 1;
    }
}
