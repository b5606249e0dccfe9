<?php

use WHMCS\Module\Addon\Puente\Messages;

/**
 * The language a logged-in client reads comes from their WHMCS profile
 * first (tblclients.language), over the session's.
 *
 * @group capsule
 */
final class LanguageCapsuleTest extends CapsuleTestCase
{
    protected function setUp(): void
    {
        parent::setUp();
        Messages::forgetProfiles();
    }

    public function test_the_profile_language_wins_over_the_session_and_pages_and_refusals_agree(): void
    {
        // Client 1842 reads English in the profile, 2210 Spanish, 4000
        // Portuguese (no texts: the session decides), 3001 has none.
        $this->assertSame('english', Messages::language(['uid' => 1842, 'Language' => 'spanish']));
        $this->assertSame('spanish', Messages::language(['uid' => 2210, 'Language' => 'english']));
        $this->assertSame('english', Messages::language(['uid' => 4000, 'Language' => 'english']));
        $this->assertSame('spanish', Messages::language(['uid' => 4000, 'Language' => 'french']));
        $this->assertSame('english', Messages::language(['uid' => 3001, 'Language' => 'English']));
        $_SESSION = ['uid' => 1842, 'Language' => 'spanish'];
        $this->assertSame('Cancel a service', Messages::text('cancel_title'));
    }
}
