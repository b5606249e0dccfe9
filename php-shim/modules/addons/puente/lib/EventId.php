<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * `webhook-id`s: `evt_` + a ULID (48-bit milliseconds, 80 random bits,
 * Crockford base32), unique across installs and sortable by time.
 */
final class EventId
{
    private const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

    public static function generate(?int $milliseconds = null): string
    {
        $milliseconds ??= (int) floor(microtime(true) * 1000);
        $time = '';
        for ($i = 0; $i < 10; $i++) {
            $time = self::ALPHABET[$milliseconds & 31] . $time;
            $milliseconds >>= 5;
        }
        // 80 random bits: 16 characters of 5 bits from 10 bytes.
        $bits = '';
        foreach (str_split(random_bytes(10)) as $byte) {
            $bits .= str_pad(decbin(ord($byte)), 8, '0', STR_PAD_LEFT);
        }
        $random = '';
        foreach (str_split($bits, 5) as $chunk) {
            $random .= self::ALPHABET[bindec($chunk)];
        }
        return 'evt_' . $time . $random;
    }
}
