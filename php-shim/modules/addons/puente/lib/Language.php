<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

use WHMCS\Database\Capsule;

/**
 * The one rule for the language of what a client reads, the same as the
 * service's (`src/domain/texts.rs`): the client's profile language in
 * WHMCS, else the language of their session, else Spanish; a language
 * puente has no texts in counts as none. `fixtures/language-rule.json`
 * holds cases both sides must agree on.
 */
final class Language
{
    public const SPANISH = 'spanish';
    public const ENGLISH = 'english';

    /** @var array<int, string> profile languages read in this request */
    private static array $profiles = [];

    /** `spanish` or `english`, by the rule. */
    public static function pick(string $profile, string $session): string
    {
        return self::fromWhmcs($profile) ?? self::fromWhmcs($session) ?? self::SPANISH;
    }

    /**
     * The language a WHMCS language name (`english`, `Spanish`) or a code
     * (`en`, `es_MX`, `en-GB`) names; null for one puente has no texts in.
     */
    public static function fromWhmcs(string $name): ?string
    {
        $base = preg_split('/[_-]/', strtolower(trim($name)))[0] ?? '';
        switch ($base) {
            case 'english':
            case 'en':
                return self::ENGLISH;
            case 'spanish':
            case 'español':
            case 'espanol':
            case 'es':
                return self::SPANISH;
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
    public static function current(?array $session = null): string
    {
        $session = $session ?? ($_SESSION ?? []);
        $language = $session['Language'] ?? '';
        $clientId = $session['uid'] ?? 0;
        $clientId = is_numeric($clientId) ? (int) $clientId : 0;
        return self::pick(self::profileOf($clientId), is_string($language) ? $language : '');
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

    /** Forgets the profiles read (tests change them between requests). */
    public static function forget(): void
    {
        self::$profiles = [];
    }
}
