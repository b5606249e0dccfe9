<?php
/**
 * Registers the forwarded hooks (lib/HookCatalog.php lists them) and the
 * cron replay. Every callback returns nothing and throws nothing. WHMCS
 * loads this file on every request: it keeps to PHP 7.2 and registers
 * nothing where the addon cannot run (requirements.php).
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/requirements.php';
if (puente_requirements_problem() !== null) {
    return;
}
require_once __DIR__ . '/lib/autoload.php';

foreach (\WHMCS\Module\Addon\Puente\HookCatalog::hooks() as $puenteHook) {
    add_hook($puenteHook, 100, static function ($vars) use ($puenteHook): void {
        \WHMCS\Module\Addon\Puente\Shim::onHook($puenteHook, $vars);
    });
}
unset($puenteHook);

add_hook('AfterCronJob', 100, static function ($vars): void {
    \WHMCS\Module\Addon\Puente\Shim::onCron();
});

// The service may refuse an upgrade (downgrades, products outside the
// upgrade list); when it cannot answer in time the client is asked to try
// again rather than let a downgrade through.
add_hook('ShoppingCartValidateUpgrade', 100, static function ($vars) {
    return \WHMCS\Module\Addon\Puente\Shim::validateUpgrade(is_array($vars) ? $vars : []);
});

// The upgrade's price as the service's policy computes it; when the service
// cannot answer, WHMCS keeps its own price (fail open).
add_hook('OrderProductUpgradeOverride', 100, static function ($vars) {
    return \WHMCS\Module\Addon\Puente\Shim::priceUpgrade('OrderProductUpgradeOverride', is_array($vars) ? $vars : []);
});
add_hook('PreUpgradeCheckout', 100, static function ($vars) {
    return \WHMCS\Module\Addon\Puente\Shim::priceUpgrade('PreUpgradeCheckout', is_array($vars) ? $vars : []);
});

// WHMCS's automation terminates at the next due date; a cancellation at the
// end of a later billed period holds it until then (fail-open).
add_hook('PreModuleTerminate', 100, static function ($vars) {
    return \WHMCS\Module\Addon\Puente\Shim::holdTermination(is_array($vars) ? $vars : []);
});

// With "puente handles cancellations" on, WHMCS's own cancellation page
// sends the client to puente's, which asks for their email and password.
add_hook('ClientAreaPageCancellation', 100, static function ($vars) {
    $target = \WHMCS\Module\Addon\Puente\Shim::cancellationRedirect(is_array($vars) ? $vars : []);
    if ($target !== null && !headers_sent()) {
        header('Location: ' . $target, true, 302);
        exit;
    }
    return [];
});
