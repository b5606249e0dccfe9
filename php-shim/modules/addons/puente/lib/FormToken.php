<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The CSRF token of the addon's forms. Each form carries the session's
 * token as a `token` field, and a post is accepted only when that field
 * equals it. WHMCS's check_token() is not used: its return value is not
 * documented (some code reads it as a boolean, other code expects it to end
 * the request), so the comparison is made here, the same under either.
 */
final class FormToken
{
    /** The session's token (`generate_token('plain')`); "" outside WHMCS. */
    public static function current(): string
    {
        if (!function_exists('generate_token')) {
            return '';
        }
        try {
            $token = generate_token('plain');
        } catch (\Throwable $e) {
            return '';
        }
        return is_string($token) ? trim($token) : '';
    }

    /** Whether a posted token is the session's; never without a session token. */
    public static function accepts(mixed $posted, ?string $expected = null): bool
    {
        $expected ??= self::current();
        return $expected !== '' && is_string($posted) && hash_equals($expected, $posted);
    }

    /** The hidden field every form of the addon carries. */
    public static function field(?string $token = null): string
    {
        return '<input type="hidden" name="token" value="' . htmlspecialchars($token ?? self::current(), ENT_QUOTES) . '">';
    }
}
