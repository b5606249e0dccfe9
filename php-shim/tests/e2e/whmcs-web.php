<?php
/**
 * WHMCS's web side as the end-to-end tests need it, a router for PHP's
 * built-in server (`php -S`), so the addon runs as in a web request (not on
 * php-cli, which it takes for the cron) over the WHMCS 8.4 database in
 * PUENTE_TEST_WHMCS_DB:
 *
 *   POST /clientarea.php?action=cancel&id=N   WHMCS's own cancellation form
 *        (Twenty-One clientareacancelrequest.tpl: sub=submit, type,
 *        cancellationreason), processed as WHMCS does: the request is
 *        written to tblcancelrequests and CancellationRequest fires; then
 *        the page renders and ClientAreaPageCancellation fires.
 *        The header X-Test-Client names the logged-in client.
 *   POST /modules/addons/puente/action.php   the addon's signed endpoint.
 *   POST /includes/api.php   WHMCS's API: every call is written to
 *        PUENTE_TEST_API_LOG and refused, so a test can tell that nothing was asked.
 *   GET|POST /admin/addonmodules.php?module=puente[&tab=diagnostics]   the
 *        addon's admin page, as admin 1 of WHMCS 8.13.1.
 *
 * The addon runs from PUENTE_TEST_WHMCS_ROOT (a WHMCS root the test copied
 * it into, with an init.php), as it would be installed.
 * A query naming a table or column WHMCS 8.4 lacks is written to
 * PUENTE_TEST_AUDIT_LOG.
 */

define('WHMCS', true);

$GLOBALS['hooks'] = [];

function add_hook(string $hookPoint, int $priority, callable $callback): void
{
    $GLOBALS['hooks'][$hookPoint][] = $callback;
}

function logModuleCall($module, $action, $request, $response, $processed = '', $replaceVars = []): void
{
}

function logActivity($message, $clientId = 0): void
{
}

function localAPI($command, $values = [], $adminUser = ''): array
{
    return ['result' => 'error', 'message' => "localAPI {$command} is not in this test"];
}

/** The session's form token (no session persists between requests here). */
function generate_token($type = 'form'): string
{
    return $type === 'plain' ? 'e2e-form-token' : '<input type="hidden" name="token" value="e2e-form-token" />';
}

require_once '/usr/share/php/Illuminate/Database/autoload.php';
require_once dirname(__DIR__) . '/support/Capsule.php';
require_once dirname(__DIR__) . '/support/WhmcsDatabase.php';
WhmcsDatabase::open((string) getenv('PUENTE_TEST_WHMCS_DB'), false);
register_shutdown_function(static function (): void {
    $problems = WhmcsDatabase::audit();
    if ($problems !== []) {
        file_put_contents((string) getenv('PUENTE_TEST_AUDIT_LOG'), implode("\n", $problems) . "\n", FILE_APPEND);
    }
});

$GLOBALS['CONFIG'] = ['Version' => '8.13.1-release.1'];
$root = (string) getenv('PUENTE_TEST_WHMCS_ROOT');
require $root . '/modules/addons/puente/hooks.php';
require $root . '/modules/addons/puente/puente.php';

use WHMCS\Database\Capsule;

$path = (string) parse_url((string) $_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/clientarea.php' && ($_GET['action'] ?? '') === 'cancel') {
    $_SESSION = ['uid' => (int) ($_SERVER['HTTP_X_TEST_CLIENT'] ?? 0)];
    $serviceId = (int) ($_GET['id'] ?? 0);
    $owner = (int) Capsule::table('tblhosting')->where('id', $serviceId)->value('userid');
    $posted = $_SERVER['REQUEST_METHOD'] === 'POST' && ($_POST['sub'] ?? '') === 'submit';
    if ($posted && $owner === $_SESSION['uid']) {
        Capsule::table('tblcancelrequests')->insert(['date' => date('Y-m-d H:i:s'), 'relid' => $serviceId,
            'reason' => (string) ($_POST['cancellationreason'] ?? ''), 'type' => (string) ($_POST['type'] ?? '')]);
        foreach ($GLOBALS['hooks']['CancellationRequest'] ?? [] as $callback) {
            $callback(['userid' => $owner, 'relid' => $serviceId, 'reason' => (string) ($_POST['cancellationreason'] ?? ''),
                'type' => (string) ($_POST['type'] ?? '')]);
        }
    }
    foreach ($GLOBALS['hooks']['ClientAreaPageCancellation'] ?? [] as $callback) {
        $callback(['id' => $serviceId, 'requested' => $posted]);
    }
    echo $posted ? 'WHMCS: your cancellation request was submitted' : 'WHMCS: cancellation form';
    return true;
}

if ($path === '/admin/addonmodules.php' && ($_GET['module'] ?? '') === 'puente') {
    define('ADMINAREA', true);
    $_SESSION = ['adminid' => 1];
    require_once '/usr/share/php/smarty3/Smarty.class.php';
    require_once dirname(__DIR__) . '/support/CurrentUser.php';
    puente_output(['modulelink' => 'addonmodules.php?module=puente',
        '_lang' => WHMCS\Module\Addon\Puente\Messages::all('english')]);
    return true;
}

if ($path === '/modules/addons/puente/action.php') {
    WHMCS\Module\Addon\Puente\ActionEndpoint::serve();
    return true;
}

if ($path === '/includes/api.php') {
    file_put_contents((string) getenv('PUENTE_TEST_API_LOG'), ($_POST['action'] ?? '') . "\n", FILE_APPEND);
    header('Content-Type: application/json');
    echo json_encode(['result' => 'error', 'message' => 'the API is not part of this test']);
    return true;
}

http_response_code(404);
echo 'not found';
return true;
