<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The addon's texts from lang/<language>.php; Spanish unless the client's
 * or admin's WHMCS language has a file, with English for missing keys.
 */
final class Messages
{
    /** @var array<string, array<string, string>> */
    private static array $loaded = [];

    public static function text(string $key, string $language = ''): string
    {
        $language = strtolower($language !== '' ? $language : self::sessionLanguage());
        return self::load($language)[$key] ?? self::load('english')[$key] ?? $key;
    }

    /** @return array<string, string> */
    public static function all(string $language = ''): array
    {
        $language = strtolower($language !== '' ? $language : self::sessionLanguage());
        return self::load($language) + self::load('english');
    }

    private static function sessionLanguage(): string
    {
        $language = $_SESSION['Language'] ?? '';
        return is_string($language) && $language !== '' ? $language : 'spanish';
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
