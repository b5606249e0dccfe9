<?php

use WHMCS\Module\Addon\Puente\DashboardLink;
use WHMCS\Module\Addon\Puente\Settings;
use WHMCS\Module\Addon\Puente\Signer;

final class DashboardLinkTest extends ShimTestCase
{

    private static function linkSettings(array $stored = [], array $env = []): Settings
    {
        return Settings::fromSources($stored + [
            'service_url' => 'http://127.0.0.1:8080/',
            'secret' => self::SECRET,
            'instance' => 'alfa',
        ], $env);
    }

    public function test_the_link_is_signed_for_this_instance_and_admin_and_expires_in_four_minutes(): void
    {
        $link = DashboardLink::make(self::linkSettings(), 7, 1_000_000);

        $this->assertNotNull($link);
        $this->assertStringStartsWith('http://127.0.0.1:8080/admin/link?', $link);
        parse_str((string) parse_url($link, PHP_URL_QUERY), $query);
        $this->assertSame(['instance', 'admin', 'expires', 'nonce', 'signature'], array_keys($query));
        $this->assertSame('alfa', $query['instance']);
        $this->assertSame('7', $query['admin']);
        $this->assertSame('1000240', $query['expires']);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $query['nonce']);
        $body = 'puente-dashboard-link:alfa:7';
        $linkKey = Signer::derive(self::SECRET, DashboardLink::LINK_KEY_PURPOSE);
        $this->assertTrue(Signer::verify([$linkKey], "dash_{$query['nonce']}", $query['expires'], $query['signature'], $body, 1_000_000));
        // Not with the hook secret itself: a link is no hook.
        $this->assertFalse(Signer::verify([self::SECRET], "dash_{$query['nonce']}", $query['expires'], $query['signature'], $body, 1_000_000));
        // Signed for admin 7 of instance alfa only.
        $this->assertFalse(Signer::verify([$linkKey], "dash_{$query['nonce']}", $query['expires'], $query['signature'], 'puente-dashboard-link:alfa:1', 1_000_000));
        $this->assertFalse(Signer::verify([$linkKey], "dash_{$query['nonce']}", $query['expires'], $query['signature'], 'puente-dashboard-link:beta:7', 1_000_000));
        // Two links never share a nonce.
        parse_str((string) parse_url((string) DashboardLink::make(self::linkSettings(), 7, 1_000_000), PHP_URL_QUERY), $again);
        $this->assertNotSame($query['nonce'], $again['nonce']);
    }

    public function test_the_link_key_and_signature_match_the_shared_vector(): void
    {
        $vector = json_decode((string) file_get_contents(__DIR__ . '/../../fixtures/dashboard-link.json'), true);
        $this->assertSame($vector['purpose'], DashboardLink::LINK_KEY_PURPOSE);
        $linkKey = Signer::derive($vector['secret'], $vector['purpose']);
        $this->assertSame($vector['link_key'], $linkKey);
        $this->assertSame($vector['signature'], Signer::sign($linkKey, "dash_{$vector['nonce']}", $vector['expires'], $vector['body']));
        $this->assertSame($vector['signature_with_the_hook_secret_itself'], Signer::sign($vector['secret'], "dash_{$vector['nonce']}", $vector['expires'], $vector['body']));
    }

    public function test_the_dashboard_url_setting_and_its_variable_choose_where_browsers_go(): void
    {
        $this->assertStringStartsWith(
            'https://puente.example.com/admin/link?',
            (string) DashboardLink::make(self::linkSettings(['dashboard_url' => 'https://puente.example.com/']), 1, 0),
        );
        $this->assertStringStartsWith(
            'https://ops.example.net/admin/link?',
            (string) DashboardLink::make(self::linkSettings(['dashboard_url' => 'https://puente.example.com'], ['PUENTE_DASHBOARD_URL' => 'https://ops.example.net']), 1, 0),
        );
    }

    public function test_no_link_without_a_logged_in_admin_or_a_secret(): void
    {
        $this->assertNull(DashboardLink::make(self::linkSettings(), null, 0));
        $this->assertNull(DashboardLink::make(self::linkSettings(['secret' => 'not-a-secret']), 1, 0));
        $this->assertNull(DashboardLink::make(self::linkSettings(['service_url' => '']), 1, 0));
    }
}
