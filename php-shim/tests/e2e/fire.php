<?php
/**
 * Runs the real addon under php-cli with a minimal WHMCS stand-in, for the
 * end-to-end test (tests/api/shim.rs) and `make bench`:
 *
 *   php fire.php activate                puente_activate(), as Setup > Addon Modules does
 *   php fire.php hooks [Hook ...]        fire each fixture hook (all when none named)
 *   php fire.php cron                    fire AfterCronJob (replays the spool)
 *   php fire.php call <Hook> '<vars>'    fire one hook with JSON vars; print what
 *                                        it returned, as JSON, one line per callback
 *
 * Settings come from PUENTE_URL, PUENTE_SECRET, PUENTE_INSTANCE and
 * PUENTE_SPOOL_DIR. With PUENTE_TEST_WHMCS_DB (an SQLite file with the WHMCS
 * 8.4 tables, fixtures/whmcs-8.4/), WHMCS's database is there too: the
 * addon reads it and spools into it, and a query naming a table or column
 * WHMCS 8.4 lacks ends the run with exit code 3. Module log rows go to
 * stderr, one JSON line each.
 */

define('WHMCS', true);

$hooks = [];

function add_hook(string $hookPoint, int $priority, callable $callback): void
{
    $GLOBALS['hooks'][$hookPoint][] = $callback;
}

function logModuleCall($module, $action, $request, $response, $processed = '', $replaceVars = []): void
{
    $line = json_encode(compact('module', 'action', 'request', 'response'), JSON_UNESCAPED_SLASHES);
    fwrite(STDERR, str_replace(array_filter($replaceVars), '***', $line) . "\n");
}

$database = getenv('PUENTE_TEST_WHMCS_DB');
if (is_string($database) && $database !== '') {
    require_once '/usr/share/php/Illuminate/Database/autoload.php';
    require_once dirname(__DIR__) . '/support/Capsule.php';
    require_once dirname(__DIR__) . '/support/WhmcsDatabase.php';
    WhmcsDatabase::open($database, false);
}

require dirname(__DIR__, 2) . '/modules/addons/puente/hooks.php';
require dirname(__DIR__, 2) . '/modules/addons/puente/puente.php';

$fixtures = dirname(__DIR__, 3) . '/fixtures/whmcs';
$mode = $argv[1] ?? '';
if ($mode === 'activate') {
    $result = puente_activate();
    echo json_encode($result, JSON_UNESCAPED_SLASHES), "\n";
    if ($result['status'] !== 'success') {
        exit(1);
    }
} elseif ($mode === 'cron') {
    foreach ($hooks['AfterCronJob'] as $callback) {
        $callback([]);
    }
} elseif ($mode === 'hooks') {
    $names = array_slice($argv, 2);
    if ($names === []) {
        foreach (glob("{$fixtures}/*.json") as $file) {
            $fixture = json_decode(file_get_contents($file), true);
            if (isset($fixture['hook'], $hooks[$fixture['hook']])) {
                $names[] = $fixture['hook'];
            }
        }
    }
    foreach ($names as $name) {
        $fixture = json_decode(file_get_contents("{$fixtures}/{$name}.json"), true);
        foreach ($hooks[$name] ?? [] as $callback) {
            $callback($fixture['vars']);
        }
    }
} elseif ($mode === 'call' && isset($argv[2], $argv[3], $hooks[$argv[2]])) {
    $vars = json_decode($argv[3], true, 512, JSON_THROW_ON_ERROR);
    foreach ($hooks[$argv[2]] as $callback) {
        echo json_encode($callback($vars), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
    }
} else {
    fwrite(STDERR, "usage: php fire.php activate | hooks [Hook ...] | cron | call <Hook> '<json vars>'\n");
    exit(2);
}

if (class_exists(WhmcsDatabase::class, false)) {
    $problems = WhmcsDatabase::audit();
    if ($problems !== []) {
        fwrite(STDERR, "queries outside the WHMCS 8.4 schema:\n" . implode("\n", $problems) . "\n");
        exit(3);
    }
}
