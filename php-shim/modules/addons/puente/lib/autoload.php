<?php
/**
 * Class loader for the addon's own classes: WHMCS installs have no Composer,
 * so WHMCS\Module\Addon\Puente\Name maps to lib/Name.php.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

spl_autoload_register(static function (string $class): void {
    $prefix = 'WHMCS\\Module\\Addon\\Puente\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
