<?php
/**
 * puente: forwards WHMCS hook events, signed with Standard Webhooks, to the
 * puente service, and never slows or breaks WHMCS while doing it.
 *
 * The functions WHMCS looks for are here; their bodies live in lib/Addon.php.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/autoload.php';

use WHMCS\Module\Addon\Puente\Addon;

/**
 * Name, version and settings fields (Setup > Addon Modules).
 *
 * @return array<string, mixed>
 */
function puente_config()
{
    return Addon::config();
}

/**
 * Creates the spool and state tables.
 *
 * @return array{status: string, description: string}
 */
function puente_activate()
{
    return Addon::activate();
}

/**
 * Drops the addon's tables when no event waits in the spool; keeps them
 * (and says so) when some do.
 *
 * @return array{status: string, description: string}
 */
function puente_deactivate()
{
    return Addon::deactivate();
}

/**
 * Runs after a new version of the files is installed.
 *
 * @param array<string, mixed> $vars
 */
function puente_upgrade($vars)
{
    try {
        Addon::upgrade(is_array($vars) ? $vars : []);
    } catch (\Throwable $e) {
        \WHMCS\Module\Addon\Puente\Whmcs::log('upgrade', $vars, get_class($e) . ': ' . $e->getMessage());
    }
}

/**
 * The admin page (Addons > puente).
 *
 * @param array<string, mixed> $vars
 */
function puente_output($vars)
{
    try {
        echo Addon::output($vars);
    } catch (\Throwable $e) {
        echo '<div class="alert alert-danger">' . htmlspecialchars($e->getMessage(), ENT_QUOTES) . '</div>';
    }
}

/**
 * The client-area page (index.php?m=puente): upgrade preview and manual
 * upgrade request.
 *
 * @param array<string, mixed> $vars
 * @return array<string, mixed>
 */
function puente_clientarea($vars)
{
    return \WHMCS\Module\Addon\Puente\Shim::clientArea();
}
