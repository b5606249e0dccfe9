<?php
/**
 * Runs the real addon under php-cli with a minimal WHMCS stand-in, for the
 * end-to-end test (tests/api/shim.rs) and `make bench`:
 *
 *   php fire.php hooks [Hook ...]   fire each fixture hook (all when none named)
 *   php fire.php cron               fire AfterCronJob (replays the spool)
 *
 * Settings come from PUENTE_URL, PUENTE_SECRET, PUENTE_INSTANCE and
 * PUENTE_SPOOL_DIR. Module log rows go to stderr, one JSON line each.
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

require dirname(__DIR__, 2) . '/modules/addons/puente/hooks.php';

$fixtures = dirname(__DIR__, 3) . '/fixtures/whmcs';
$mode = $argv[1] ?? '';
if ($mode === 'cron') {
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
} else {
    fwrite(STDERR, "usage: php fire.php hooks [Hook ...] | cron\n");
    exit(2);
}
