<?php
/**
 * A stand-in for the parts of WHMCS the addon touches (SPEC §3.6): the WHMCS
 * constant, add_hook, logModuleCall, logActivity, localAPI and the session;
 * with PUENTE_TEST_CAPSULE=1 also WHMCS\Database\Capsule over SQLite in
 * memory (Debian's php-illuminate-database, the Laravel query builder WHMCS
 * ships), with the tbladdonmodules table WHMCS keeps settings in.
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

function localAPI($command, $values = [], $adminUser = ''): array
{
    return ['result' => 'error', 'message' => "localAPI {$command} is not available in the tests"];
}

if (getenv('PUENTE_TEST_CAPSULE') === '1') {
    require_once '/usr/share/php/Illuminate/Database/autoload.php';
    require_once __DIR__ . '/support/Capsule.php';
}

require_once dirname(__DIR__) . '/modules/addons/puente/lib/autoload.php';
require_once dirname(__DIR__) . '/modules/addons/puente/hooks.php';
require_once dirname(__DIR__) . '/modules/addons/puente/puente.php';
require_once __DIR__ . '/support/FakeService.php';
require_once __DIR__ . '/support/HungService.php';
require_once __DIR__ . '/support/ShimTestCase.php';
