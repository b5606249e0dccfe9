<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's texts from lang/<language>.php, in the language the rule of
 * `Language` picks (the client's profile, then the session, then Spanish)
 * unless one is asked for; English for a key a language file lacks (a test
 * keeps both files' keys the same).
 */
final class Messages
{
    /** @var array<string, array<string, string>> */
    private static array $loaded = [];

    public static function text(string $key, string $language = ''): string
    {
        $language = strtolower($language !== '' ? $language : Language::current());
        return self::load($language)[$key] ?? self::load('english')[$key] ?? $key;
    }

    /** @return array<string, string> */
    public static function all(string $language = ''): array
    {
        $language = strtolower($language !== '' ? $language : Language::current());
        return self::load($language) + self::load('english');
    }

    /** @return array<string, string> */
    private static function load(string $language): array
    {
        if (!isset(self::$loaded[$language])) {
            $file = dirname(__DIR__) . "/lang/{$language}.php";
            if (preg_match('/^[a-z_-]+$/', $language) !== 1 || !is_file($file)) {
                return $language === 'spanish' ? [] : self::load('spanish');
            }
            $_ADDONLANG = [];
            include $file;
            self::$loaded[$language] = $_ADDONLANG;
        }
        return self::$loaded[$language];
    }
}
