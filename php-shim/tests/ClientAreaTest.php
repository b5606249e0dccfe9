<?php

use WHMCS\Module\Addon\Puente\ClientActions;
use WHMCS\Module\Addon\Puente\ClientArea;
use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\Signer;

/**
 * The addon's client-area page: the upgrade preview and the manual request
 * go to `/v1/client/...` as signed client actions, and the service's answer
 * (quote, ticket, or refusal text) reaches the page verbatim.
 */
final class ClientAreaTest extends ShimTestCase
{
    private ?FakeService $service = null;

    protected function tearDown(): void
    {
        $this->service?->stop();
        parent::tearDown();
    }

    private function actions(string $url): ClientActions
    {
        return new ClientActions($this->forwarder($this->settings($url)), fn (): int => $this->now);
    }

    private static function client(): Context
    {
        return Context::from(['uid' => 1842], false, false, '/index.php', 1907);
    }

    private const TOKEN = 'c0ffee0123456789abcdef0123456789abcdef01';

    /**
     * The page for a GET, or for a post carrying the session's token.
     *
     * @return array<string, mixed>
     */
    private function page(array $request, bool $isPost = false, ?string $url = null): array
    {
        $request += $isPost ? ['token' => self::TOKEN] : [];
        return ClientArea::page($request, $isPost, $this->actions($url ?? $this->service->url), self::client(), self::TOKEN);
    }

    private const CHOICE = ['m' => 'puente', 'id' => '7731', 'pid' => '13', 'billingcycle' => 'annually'];

    public function test_the_preview_shows_the_services_quote_for_the_chosen_plan_and_cycle(): void
    {
        $this->service = FakeService::start();
        $quote = ['kind' => 'upgrade', 'charge' => '60.00', 'currency' => 'USD', 'next_due_date' => '2027-11-28',
            'policy' => 'seed', 'breakdown' => ['target_price' => '150.00', 'paid' => '90.00']];
        $this->service->answerClient(200, json_encode($quote));

        $page = $this->page(self::CHOICE);

        $this->assertSame('upgrade', $page['templatefile']);
        $this->assertTrue($page['requirelogin']);
        $this->assertSame($quote, $page['vars']['quote']);
        $this->assertNull($page['vars']['error']);
        [$request] = $this->service->requests();
        $this->assertSame('/v1/client/upgrades/quote', $request['path']);
        $this->assertTrue(Signer::verify([self::SECRET], $request['headers']['webhook-id'], $request['headers']['webhook-timestamp'],
            $request['headers']['webhook-signature'], $request['body'], $this->now));
        $envelope = json_decode($request['body'], true);
        $this->assertSame('client.upgrades.quote', $envelope['type']);
        $this->assertSame(['service_id' => 7731, 'product_id' => 13, 'cycle' => 'annually'], $envelope['data']);
        $this->assertSame(['kind' => 'client', 'id' => 1842, 'user_id' => 1907], $envelope['context']['actor']);
    }

    public function test_a_refusal_shows_the_services_explanation(): void
    {
        $this->service = FakeService::start();
        $this->service->answerClient(409, '{"error":{"code":"downgrade_not_allowed","message":"No es posible bajar de plan."}}');

        $vars = $this->page(self::CHOICE)['vars'];

        $this->assertSame('No es posible bajar de plan.', $vars['error']);
        $this->assertSame('downgrade_not_allowed', $vars['error_code']);
        $this->assertNull($vars['quote']);
        $this->assertFalse($vars['unavailable']);
    }

    public function test_someone_elses_service_gets_the_pages_own_words_not_the_services(): void
    {
        $_SESSION['Language'] = 'english';
        $this->service = FakeService::start();
        $this->service->answerClient(403, '{"error":{"code":"not_owner","message":"service 7731 does not belong to client 9"}}');

        $vars = $this->page(self::CHOICE)['vars'];

        $this->assertSame('We could not find that service in your account.', $vars['error']);
        $this->assertSame('not_owner', $vars['error_code']);
    }

    public function test_a_card_number_typed_into_the_note_is_redacted(): void
    {
        $this->service = FakeService::start();
        $this->service->answerClient(201, '{"ticket_id":56,"ticket_number":"XYZ"}');

        $this->page(self::CHOICE + ['action' => 'manual', 'note' => '4111 1111 1111 1111'], true);

        [$request] = $this->service->requests();
        $this->assertStringNotContainsString('4111', $request['body']);
    }

    public function test_the_manual_request_is_posted_with_the_note_and_shows_the_ticket(): void
    {
        $this->service = FakeService::start();
        $this->service->answerClient(201, '{"ticket_id":55,"ticket_number":"ABC-123456"}');

        $vars = $this->page(self::CHOICE + ['action' => 'manual', 'note' => '  Necesito más disco  '], true)['vars'];

        $this->assertSame(['ticket_id' => 55, 'ticket_number' => 'ABC-123456'], $vars['ticket']);
        [$request] = $this->service->requests();
        $this->assertSame('/v1/client/upgrades/manual', $request['path']);
        $envelope = json_decode($request['body'], true);
        $this->assertSame('client.upgrades.manual', $envelope['type']);
        $this->assertSame('Necesito más disco', $envelope['data']['note']);
    }

    /** @return array<string, array{0: string, 1: array<string, string>}> */
    public static function forgedPosts(): array
    {
        $posts = [];
        foreach (['boolean', 'halting'] as $behaviour) {
            $posts["missing token, check_token {$behaviour}"] = [$behaviour, []];
            $posts["wrong token, check_token {$behaviour}"] = [$behaviour, ['token' => str_repeat('0', 40)]];
            $posts["empty token, check_token {$behaviour}"] = [$behaviour, ['token' => '']];
        }
        return $posts;
    }

    /**
     * @dataProvider forgedPosts
     * @param array<string, string> $token
     */
    public function test_a_manual_request_without_the_sessions_token_opens_nothing(string $behaviour, array $token): void
    {
        $GLOBALS['whmcs_check_token'] = $behaviour;
        $this->service = FakeService::start();
        $this->service->answerClient(201, '{"ticket_id":55,"ticket_number":"ABC-123456"}');
        $request = self::CHOICE + ['action' => 'manual', 'note' => 'x'] + $token;

        $vars = ClientArea::page($request, true, $this->actions($this->service->url), self::client(), self::TOKEN)['vars'];
        $GLOBALS['whmcs_check_token'] = 'boolean';

        $this->assertSame([], $this->service->requests(), 'nothing reaches the service');
        $this->assertNull($vars['ticket']);
        $this->assertSame('invalid_token', $vars['error_code']);
        $this->assertSame(self::TOKEN, $vars['token'], 'the form is shown again with the session token');
    }

    public function test_without_a_session_token_no_post_is_accepted(): void
    {
        $this->service = FakeService::start();

        $vars = ClientArea::page(self::CHOICE + ['action' => 'manual', 'token' => ''], true,
            $this->actions($this->service->url), self::client(), '')['vars'];

        $this->assertSame([], $this->service->requests());
        $this->assertSame('invalid_token', $vars['error_code']);
    }

    public function test_the_template_posts_the_token(): void
    {
        $template = (string) file_get_contents(dirname(__DIR__) . '/modules/addons/puente/templates/upgrade.tpl');

        $this->assertMatchesRegularExpression('#<form method="post"[^>]*>\s*<input type="hidden" name="token" value="\{\$token\|escape\}">#', $template);
    }

    public function test_a_manual_request_needs_a_post(): void
    {
        $this->service = FakeService::start();
        $this->service->answerClient(200, '{"kind":"upgrade"}');

        $this->page(self::CHOICE + ['action' => 'manual']);

        [$request] = $this->service->requests();
        $this->assertSame('/v1/client/upgrades/quote', $request['path'], 'a link cannot open a ticket');
    }

    public function test_when_the_service_is_down_the_page_says_try_again_later(): void
    {
        $_SESSION['Language'] = 'english';
        $vars = $this->page(self::CHOICE, false, 'http://127.0.0.1:' . FakeService::freePort())['vars'];

        $this->assertTrue($vars['unavailable']);
        $this->assertSame('This cannot be checked right now. Please try again in a few minutes.', $vars['error']);
        $this->assertSame('Upgrade my plan', $vars['texts']['upgrade_title']);
    }

    public function test_without_a_service_and_plan_nothing_is_asked(): void
    {
        $this->service = FakeService::start();

        $vars = $this->page(['m' => 'puente', 'id' => 'x'])['vars'];

        $this->assertSame([], $this->service->requests());
        $this->assertSame(0, $vars['serviceid']);
        $this->assertNull($vars['error']);
    }
}
