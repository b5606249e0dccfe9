<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The short-lived link that signs a logged-in WHMCS admin in to the puente
 * service's dashboard, scoped to this install's instance.
 *
 * Signed like a hook (Standard Webhooks), but with a key derived by HKDF
 * from the first signing secret (`LINK_KEY_PURPOSE`), with id
 * `dash_<nonce>`, the expiry as timestamp and the body
 * `puente-dashboard-link:<instance>:<admin id>`. The service accepts each
 * link once, until it expires, and only with this instance's own secret
 * (the global one for `default`).
 */
final class DashboardLink
{
    /** Seconds a link stays valid (the service refuses more than 300). */
    public const LIFETIME = 240;

    /** The HKDF info that turns the hook secret into the link key. */
    public const LINK_KEY_PURPOSE = 'puente dashboard link v1';

    /** The link for admin `$adminId` at `$now`, or null when it cannot be made. */
    public static function make(Settings $settings, ?int $adminId, int $now): ?string
    {
        if ($adminId === null || $settings->dashboardUrl === '' || $settings->secrets === [] || $settings->instance === '') {
            return null;
        }
        $nonce = bin2hex(random_bytes(16));
        $expires = $now + self::LIFETIME;
        $admin = (string) $adminId;
        $body = "puente-dashboard-link:{$settings->instance}:{$admin}";
        $query = [
            'instance' => $settings->instance,
            'admin' => $admin,
            'expires' => (string) $expires,
            'nonce' => $nonce,
            'signature' => Signer::sign(Signer::derive($settings->secrets[0], self::LINK_KEY_PURPOSE), "dash_{$nonce}", $expires, $body),
        ];
        return $settings->dashboardUrl . '/admin/link?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
    }
}
