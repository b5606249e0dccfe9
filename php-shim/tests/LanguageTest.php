<?php

use WHMCS\Module\Addon\Puente\Messages;

/**
 * The one rule for the language a client reads (the profile, then the
 * session, then Spanish), checked against the cases the service checks
 * too, and the addon's two language files.
 */
final class LanguageTest extends ShimTestCase
{
    private const RULE = __DIR__ . '/../../fixtures/language-rule.json';

    public function test_the_rule_agrees_with_the_service_on_every_shared_case(): void
    {
        $cases = json_decode((string) file_get_contents(self::RULE), true)['cases'];
        $this->assertGreaterThanOrEqual(10, count($cases));
        foreach ($cases as $case) {
            $this->assertSame($case['language'], Messages::pickLanguage($case['profile'], $case['session']), json_encode($case));
        }
    }

    public function test_without_whmcs_database_the_session_decides(): void
    {
        $this->assertSame('english', Messages::language(['Language' => 'English', 'uid' => 1842]));
        $this->assertSame('spanish', Messages::language(['Language' => 'french']));
        $this->assertSame('spanish', Messages::language([]));
        $_SESSION = ['Language' => 'english'];
        $this->assertSame('Cancel a service', Messages::text('cancel_title'));
        $_SESSION = ['Language' => 'spanish'];
        $this->assertSame(Messages::text('cancel_title', 'spanish'), Messages::text('cancel_title'));
    }

    public function test_both_language_files_have_every_key_and_no_empty_text(): void
    {
        $keys = [];
        foreach (['spanish', 'english'] as $language) {
            $_ADDONLANG = [];
            include __DIR__ . '/../modules/addons/puente/lang/' . $language . '.php';
            foreach ($_ADDONLANG as $key => $text) {
                $this->assertNotSame('', trim((string) $text), "{$language}: {$key}");
            }
            $keys[$language] = array_keys($_ADDONLANG);
        }
        $this->assertSame([], array_values(array_diff($keys['spanish'], $keys['english'])), 'only in Spanish');
        $this->assertSame([], array_values(array_diff($keys['english'], $keys['spanish'])), 'only in English');
        $this->assertGreaterThan(100, count($keys['spanish']));
    }
}
