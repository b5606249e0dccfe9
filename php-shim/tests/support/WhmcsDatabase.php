<?php

use WHMCS\Database\Capsule;

/**
 * The stand-in WHMCS database: SQLite with the tables and columns of a real
 * WHMCS 8.4 install (fixtures/whmcs-8.4/schema.sql), opened as WHMCS's
 * Capsule, and an audit of every statement the addon ran on it.
 *
 * The audit exists because SQLite reads a double-quoted name that matches
 * no column as a string (its "double-quoted string literal" compatibility
 * rule, on in Debian's build): `select "upgradepackages" from "tblproducts"`
 * returns the text 'upgradepackages' instead of failing. So every
 * statement is checked by name: each quoted table must exist, and each
 * quoted column must be a column of a table the statement names. And a
 * statement the addon itself ran may only name WHMCS columns listed in
 * WhmcsTables, the list the Diagnostics tab checks on a real install.
 */
final class WhmcsDatabase implements \Illuminate\Contracts\Events\Dispatcher
{
    /** @var list<string> problems found since the last audit() */
    private static array $problems = [];

    public const SCHEMA = __DIR__ . '/../../../fixtures/whmcs-8.4/schema.sql';
    public const DEMO_DATA = __DIR__ . '/../../../fixtures/whmcs-8.4/demo-data.sql';

    /**
     * Opens $database as the global Capsule; a new database (or ":memory:")
     * gets the 8.4 schema, and with $demo the demo install's rows.
     */
    public static function open(string $database = ':memory:', bool $create = true, bool $demo = false): void
    {
        $capsule = new Capsule();
        $capsule->addConnection(['driver' => 'sqlite', 'database' => $database, 'foreign_key_constraints' => false]);
        $capsule->setAsGlobal();
        $pdo = Capsule::connection()->getPdo();
        if ($create) {
            $pdo->exec((string) file_get_contents(self::SCHEMA));
        }
        if ($demo) {
            $pdo->exec((string) file_get_contents(self::DEMO_DATA));
        }
        // Each statement is checked as it runs, against the schema of that moment.
        Capsule::connection()->setEventDispatcher(new self());
        self::$problems = [];
    }

    /** @return list<string> the columns a table of the live database has */
    public static function columns(string $table): array
    {
        $rows = Capsule::connection()->getPdo()->query('PRAGMA table_info(' . self::quote($table) . ')');
        return $rows === false ? [] : array_column($rows->fetchAll(\PDO::FETCH_ASSOC), 'name');
    }

    /**
     * The problems of every statement run since the last call (and forgets
     * them): unknown tables, and columns outside the statement's tables.
     *
     * @return list<string>
     */
    public static function audit(): array
    {
        $problems = self::$problems;
        self::$problems = [];
        return $problems;
    }

    /** Laravel's event for each statement the connection ran. */
    public function dispatch($event, $payload = [], $halt = false)
    {
        if ($event instanceof \Illuminate\Database\Events\QueryExecuted) {
            foreach (self::check($event->sql, self::ranByTheAddon()) as $problem) {
                self::$problems[] = "{$problem} in: {$event->sql}";
            }
        }
        return null;
    }

    // The rest of Laravel's event dispatcher is not needed here.

    public function listen($events, $listener = null)
    {
    }

    public function hasListeners($eventName)
    {
        return false;
    }

    public function subscribe($subscriber)
    {
    }

    public function until($event, $payload = [])
    {
        return null;
    }

    public function push($event, $payload = [])
    {
    }

    public function flush($event)
    {
    }

    public function forget($event)
    {
    }

    public function forgetPushed()
    {
    }

    /** Whether the running statement comes from the addon's own code (not a test's). */
    private static function ranByTheAddon(): bool
    {
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS) as $frame) {
            if (str_contains($frame['file'] ?? '', '/modules/addons/puente/')) {
                return true;
            }
        }
        return false;
    }

    /**
     * The names of one statement that the live database lacks; with
     * `$addon`, also the WHMCS columns it names that WhmcsTables does not list.
     *
     * @return list<string>
     */
    public static function check(string $sql, bool $addon = false): array
    {
        if (preg_match('/^\s*(create|drop|alter|pragma)\b/i', $sql) === 1) {
            return [];
        }
        preg_match_all('/\b(?:from|join|into|update)\s+"([^"]+)"/i', $sql, $found);
        $columns = [];
        $problems = [];
        foreach (array_unique($found[1]) as $table) {
            $columns[$table] = self::columns($table);
            if ($columns[$table] === []) {
                $problems[] = "no table {$table}";
            } else {
                // Laravel's SQLite grammar limits an update by SQLite's own row id.
                $columns[$table][] = 'rowid';
            }
        }
        // An upsert's `excluded` row has the columns of the table it inserts into.
        if (preg_match('/\binto\s+"([^"]+)"/i', $sql, $into) === 1) {
            $columns['excluded'] = $columns[$into[1]] ?? [];
        }
        preg_match_all('/(\bas\s+)?"([^"]+)"(?:\."([^"]+)")?/i', $sql, $names, PREG_SET_ORDER);
        foreach ($names as $name) {
            [, $alias, $first] = $name;
            $second = $name[3] ?? '';
            if (trim($alias) !== '') {
                continue;
            }
            if ($second !== '') {
                if (!in_array($second, $columns[$first] ?? [], true)) {
                    $problems[] = "no column {$first}.{$second}";
                }
                $used = [[$first, $second]];
            } elseif (!isset($columns[$first]) && !in_array($first, array_merge([], ...array_values($columns)), true)) {
                $problems[] = "no column {$first} in " . implode(', ', array_keys($columns));
                $used = [];
            } else {
                $used = [];
                foreach ($columns as $table => $names) {
                    if (in_array($first, $names, true)) {
                        $used[] = [$table, $first];
                    }
                }
            }
            foreach ($addon ? $used : [] as [$table, $column]) {
                if (str_starts_with($table, 'tbl') && $column !== 'rowid'
                    && !\WHMCS\Module\Addon\Puente\WhmcsTables::lists($table, $column)) {
                    $problems[] = "{$table}.{$column} is not in WhmcsTables";
                }
            }
        }
        return array_values(array_unique($problems));
    }

    private static function quote(string $name): string
    {
        return '"' . str_replace('"', '""', $name) . '"';
    }
}
