<?php
/**
 * What the addon needs to run, checked before any of lib/ is loaded: the
 * classes in lib/ use PHP 8.1 syntax, which an older PHP cannot even parse,
 * so this file, puente.php, hooks.php, action.php and lib/autoload.php keep
 * to PHP 7.2 (WHMCS 8.0's floor) and the addon says why it cannot run
 * instead of stopping WHMCS with a parse error.
 *
 * PHP 8.1 is supported by WHMCS from 8.6 on (docs/WHMCS-ASSUMPTIONS.md #57).
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's version (its `_config` version and `context.shim_version`).
 *
 * @return string
 */
function puente_version()
{
    return '0.1.0';
}

/**
 * The oldest PHP and WHMCS the addon runs on.
 *
 * @return array{php: string, whmcs: string}
 */
function puente_floor()
{
    return array('php' => '8.1.0', 'whmcs' => '8.6.0');
}

/**
 * The WHMCS version as WHMCS stores it (`8.4.0-release.1`), or '' when it
 * cannot be told.
 *
 * @return string
 */
function puente_whmcs_version()
{
    try {
        if (class_exists('WHMCS\\Config\\Setting')) {
            return (string) call_user_func(array('WHMCS\\Config\\Setting', 'getValue'), 'Version');
        }
    } catch (\Throwable $e) {
        // Fall through to the global configuration.
    }
    return isset($GLOBALS['CONFIG']['Version']) ? (string) $GLOBALS['CONFIG']['Version'] : '';
}

/**
 * Why the addon cannot run on this server, in Spanish and English; null
 * when it can. Asked once per request.
 *
 * @return string|null
 */
function puente_requirements_problem()
{
    static $problem = false;
    if ($problem === false) {
        $problem = puente_requirements_problem_for(PHP_VERSION, puente_whmcs_version());
    }
    return $problem;
}

/**
 * Why the addon cannot run on this PHP and WHMCS, in Spanish and English;
 * null when it can. An unknown WHMCS version ('') is not refused (the
 * Diagnostics tab warns about it).
 *
 * @param string $phpVersion
 * @param string $whmcsVersion as WHMCS stores it (`8.6.0-release.1`)
 * @return string|null
 */
function puente_requirements_problem_for($phpVersion, $whmcsVersion)
{
    $floor = puente_floor();
    $whmcs = preg_replace('/-.*$/', '', $whmcsVersion);
    $oldPhp = version_compare($phpVersion, $floor['php'], '<');
    $oldWhmcs = $whmcs !== '' && version_compare($whmcs, $floor['whmcs'], '<');
    if (!$oldPhp && !$oldWhmcs) {
        return null;
    }
    $here = 'PHP ' . $phpVersion . ($whmcsVersion !== '' ? ', WHMCS ' . $whmcsVersion : '');
    return sprintf('puente necesita PHP %s o posterior y WHMCS %s o posterior (aquí: %s); no se activa y no reenvía nada. '
        . '/ puente needs PHP %s or newer and WHMCS %s or newer (here: %s); it does not activate and forwards nothing.',
        $floor['php'], $floor['whmcs'], $here, $floor['php'], $floor['whmcs'], $here);
}
