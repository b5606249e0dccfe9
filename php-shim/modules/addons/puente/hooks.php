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
