<?php
/**
 * puente: forwards WHMCS hook events, signed with Standard Webhooks, to the
 * puente service, and never slows or breaks WHMCS while doing it.
 *
 * The functions WHMCS looks for are here; their bodies live in lib/Addon.php.
 * This file keeps to PHP 7.2 so that an older WHMCS shows why the addon
 * cannot run (requirements.php) instead of a parse error.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/requirements.php';
if (puente_requirements_problem() === null) {
    require_once __DIR__ . '/lib/autoload.php';
}

/**
 * Name, version and settings fields (Setup > Addon Modules).
 *
 * @return array<string, mixed>
 */
function puente_config()
{
    $problem = puente_requirements_problem();
    if ($problem !== null) {
        return array('name' => 'puente', 'description' => $problem, 'version' => puente_version(),
            'author' => 'puente', 'fields' => array());
    }
    return \WHMCS\Module\Addon\Puente\Addon::config();
}

/**
 * Creates the spool and state tables; refuses, saying why, below the
 * supported PHP and WHMCS versions.
 *
 * @return array{status: string, description: string}
 */
function puente_activate()
{
    $problem = puente_requirements_problem();
    if ($problem !== null) {
        return array('status' => 'error', 'description' => $problem);
    }
    return \WHMCS\Module\Addon\Puente\Addon::activate();
}

/**
 * Drops the addon's tables when no event waits in the spool; keeps them
 * (and says so) when some do.
 *
 * @return array{status: string, description: string}
 */
function puente_deactivate()
{
    if (puente_requirements_problem() !== null) {
        return array('status' => 'success', 'description' => 'puente is deactivated.');
    }
    return \WHMCS\Module\Addon\Puente\Addon::deactivate();
}

/**
 * Runs after a new version of the files is installed: the schema steps
 * newer than the previous version, `$vars['version']`.
 *
 * @param array<string, mixed> $vars
 */
function puente_upgrade($vars)
{
    if (puente_requirements_problem() !== null) {
        return;
    }
    $vars = is_array($vars) ? $vars : array();
    try {
        \WHMCS\Module\Addon\Puente\Addon::upgrade($vars);
    } catch (\Throwable $e) {
        // Only the version: whatever else WHMCS passes may hold the settings, the secret among them.
        $version = isset($vars['version']) && is_scalar($vars['version']) ? (string) $vars['version'] : null;
        \WHMCS\Module\Addon\Puente\Whmcs::log('upgrade', array('version' => $version), get_class($e) . ': ' . $e->getMessage());
    }
}

/**
 * The admin page (Addons > puente): its Status tab (the connection, the
 * spool, problems staff must act on, the dashboard's button) and its
 * Diagnostics tab.
 *
 * @param array<string, mixed> $vars
 */
function puente_output($vars)
{
    $problem = puente_requirements_problem();
    if ($problem !== null) {
        echo '<div class="alert alert-danger">' . htmlspecialchars($problem, ENT_QUOTES) . '</div>';
        return;
    }
    try {
        echo \WHMCS\Module\Addon\Puente\Addon::output(is_array($vars) ? $vars : array());
    } catch (\Throwable $e) {
        echo '<div class="alert alert-danger">' . htmlspecialchars($e->getMessage(), ENT_QUOTES) . '</div>';
    }
}

/**
 * The client-area pages (index.php?m=puente): the upgrade page (the
 * default), `action=cancel` and `action=transfers`.
 *
 * @param array<string, mixed> $vars
 * @return array<string, mixed>
 */
function puente_clientarea($vars)
{
    if (puente_requirements_problem() !== null) {
        return array('pagetitle' => 'puente', 'templatefile' => 'unavailable', 'requirelogin' => true, 'vars' => array());
    }
    return \WHMCS\Module\Addon\Puente\Shim::clientArea();
}
