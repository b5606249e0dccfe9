<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Turns a hook's `$vars` into data that may leave WHMCS: only allowed keys,
 * objects and nested arrays reduced to named scalar fields, and then, as a
 * second layer, anything that still looks secret replaced by a marker.
 */
final class Scrubber
{
    public const REDACTED = '[redacted]';

    /** Field lists for nested values (`key:reducer` in HookCatalog). */
    public const REDUCERS = [
        'invoice' => ['id', 'userid', 'invoicenum', 'date', 'duedate', 'datepaid', 'subtotal', 'credit', 'tax', 'tax2', 'total', 'taxrate', 'taxrate2', 'status', 'paymentmethod', 'currencycode'],
        'user' => ['id', 'email', 'language'],
        // Module parameters: never password, username, or any server* credential.
        'module_params' => ['serviceid', 'userid', 'pid', 'serverid', 'domain', 'producttype', 'moduletype', 'status', 'domainstatus', 'suspendreason'],
        'client' => ['firstname', 'lastname', 'companyname', 'email', 'address1', 'address2', 'city', 'state', 'postcode', 'country', 'phonenumber', 'phonecc', 'currency', 'status', 'language', 'groupid', 'billingcid'],
    ];

    /** Key names that mean a secret wherever they appear. */
    private const SECRET_KEY = '/pass|pwd|username|credential|second_factor|secret|token|hash|api_?key|access_?key|private|cvv|cvc|card|ccnum|cc_?(number|expiry|start|issue)|otp|2fa|totp|authdata|security_?q|answer|salt|sessionid|cookie/i';

    /** Values that are secrets whatever key holds them. */
    private const SECRET_VALUES = [
        '/^whsec_/',                                  // Standard Webhooks secrets
        '/^\$(2[abxy]|argon2i?d?|[156])\$/',          // password hashes (bcrypt, argon2, crypt)
        '/-----BEGIN [A-Z ]*PRIVATE KEY-----/',       // PEM private keys
        '/^(sk|rk)_(live|test)_[A-Za-z0-9]{8,}/',     // payment gateway API keys
    ];

    /**
     * @return array<string, mixed>
     */
    public static function scrub(string $hook, mixed $vars): array
    {
        $vars = self::toArray($vars);
        $kept = [];
        foreach (HookCatalog::fields($hook) as $key => $reducer) {
            if (!array_key_exists($key, $vars)) {
                continue;
            }
            $kept[$key] = $reducer === null
                ? self::plain($vars[$key])
                : self::reduce($vars[$key], self::REDUCERS[$reducer] ?? []);
        }
        return self::redact($kept);
    }

    /**
     * Replaces secret-looking keys' values and secret-looking values, at any
     * depth, with the marker.
     *
     * @param array<mixed> $data
     * @return array<mixed>
     */
    public static function redact(array $data): array
    {
        foreach ($data as $key => $value) {
            if (is_string($key) && preg_match(self::SECRET_KEY, $key) === 1) {
                $data[$key] = self::REDACTED;
            } elseif (is_array($value)) {
                $data[$key] = self::redact($value);
            } elseif (is_string($value) && self::looksSecret($value)) {
                $data[$key] = self::REDACTED;
            }
        }
        return $data;
    }

    private static function looksSecret(string $value): bool
    {
        foreach (self::SECRET_VALUES as $pattern) {
            if (preg_match($pattern, $value) === 1) {
                return true;
            }
        }
        return self::isCardNumber($value);
    }

    /** A 13-19 digit number (spaces or dashes allowed) that passes Luhn. */
    private static function isCardNumber(string $value): bool
    {
        $digits = preg_replace('/[ -]/', '', $value);
        if ($digits === null || preg_match('/^\d{13,19}$/', $digits) !== 1) {
            return false;
        }
        $sum = 0;
        foreach (array_reverse(str_split($digits)) as $i => $digit) {
            $d = (int) $digit * ($i % 2 === 1 ? 2 : 1);
            $sum += $d > 9 ? $d - 9 : $d;
        }
        return $sum % 10 === 0;
    }

    /**
     * A nested value kept only through its field list.
     *
     * @param string[] $fields
     * @return array<string, mixed>|null
     */
    private static function reduce(mixed $value, array $fields): ?array
    {
        if ($value === null) {
            return null;
        }
        $value = self::toArray($value);
        $kept = [];
        foreach ($fields as $field) {
            if (array_key_exists($field, $value)) {
                $kept[$field] = self::plain($value[$field]);
            }
        }
        return $kept;
    }

    /** Scalars as they are; arrays recursively; objects never. */
    private static function plain(mixed $value): mixed
    {
        if (is_array($value)) {
            return array_map([self::class, 'plain'], $value);
        }
        if ($value instanceof \DateTimeInterface) {
            return $value->format(\DateTimeInterface::ATOM);
        }
        return is_scalar($value) || $value === null ? $value : null;
    }

    /**
     * An array view of `$vars` or of a WHMCS model (Eloquent models offer
     * toArray(); other objects are read through their public properties).
     *
     * @return array<mixed>
     */
    private static function toArray(mixed $value): array
    {
        if (is_array($value)) {
            return $value;
        }
        if (is_object($value)) {
            try {
                if (method_exists($value, 'toArray')) {
                    $array = $value->toArray();
                    if (is_array($array)) {
                        return $array;
                    }
                }
            } catch (\Throwable $e) {
                // Fall back to the public properties below.
            }
            return get_object_vars($value);
        }
        return [];
    }
}
