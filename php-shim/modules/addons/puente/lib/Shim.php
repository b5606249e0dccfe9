<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * What hooks.php calls. Each entry point catches every \Throwable: nothing
 * the addon does may break the WHMCS page, API call or cron run it is in.
 */
final class Shim
{
    /** Events the cron's replay sends per run, and its time budget. */
    private const CRON_REPLAY_LIMIT = 2000;
    private const CRON_REPLAY_SECONDS = 60.0;

    private static ?Forwarder $forwarder = null;

    /** The process's forwarder, built on first use from the settings. */
    public static function forwarder(): Forwarder
    {
        if (self::$forwarder === null) {
            $settings = Settings::load();
            [$spool, $state] = self::storage($settings);
            self::$forwarder = new Forwarder($settings, $spool, $state, new Transport(), static fn (): int => time());
        }
        return self::$forwarder;
    }

    /** Replaces (or, with null, forgets) the process's forwarder. */
    public static function install(?Forwarder $forwarder): void
    {
        self::$forwarder = $forwarder;
    }

    /**
     * The WHMCS database when there is one, else a folder.
     *
     * @return array{0: Spool, 1: SharedState}
     */
    public static function storage(Settings $settings): array
    {
        if (Whmcs::hasDatabase()) {
            return [new TableSpool(), new TableState()];
        }
        $dir = $settings->spoolDir ?? sys_get_temp_dir() . '/puente-spool-' . ($settings->instance ?: 'default');
        return [new FileSpool($dir), new FileState($dir)];
    }

    /** A forwarded hook fired. */
    public static function onHook(string $hook, mixed $vars): void
    {
        try {
            self::forwarder()->forward($hook, $vars, Context::detect());
        } catch (\Throwable $e) {
            self::logFailure("hook {$hook}", $e);
        }
    }

    /** AfterCronJob: send what waited while the service was unreachable. */
    public static function onCron(): void
    {
        try {
            // When the cron last ran, and on which PHP (Diagnostics).
            self::forwarder()->sharedState()->write('last_cron', (string) json_encode(['at' => time(), 'sapi' => PHP_SAPI]));
        } catch (\Throwable $e) {
            self::logFailure('cron time', $e);
        }
        try {
            $report = self::forwarder()->replay(self::CRON_REPLAY_LIMIT, self::CRON_REPLAY_SECONDS);
            if ($report['delivered'] + $report['rejected'] > 0 || $report['failed']) {
                Whmcs::log('replay', '', $report);
            }
        } catch (\Throwable $e) {
            self::logFailure('replay', $e);
        }
    }

    /**
     * Asks the service for a synchronous hook's return value.
     *
     * @param array<string, mixed> $data
     */
    public static function decide(string $hook, array $data, string $failPolicy): mixed
    {
        try {
            return (new Decisions(self::forwarder(), static fn (): int => time()))
                ->ask($hook, $data, Context::detect(), $failPolicy);
        } catch (\Throwable $e) {
            self::logFailure("decision {$hook}", $e);
            return $failPolicy === Decisions::FAIL_CLOSED ? [Messages::text('try_again_later')] : null;
        }
    }

    /**
     * ShoppingCartValidateUpgrade: the service's list of errors (`[]`
     * allows), with the facts it needs added; fail-closed.
     *
     * @param array<string, mixed> $vars `id` (service id) and `pid` (target)
     * @return string[]
     */
    public static function validateUpgrade(array $vars): array
    {
        try {
            $data = ['id' => (int) ($vars['id'] ?? 0), 'pid' => (int) ($vars['pid'] ?? 0)];
            $facts = UpgradeFacts::read($data['id'], $data['pid']);
            if ($facts !== null) {
                $data['_puente'] = $facts;
            }
            $answer = self::decide('ShoppingCartValidateUpgrade', $data, Decisions::FAIL_CLOSED);
            return is_array($answer) ? array_values(array_filter($answer, 'is_string')) : [];
        } catch (\Throwable $e) {
            self::logFailure('decision ShoppingCartValidateUpgrade', $e);
            return [Messages::text('try_again_later')];
        }
    }

    /**
     * OrderProductUpgradeOverride / PreUpgradeCheckout: the keys the
     * service overrides (`price`, or `amount` and `discount`), or nothing.
     * Neither hook names both the service and the chosen cycle, so the addon
     * adds them: the checkout's from its tblupgrades row, the override's
     * service from the upgrade page's request (`serviceid` on WHMCS 8's
     * route-based pages, `id` on the legacy upgrade.php; Twenty-One's
     * upgrade-configure.tpl and upgrade.tpl), checked against the hook's
     * `oldproductid` and the logged-in client. When the addon cannot tell
     * which service a price is for, WHMCS keeps its own price and staff are
     * told.
     *
     * @param array<string, mixed> $vars
     * @return array<string, string>|null
     */
    public static function priceUpgrade(string $hook, array $vars): ?array
    {
        try {
            $targetPid = (int) ($vars['newproductid'] ?? 0);
            $cycle = (string) ($vars['newproductbillingcycle'] ?? '');
            if ($hook === 'PreUpgradeCheckout') {
                $serviceId = (int) ($vars['serviceId'] ?? 0);
                [$targetPid, $cycle] = UpgradeFacts::ordered((int) ($vars['upgradeId'] ?? 0), $serviceId);
            } else {
                $actor = Context::detect()->actor;
                $serviceId = self::upgradedService($_REQUEST, (int) ($vars['oldproductid'] ?? 0),
                    $actor['kind'] === 'client' ? (int) ($actor['id'] ?? 0) : null);
                if ($serviceId === null) {
                    Whmcs::problem('upgrade_service_unknown', sprintf('an upgrade price (product #%d to #%d) was left to WHMCS: '
                        . 'the upgrade page named no service the addon could find (request parameters serviceid or id), '
                        . 'so puente\'s policy did not price it. Check that the client area uses a standard upgrade page',
                        (int) ($vars['oldproductid'] ?? 0), $targetPid));
                    return null;
                }
            }
            $facts = UpgradeFacts::read($serviceId, $targetPid);
            if ($facts === null || $cycle === '') {
                return null;
            }
            $data = ['serviceid' => $serviceId, 'pid' => $targetPid, '_puente' => $facts + ['cycle' => $cycle]];
            $answer = self::decide($hook, $data, Decisions::FAIL_OPEN);
            if (!is_array($answer)) {
                return null;
            }
            $allowed = $hook === 'PreUpgradeCheckout' ? ['amount', 'discount'] : ['price'];
            $override = array_intersect_key($answer, array_flip($allowed));
            return $override === [] ? null : array_map('strval', $override);
        } catch (\Throwable $e) {
            self::logFailure("decision {$hook}", $e);
            return null;
        }
    }

    /**
     * The service an upgrade page is about: its request's `serviceid`
     * (route-based pages) or `id` (upgrade.php), when that service has the
     * product the upgrade starts from and, for a client, is theirs (a
     * request naming another client's service must not price this one);
     * null when neither does.
     *
     * @param array<string, mixed> $request
     * @param ?int $clientId the logged-in client, when a client asks
     */
    public static function upgradedService(array $request, int $fromProduct, ?int $clientId): ?int
    {
        foreach (['serviceid', 'id'] as $name) {
            $id = $request[$name] ?? null;
            if (!is_numeric($id) || (int) $id <= 0) {
                continue;
            }
            if (!Whmcs::hasDatabase()) {
                return (int) $id;
            }
            $service = \WHMCS\Database\Capsule::table('tblhosting')->where('id', (int) $id)->first(['packageid', 'userid']);
            if ($service !== null && ($fromProduct <= 0 || (int) $service->packageid === $fromProduct)
                && ($clientId === null || (int) $service->userid === $clientId)) {
                return (int) $id;
            }
        }
        return null;
    }

    /**
     * The addon's client-area page; a failure shows "try again later"
     * rather than an error page.
     *
     * @return array<string, mixed>
     */
    public static function clientArea(): array
    {
        try {
            $isPost = ($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST';
            // A post's own fields (token, action, note) win over the query string's.
            $request = $isPost ? $_POST + $_GET : $_GET;
            $clock = static fn (): int => time();
            $actions = new ClientActions(self::forwarder(), $clock);
            if (($_GET['action'] ?? '') === 'transfers') {
                return TransferPage::page($request, $isPost, $actions, Context::detect(), FormToken::current());
            }
            if (($_GET['action'] ?? '') === 'cancel') {
                return CancelPage::page($request, $isPost, $actions, Context::detect(), FormToken::current(),
                    new Reauthentication(), self::forwarder()->sharedState(), $clock);
            }
            return ClientArea::page($request, $isPost, $actions, Context::detect(), FormToken::current());
        } catch (\Throwable $e) {
            self::logFailure('client area', $e);
            return [
                'pagetitle' => Messages::text('upgrade_title'),
                'templatefile' => 'upgrade',
                'requirelogin' => true,
                'vars' => ['error' => Messages::text('try_again_later'), 'unavailable' => true, 'token' => '',
                    'serviceid' => 0, 'pid' => 0, 'quote' => null, 'ticket' => null, 'texts' => Messages::all()],
            ];
        }
    }

    /**
     * ClientAreaPageCancellation: where WHMCS's own "Request Cancellation"
     * page should send the client instead (puente's page), or null to let
     * WHMCS show its own. A page view goes to puente's form; so does WHMCS's
     * own form once WHMCS processed its POST (`sub=submit`, before this hook
     * runs, and its CancellationRequest cannot be vetoed): that request asked
     * for no email and password, so puente never carries it out and holds
     * WHMCS's cron, and the client confirms it on puente's page.
     *
     * @param array<string, mixed> $vars the page's template variables
     */
    public static function cancellationRedirect(array $vars): ?string
    {
        try {
            if (!self::forwarder()->settings()->handlesCancellations) {
                return null;
            }
            $id = $vars['id'] ?? $_GET['id'] ?? null;
            if (!is_numeric($id) || (int) $id <= 0) {
                return null;
            }
            return 'index.php?m=puente&action=cancel&id=' . (int) $id;
        } catch (\Throwable $e) {
            self::logFailure('cancellation page', $e);
            return null;
        }
    }

    /**
     * PreModuleTerminate: `['abortcmd' => true]` while the service says a
     * cancellation the client has not confirmed, or one at the end of a
     * later billed period, stands in the way of WHMCS's cron; otherwise
     * nothing (fail-open: WHMCS proceeds when the service cannot answer).
     *
     * @param array<string, mixed> $vars `params` of the module call
     * @return array<string, bool>
     */
    public static function holdTermination(array $vars): array
    {
        try {
            $params = is_array($vars['params'] ?? null) ? $vars['params'] : [];
            $serviceId = (int) ($params['serviceid'] ?? 0);
            if ($serviceId <= 0) {
                return [];
            }
            $data = ['serviceid' => $serviceId, 'userid' => (int) ($params['userid'] ?? 0)];
            if (Whmcs::hasDatabase()) {
                // Staff withdraw a request by deleting it: only a request
                // WHMCS still holds may hold its automation.
                $data['_puente'] = ['cancellation_request' => ServiceFacts::cancellationRequest($serviceId)];
            }
            $answer = self::decide('PreModuleTerminate', $data, Decisions::FAIL_OPEN);
            return is_array($answer) && ($answer['abortcmd'] ?? false) === true ? ['abortcmd' => true] : [];
        } catch (\Throwable $e) {
            self::logFailure('decision PreModuleTerminate', $e);
            return [];
        }
    }

    private static function logFailure(string $action, \Throwable $e): void
    {
        $secrets = [];
        try {
            $secrets = Settings::load()->secrets;
        } catch (\Throwable $ignored) {
            // Log without masks rather than not at all; messages hold no secret.
        }
        Whmcs::log($action, '', get_class($e) . ': ' . $e->getMessage(), $secrets);
        $masked = str_replace(array_values(array_filter($secrets)), '***', $e->getMessage());
        Whmcs::problem('addon_error', "{$action} failed (" . get_class($e) . ": {$masked}); WHMCS went on without puente");
    }
}
