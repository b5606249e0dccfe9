<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Addon\Puente\Addon;
use WHMCS\Module\Addon\Puente\Event;
use WHMCS\Module\Addon\Puente\Schema;
use WHMCS\Module\Addon\Puente\TableSpool;

/**
 * An upgrade of the addon (WHMCS calls puente_upgrade with the version it
 * had) from every earlier schema, frozen in tests/schemas/<version>.php,
 * and from no tables at all: the tables end as a fresh install's and the
 * rows are kept.
 *
 * @group capsule
 */
final class SchemaUpgradeTest extends CapsuleTestCase
{
    private const SCHEMAS = __DIR__ . '/schemas';

    /** @return array<string, array{string, ?string}> case => [the version WHMCS passes, the frozen schema or null] */
    public static function earlierSchemas(): array
    {
        $cases = [
            'no tables, no previous version' => ['', null],
            'no tables, from before the tables' => ['0.0.9', null],
            'no tables, an unreadable version' => ['unknown', null],
        ];
        foreach (glob(self::SCHEMAS . '/*.php') ?: [] as $file) {
            $version = basename($file, '.php');
            $cases["{$version} tables, from {$version}"] = [$version, $version];
            $cases["{$version} tables, previous version lost"] = ['', $version];
        }
        return $cases;
    }

    /** @dataProvider earlierSchemas */
    public function test_an_upgrade_from_an_earlier_schema_ends_with_a_fresh_installs_tables_and_keeps_the_rows(string $previous, ?string $frozen): void
    {
        $fresh = $this->freshInstall();
        $rows = [];
        if ($frozen !== null) {
            $earlier = require self::SCHEMAS . "/{$frozen}.php";
            $earlier['create'](Capsule::schema());
            $rows = $earlier['rows'];
            foreach ($rows as $table => $tableRows) {
                Capsule::table($table)->insert($tableRows);
            }
        }

        puente_upgrade(['version' => $previous]);

        $this->assertSame($fresh, self::tables());
        foreach ($rows as $table => $tableRows) {
            $key = array_key_first($tableRows[0]);
            $kept = array_map(static fn (object $row): array => (array) $row, Capsule::table($table)->orderBy($key)->get()->all());
            $this->assertEquals($tableRows, $kept, "the rows of {$table}");
        }
        // The upgraded spool takes the next event behind the kept ones.
        $spooled = count($rows[Schema::SPOOL] ?? []);
        (new TableSpool())->append(new Event('evt_after_upgrade', 'ClientEdit', 'default', '{}'));
        $this->assertSame($spooled + 1, (new TableSpool())->count());
        $this->assertSame('evt_after_upgrade', Capsule::table(Schema::SPOOL)->orderBy('seq', 'desc')->value('webhook_id'));
    }

    public function test_the_upgrade_runs_the_steps_newer_than_the_version_whmcs_passes_and_logs_them(): void
    {
        puente_upgrade(['version' => '0.0.9']);
        $fromOlder = end($GLOBALS['whmcs_module_log']);
        puente_upgrade(['version' => '0.1.0']);
        $fromCurrent = end($GLOBALS['whmcs_module_log']);

        $this->assertSame(['upgrade', '{"version":"0.0.9"}', 'schema steps run: 0.1.0'],
            [$fromOlder['action'], $fromOlder['request'], $fromOlder['response']]);
        $this->assertSame(['{"version":"0.1.0"}', 'schema steps run: none'], [$fromCurrent['request'], $fromCurrent['response']]);
    }

    public function test_an_upgrade_that_fails_is_logged_with_the_previous_version_alone_and_does_not_break_whmcs(): void
    {
        // A database that refuses writes: the upgrade cannot create its tables.
        Capsule::connection()->getPdo()->exec('PRAGMA query_only = ON');

        // Whatever else WHMCS passes (the settings, perhaps) stays out of the log.
        puente_upgrade(['version' => '0.0.9', 'secret' => self::SECRET]);

        Capsule::connection()->getPdo()->exec('PRAGMA query_only = OFF');
        $logged = end($GLOBALS['whmcs_module_log']);
        $this->assertSame(['upgrade', '{"version":"0.0.9"}'], [$logged['action'], $logged['request']]);
        $this->assertStringContainsString('readonly', $logged['response']);
    }

    /** The addon's tables as activation creates them; then none. */
    private function freshInstall(): array
    {
        $this->assertSame('success', Addon::activate()['status']);
        $tables = self::tables();
        Schema::drop();
        $this->assertSame([], array_filter(self::tables()));
        return $tables;
    }

    /**
     * Each addon table's columns (name, type, not null, default, key) and
     * indexes (name, unique, columns), as SQLite describes them.
     *
     * @return array<string, array{columns: list<array<string, mixed>>, indexes: list<array<string, mixed>>}>
     */
    private static function tables(): array
    {
        $pdo = Capsule::connection()->getPdo();
        $query = static fn (string $sql): array => $pdo->query($sql)->fetchAll(\PDO::FETCH_ASSOC);
        $tables = [];
        foreach ([Schema::SPOOL, Schema::STATE] as $table) {
            $columns = $query("PRAGMA table_info(\"{$table}\")");
            if ($columns === []) {
                $tables[$table] = [];
                continue;
            }
            $indexes = [];
            foreach ($query("PRAGMA index_list(\"{$table}\")") as $index) {
                $indexes[] = ['name' => $index['name'], 'unique' => $index['unique'],
                    'columns' => array_column($query("PRAGMA index_info(\"{$index['name']}\")"), 'name')];
            }
            usort($indexes, static fn (array $a, array $b): int => strcmp($a['name'], $b['name']));
            $tables[$table] = ['columns' => array_map(static fn (array $c): array => array_diff_key($c, ['cid' => 0]), $columns), 'indexes' => $indexes];
        }
        return $tables;
    }
}
