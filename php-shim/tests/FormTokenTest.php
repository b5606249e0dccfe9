<?php

use WHMCS\Module\Addon\Puente\Addon;
use WHMCS\Module\Addon\Puente\FormToken;
use WHMCS\Module\Addon\Puente\Shim;

/**
 * The addon's forms carry the session's token and a post is acted on only
 * when it comes back unchanged, whatever WHMCS's check_token() does.
 */
final class FormTokenTest extends ShimTestCase
{
    private ?FakeService $service = null;

    protected function tearDown(): void
    {
        $this->service?->stop();
        Shim::install(null);
        $_POST = [];
        $GLOBALS['whmcs_check_token'] = 'boolean';
        parent::tearDown();
    }

    /** @return array<string, mixed> */
    private function adminPage(array $post): array
    {
        $this->service = FakeService::start();
        Shim::install($this->forwarder($this->settings($this->service->url)));
        $_POST = $post;
        $html = Addon::output(['modulelink' => 'addonmodules.php?module=puente', '_lang' => []]);
        $sent = array_filter($this->service->requests(), static fn (array $r): bool => $r['path'] === '/v1/hooks');
        return [$html, count($sent)];
    }

    /** @return array<string, array{0: string, 1: array<string, string>}> */
    public static function forgedPosts(): array
    {
        $posts = [];
        foreach (['boolean', 'halting'] as $behaviour) {
            $posts["missing token, check_token {$behaviour}"] = [$behaviour, []];
            $posts["wrong token, check_token {$behaviour}"] = [$behaviour, ['token' => 'forged']];
            $posts["token as an array, check_token {$behaviour}"] = [$behaviour, ['token' => ['x']]];
        }
        return $posts;
    }

    /**
     * @dataProvider forgedPosts
     * @param array<string, mixed> $token
     */
    public function test_an_admin_post_without_the_sessions_token_does_nothing(string $behaviour, array $token): void
    {
        $GLOBALS['whmcs_check_token'] = $behaviour;
        generate_token('plain');

        [$html, $sent] = $this->adminPage(['puente_action' => 'test'] + $token);

        $this->assertSame(0, $sent, 'no test event was sent');
        // A text the admin's language file lacks is English.
        $this->assertStringContainsString('This form has expired', $html);
    }

    /** @dataProvider behaviours */
    public function test_an_admin_post_with_the_sessions_token_is_acted_on(string $behaviour): void
    {
        $GLOBALS['whmcs_check_token'] = $behaviour;

        [$html, $sent] = $this->adminPage(['puente_action' => 'test', 'token' => generate_token('plain')]);

        $this->assertSame(1, $sent);
        $this->assertMatchesRegularExpression('/Test event evt_\w+: delivered/', $html);
    }

    /** @return array<string, array{0: string}> */
    public static function behaviours(): array
    {
        return ['check_token boolean' => ['boolean'], 'check_token halting' => ['halting']];
    }

    public function test_every_admin_form_carries_the_sessions_token(): void
    {
        $token = generate_token('plain');

        [$html] = $this->adminPage([]);

        preg_match_all('#<form method="post"[^>]*>(.*?)</form>#s', $html, $forms);
        $this->assertNotEmpty($forms[1]);
        foreach ($forms[1] as $form) {
            $this->assertStringContainsString('<input type="hidden" name="token" value="' . $token . '">', $form);
        }
    }

    public function test_outside_whmcs_there_is_no_token_and_nothing_is_accepted(): void
    {
        $this->assertFalse(FormToken::accepts('', ''));
        $this->assertFalse(FormToken::accepts(null, 'abc'));
        $this->assertTrue(FormToken::accepts('abc', 'abc'));
    }
}
