<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Standard Webhooks v1: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the
 * base64 key of a `whsec_` secret, sent as `v1,<base64>`.
 */
final class Signer
{
    private const PREFIX = 'whsec_';

    /** Seconds a timestamp may be away from now, either way. */
    public const TOLERANCE = 300;

    /**
     * The `webhook-signature` value for a body.
     *
     * @throws \InvalidArgumentException when the secret is not `whsec_<base64>`
     */
    public static function sign(string $secret, string $id, int $timestamp, string $body): string
    {
        return 'v1,' . base64_encode(hash_hmac('sha256', "{$id}.{$timestamp}.{$body}", self::key($secret), true));
    }

    /**
     * Whether any `v1,` entry of the header matches any of the secrets and
     * the timestamp is within the tolerance of `$now`.
     *
     * @param string[] $secrets
     */
    public static function verify(array $secrets, string $id, string $timestamp, string $header, string $body, int $now): bool
    {
        if ($id === '' || !ctype_digit($timestamp) || abs($now - (int) $timestamp) > self::TOLERANCE) {
            return false;
        }
        $offered = [];
        foreach (preg_split('/\s+/', trim($header)) ?: [] as $entry) {
            if (strncmp($entry, 'v1,', 3) === 0) {
                $offered[] = substr($entry, 3);
            }
        }
        foreach ($secrets as $secret) {
            try {
                $expected = substr(self::sign($secret, $id, (int) $timestamp, $body), 3);
            } catch (\InvalidArgumentException $e) {
                continue;
            }
            foreach ($offered as $candidate) {
                if (hash_equals($expected, $candidate)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * A `whsec_` secret for another purpose, derived from `$secret` with
     * HKDF-SHA256 (no salt, `$purpose` as info), as the service derives it:
     * what it signs can never be taken for something signed with `$secret`.
     *
     * @throws \InvalidArgumentException when the secret is not `whsec_<base64>`
     */
    public static function derive(string $secret, string $purpose): string
    {
        return self::PREFIX . base64_encode(hash_hkdf('sha256', self::key($secret), 32, $purpose));
    }

    /** Whether a string is a usable `whsec_` secret. */
    public static function isSecret(string $secret): bool
    {
        try {
            self::key($secret);
            return true;
        } catch (\InvalidArgumentException $e) {
            return false;
        }
    }

    private static function key(string $secret): string
    {
        if (strncmp($secret, self::PREFIX, strlen(self::PREFIX)) !== 0) {
            throw new \InvalidArgumentException('a signing secret starts with whsec_');
        }
        $key = base64_decode(substr($secret, strlen(self::PREFIX)), true);
        if ($key === false || $key === '') {
            throw new \InvalidArgumentException('a signing secret is whsec_ followed by base64');
        }
        return $key;
    }
}
