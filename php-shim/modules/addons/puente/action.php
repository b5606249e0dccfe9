<?php
/**
 * The addon's one web entry point, called by the puente service (signed with
 * the addon's secret) for what the WHMCS API cannot do. It boots WHMCS
 * itself, as WHMCS's own entry scripts do, then hands over to lib/. It keeps
 * to PHP 7.2, so an older server answers why instead of a parse error.
 */

require dirname(__DIR__, 3) . '/init.php';
require_once __DIR__ . '/requirements.php';

$puenteProblem = puente_requirements_problem();
if ($puenteProblem !== null) {
    http_response_code(503);
    header('Content-Type: application/json');
    echo json_encode(array('result' => 'error', 'code' => 'unsupported', 'message' => $puenteProblem));
    return;
}
require_once __DIR__ . '/lib/autoload.php';

WHMCS\Module\Addon\Puente\ActionEndpoint::serve();
