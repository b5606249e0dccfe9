<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

/**
 * The addon's texts from lang/<language>.php, and the one rule for the
 * language a client reads, the same as the service's
 * (`src/domain/texts.rs`): the client's profile language in WHMCS, else the
 * language of their session, else Spanish; a language puente has no texts
 * in counts as none (`fixtures/language-rule.json` holds cases both sides
 * must agree on). Texts come in that language unless one is asked for;
 * English for a key a language file lacks (a test keeps both files' keys
 * the same).
 */
final class Messages
{
    /** @var array<string, array<string, string>> */
    private static array $loaded = [];

    /** @var array<int, string> profile languages read in this request */
    private static array $profiles = [];

    public static function text(string $key, string $language = ''): string
    {
        $language = strtolower($language !== '' ? $language : self::language());
        return self::load($language)[$key] ?? self::load('english')[$key] ?? $key;
    }

    /** @return array<string, string> */
    public static function all(string $language = ''): array
    {
        $language = strtolower($language !== '' ? $language : self::language());
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


    /** `spanish` or `english`, by the rule. */
    public static function pickLanguage(string $profile, string $session): string
    {
        return self::languageNamed($profile) ?? self::languageNamed($session) ?? 'spanish';
    }

    /**
     * The language a WHMCS language name (`english`, `Spanish`) or a code
     * (`en`, `es_MX`, `en-GB`) names; null for one puente has no texts in.
     */
    public static function languageNamed(string $name): ?string
    {
        $base = preg_split('/[_-]/', strtolower(trim($name)))[0] ?? '';
        switch ($base) {
            case 'english':
            case 'en':
                return 'english';
            case 'spanish':
            case 'español':
            case 'espanol':
            case 'es':
                return 'spanish';
            default:
                return null;
        }
    }

    /**
     * The language of the client logged in to this session (`uid`), by the
     * rule; the session's or Spanish when no client is logged in or WHMCS's
     * database is not there.
     *
     * @param array<string, mixed>|null $session defaults to `$_SESSION`
     */
    public static function language(?array $session = null): string
    {
        $session = $session ?? ($_SESSION ?? []);
        $language = $session['Language'] ?? '';
        $clientId = $session['uid'] ?? 0;
        $clientId = is_numeric($clientId) ? (int) $clientId : 0;
        return self::pickLanguage(self::profileOf($clientId), is_string($language) ? $language : '');
    }

    /** The client's profile language (`tblclients.language`), or ''. */
    public static function profileOf(int $clientId): string
    {
        if ($clientId <= 0 || !Whmcs::hasDatabase()) {
            return '';
        }
        if (!isset(self::$profiles[$clientId])) {
            try {
                $language = Capsule::table('tblclients')->where('id', $clientId)->value('language');
                self::$profiles[$clientId] = is_string($language) ? $language : '';
            } catch (\Throwable $e) {
                Whmcs::log('language', (string) $clientId, get_class($e) . ': ' . $e->getMessage());
                return '';
            }
        }
        return self::$profiles[$clientId];
    }

    /** Forgets the profile languages read (tests change them between requests). */
    public static function forgetProfiles(): void
    {
        self::$profiles = [];
    }
}
