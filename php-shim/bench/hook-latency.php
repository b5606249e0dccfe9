<?php
/**
 * `make bench`, shim part: how long a forwarded hook holds WHMCS up, with the
 * service up, down (port closed) and hung (accepts, never answers), in three
 * PHP models: one long-lived process (reused curl handle), a new php-cli
 * process per hook (the cron; compiled each time), and a new request per
 * hook on PHP's built-in server with OPcache (as php-fpm serves WHMCS).
 *
 *   PUENTE_SECRET=whsec_... php hook-latency.php <service URL> <scratch folder>
 *   php hook-latency.php --one      (internal: fires one hook, prints µs)
 */

define('WHMCS', true);

function add_hook(string $hookPoint, int $priority, callable $callback): void
{
    $GLOBALS['hooks'][$hookPoint][] = $callback;
}

function logModuleCall(...$arguments): void
{
}

/** Fires InvoicePaid `$count` times; returns each hook's duration in µs. */
function fire(int $count): array
{
    require_once dirname(__DIR__) . '/modules/addons/puente/hooks.php';
    $vars = json_decode(file_get_contents(dirname(__DIR__, 2) . '/fixtures/whmcs/InvoicePaid.json'), true)['vars'];
    $hook = $GLOBALS['hooks']['InvoicePaid'][0];
    $samples = [];
    for ($i = 0; $i < $count; $i++) {
        $started = hrtime(true);
        $hook($vars);
        $samples[] = (hrtime(true) - $started) / 1000;
    }
    return $samples;
}

if (PHP_SAPI === 'cli-server') {
    // One web request = one hook, as in php-fpm; settings come from the query.
    parse_str((string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_QUERY), $query);
    foreach (['PUENTE_URL', 'PUENTE_SPOOL_DIR', 'PUENTE_SECRET'] as $name) {
        putenv("{$name}=" . ($query[$name] ?? ''));
    }
    echo fire(1)[0];
    return;
}
if (($argv[1] ?? '') === '--one') {
    echo fire(1)[0], "\n";
    exit(0);
}

[, $serviceUrl, $scratch] = $argv + [null, null, null];
$secret = getenv('PUENTE_SECRET');
if ($serviceUrl === null || $scratch === null || $secret === false) {
    fwrite(STDERR, "usage: PUENTE_SECRET=whsec_... php hook-latency.php <service URL> <scratch folder>\n");
    exit(2);
}

$closed = stream_socket_server('tcp://127.0.0.1:0');
$closedUrl = 'http://' . stream_socket_get_name($closed, false);
fclose($closed);
$hung = stream_socket_server('tcp://127.0.0.1:0');
$hungUrl = 'http://' . stream_socket_get_name($hung, false);

// PHP's built-in server with OPcache (shared memory, as php-fpm has it).
$probe = stream_socket_server('tcp://127.0.0.1:0');
$webAddress = stream_socket_get_name($probe, false);
fclose($probe);
$web = proc_open([PHP_BINARY, '-d', 'opcache.enable=1', '-S', $webAddress, __FILE__],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
for ($try = 0; ($socket = @stream_socket_client("tcp://{$webAddress}")) === false && $try < 100; $try++) {
    usleep(20_000);
}

$percentile = static function (array $samples, float $p): float {
    sort($samples);
    return $samples[(int) min(count($samples) - 1, floor($p * count($samples)))];
};
$row = static function (string $label, array $samples) use ($percentile): void {
    printf("%-52s %6d %9.3f %9.3f %9.3f\n", $label, count($samples), $percentile($samples, 0.5) / 1000,
        $percentile($samples, 0.99) / 1000, max($samples) / 1000);
};

echo "puente shim: time a forwarded hook (InvoicePaid) adds to the WHMCS request\n";
printf("%-52s %6s %9s %9s %9s\n", 'service / PHP model', 'hooks', 'p50 ms', 'p99 ms', 'max ms');
foreach (['up' => $serviceUrl, 'down (port closed)' => $closedUrl, 'hung (never answers)' => $hungUrl] as $state => $url) {
    $settings = ['PUENTE_URL' => $url, 'PUENTE_SPOOL_DIR' => "{$scratch}/spool-" . md5($state), 'PUENTE_SECRET' => $secret];
    foreach ($settings as $name => $value) {
        putenv("{$name}={$value}");
    }
    $row("{$state} / one process, reused handle", fire(2000));
    \WHMCS\Module\Addon\Puente\Shim::install(null);
    \WHMCS\Module\Addon\Puente\Settings::forget();

    $command = escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg(__FILE__) . ' --one';
    $samples = [];
    for ($i = 0; $i < 100; $i++) {
        $samples[] = (float) shell_exec($command);
    }
    $row("{$state} / new php-cli process per hook", $samples);

    $request = "http://{$webAddress}/?" . http_build_query($settings);
    file_get_contents($request);
    $samples = [];
    for ($i = 0; $i < 500; $i++) {
        $samples[] = (float) file_get_contents($request);
    }
    $row("{$state} / new web request per hook, OPcache", $samples);
}
printf("targets: up p50 <= 0.5 ms and p99 <= 2 ms; down p50 <= 0.1 ms with the breaker open\n");
proc_terminate($web);
fclose($hung);
