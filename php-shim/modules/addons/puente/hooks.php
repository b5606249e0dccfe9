<?php
/**
 * Registers the forwarded hooks (lib/HookCatalog.php lists them) and the
 * cron replay. Every callback returns nothing and throws nothing.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/autoload.php';

use WHMCS\Module\Addon\Puente\HookCatalog;
use WHMCS\Module\Addon\Puente\Shim;

foreach (HookCatalog::hooks() as $puenteHook) {
    add_hook($puenteHook, 100, static function ($vars) use ($puenteHook): void {
        Shim::onHook($puenteHook, $vars);
    });
}
unset($puenteHook);

add_hook('AfterCronJob', 100, static function ($vars): void {
    Shim::onCron();
});

// The service may refuse an upgrade (downgrades, products outside the
// upgrade list); when it cannot answer in time the client is asked to try
// again rather than let a downgrade through.
add_hook('ShoppingCartValidateUpgrade', 100, static function ($vars) {
    return Shim::validateUpgrade(is_array($vars) ? $vars : []);
});

// The upgrade's price as the service's policy computes it; when the service
// cannot answer, WHMCS keeps its own price (fail open).
add_hook('OrderProductUpgradeOverride', 100, static function ($vars) {
    return Shim::priceUpgrade('OrderProductUpgradeOverride', is_array($vars) ? $vars : []);
});
add_hook('PreUpgradeCheckout', 100, static function ($vars) {
    return Shim::priceUpgrade('PreUpgradeCheckout', is_array($vars) ? $vars : []);
});
