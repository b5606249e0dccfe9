<?php
/**
 * A stand-in for the parts of WHMCS the addon touches (SPEC §3.6): the WHMCS
 * constant, add_hook, logModuleCall, logActivity, localAPI, the form token
 * functions and the session; with PUENTE_TEST_CAPSULE=1 also
 * WHMCS\Database\Capsule (Debian's php-illuminate-database, the Laravel
 * query builder WHMCS ships) over SQLite with the tables of a real WHMCS 8.4
 * database (support/WhmcsDatabase.php).
 */

define('WHMCS', true);

/** @var array<string, list<callable>> hook point => callbacks, as add_hook registered them */
$GLOBALS['whmcs_hooks'] = [];
/** @var list<array<string, mixed>> module log rows, already masked as WHMCS masks them */
$GLOBALS['whmcs_module_log'] = [];
$_SESSION = [];

function add_hook(string $hookPoint, int $priority, callable $callback): void
{
    $GLOBALS['whmcs_hooks'][$hookPoint][] = $callback;
}

/**
 * WHMCS replaces each of $replaceVars in what it logs with asterisks.
 *
 * @param string[] $replaceVars
 */
function logModuleCall($module, $action, $request, $response, $processed = '', $replaceVars = []): void
{
    $mask = static function ($value) use ($replaceVars): string {
        $text = is_string($value) ? $value : json_encode($value, JSON_UNESCAPED_SLASHES);
        foreach ($replaceVars as $secret) {
            if ($secret !== '') {
                $text = str_replace($secret, '***', $text);
            }
        }
        return $text;
    };
    $GLOBALS['whmcs_module_log'][] = [
        'module' => $module,
        'action' => $action,
        'request' => $mask($request),
        'response' => $mask($response),
    ];
}

function logActivity($message, $clientId = 0): void
{
    $GLOBALS['whmcs_activity_log'][] = [$message, $clientId];
}

/**
 * WHMCS's local API: tests set $GLOBALS['whmcs_local_api'] to answer a
 * command; every call is kept in $GLOBALS['whmcs_local_api_calls'].
 */
$GLOBALS['whmcs_local_api'] = null;
$GLOBALS['whmcs_local_api_calls'] = [];

function localAPI($command, $values = [], $adminUser = ''): array
{
    $GLOBALS['whmcs_local_api_calls'][] = [$command, $values];
    $answer = $GLOBALS['whmcs_local_api'];
    return is_callable($answer)
        ? $answer($command, $values)
        : ['result' => 'error', 'message' => "localAPI {$command} is not available in the tests"];
}

/**
 * WHMCS's form token: generate_token('plain') is the session's token,
 * 'form' the hidden field. What check_token() does with a wrong token is
 * undocumented: it returns false, or ends the request; tests set
 * $GLOBALS['whmcs_check_token'] to 'boolean' or 'halting' to run under each.
 */
$GLOBALS['whmcs_check_token'] = 'boolean';

final class WhmcsRequestHalted extends \RuntimeException
{
}

function generate_token($type = 'form'): string
{
    $token = $_SESSION['tkval'] ??= bin2hex(random_bytes(20));
    return match ($type) {
        'plain' => $token,
        'link' => '&token=' . $token,
        default => '<input type="hidden" name="token" value="' . $token . '" />',
    };
}

function check_token($namespace = 'WHMCS.default')
{
    $valid = is_string($_POST['token'] ?? null) && hash_equals((string) ($_SESSION['tkval'] ?? ''), $_POST['token']);
    if (!$valid && $GLOBALS['whmcs_check_token'] === 'halting') {
        throw new WhmcsRequestHalted('check_token() ended the request');
    }
    return $valid;
}

if (getenv('PUENTE_TEST_CAPSULE') === '1') {
    require_once '/usr/share/php/Illuminate/Database/autoload.php';
    require_once __DIR__ . '/support/Capsule.php';
    require_once __DIR__ . '/support/WhmcsDatabase.php';
    WhmcsDatabase::open();
}

require_once dirname(__DIR__) . '/modules/addons/puente/lib/autoload.php';
require_once dirname(__DIR__) . '/modules/addons/puente/hooks.php';
require_once dirname(__DIR__) . '/modules/addons/puente/puente.php';
require_once __DIR__ . '/support/FakeService.php';
require_once __DIR__ . '/support/HungService.php';
require_once __DIR__ . '/support/ShimTestCase.php';
require_once __DIR__ . '/support/CapsuleTestCase.php';
