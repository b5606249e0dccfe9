<?php
/**
 * The addon's one web entry point, called by the puente service (signed with
 * the addon's secret) for what the WHMCS API cannot do. It boots WHMCS
 * itself, as WHMCS's own entry scripts do, then hands over to lib/.
 */

require dirname(__DIR__, 3) . '/init.php';
require_once __DIR__ . '/lib/autoload.php';

WHMCS\Module\Addon\Puente\ActionEndpoint::serve();
