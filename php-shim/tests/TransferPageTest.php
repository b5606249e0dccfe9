<?php

use WHMCS\Module\Addon\Puente\ClientActions;
use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\TransferPage;

/**
 * The client's transfers page: the lists, the request, and the steps on a
 * transfer, each a signed client action; forms need the session's token.
 */
final class TransferPageTest extends ShimTestCase
{
    private const TOKEN = '0123456789abcdef0123456789abcdef01234567';
    private const LIST = '{"outgoing":[{"transfer_id":17,"status":"requested","service_name":"Business Hosting",'
        . '"service_domain":"okafordesign.example","recipient_email":"jose@example.com","expires_at":"2026-12-08T10:00:00Z",'
        . '"approval":"none"}],"incoming":[]}';

    private ?FakeService $service = null;

    protected function tearDown(): void
    {
        $this->service?->stop();
        $GLOBALS['whmcs_check_token'] = 'boolean';
        parent::tearDown();
    }

    private function service(): FakeService
    {
        $this->service = FakeService::start();
        $this->service->answerClientAt('/v1/client/transfers/list', 200, self::LIST);
        $this->service->answerClientAt('/v1/client/transfers', 201, '{"transfer_id":18,"status":"requested"}');
        $this->service->answerClientAt('/v1/client/transfers/17/withdraw', 200, '{"transfer_id":17,"status":"withdrawn"}');
        return $this->service;
    }

    /** @return array<string, mixed> */
    private function page(array $request, bool $isPost = false): array
    {
        $actions = new ClientActions($this->forwarder($this->settings($this->service->url)), fn (): int => $this->now);
        $page = TransferPage::page($request, $isPost, $actions, Context::from(['uid' => 1842], false, false, '/index.php', 1907), self::TOKEN);
        $this->assertSame(['transfers', true], [$page['templatefile'], $page['requirelogin']]);
        return $page['vars'];
    }

    /** @return list<array<string, mixed>> */
    private function sent(): array
    {
        return array_map(static fn (array $request): array => ['path' => $request['path']] + json_decode($request['body'], true),
            $this->service->requests());
    }

    public function test_the_page_lists_the_clients_transfers(): void
    {
        $this->service();

        $vars = $this->page(['m' => 'puente', 'action' => 'transfers']);

        $this->assertSame(17, $vars['outgoing'][0]['transfer_id']);
        $this->assertSame([], $vars['incoming']);
        [$list] = $this->sent();
        $this->assertSame(['/v1/client/transfers/list', 'client.transfers.list'], [$list['path'], $list['type']]);
        $this->assertSame(['kind' => 'client', 'id' => 1842, 'user_id' => 1907], $list['context']['actor']);
    }

    public function test_a_request_is_sent_with_the_service_and_the_recipients_email(): void
    {
        $this->service();

        $vars = $this->page(['m' => 'puente', 'action' => 'transfers', 'id' => '7731', 'token' => self::TOKEN, 'step' => 'request',
            'recipient_email' => ' jose@example.com ', 'with_domain' => '1'], true);

        $this->assertSame('La solicitud fue enviada. El otro cliente debe aceptarla desde su cuenta.', $vars['notice']);
        [$request] = $this->sent();
        $this->assertSame(['/v1/client/transfers', 'client.transfers'], [$request['path'], $request['type']]);
        // No database here, so no domain to offer.
        $this->assertSame(['service_id' => 7731, 'recipient_email' => 'jose@example.com', 'language' => 'spanish'], $request['data']);
    }

    public function test_a_step_on_a_transfer_names_it_in_the_path_not_the_type(): void
    {
        $this->service();

        $vars = $this->page(['m' => 'puente', 'action' => 'transfers', 'token' => self::TOKEN, 'step' => 'withdraw', 'transfer' => '17'], true);

        $this->assertSame('Retiró la solicitud.', $vars['notice']);
        [$step] = $this->sent();
        $this->assertSame(['/v1/client/transfers/17/withdraw', 'client.transfers.withdraw'], [$step['path'], $step['type']]);
    }

    /** @return array<string, array{0: string, 1: array<string, string>}> */
    public static function forgedPosts(): array
    {
        return [
            'missing token, check_token boolean' => ['boolean', []],
            'wrong token, check_token boolean' => ['boolean', ['token' => 'forged']],
            'missing token, check_token halting' => ['halting', []],
            'wrong token, check_token halting' => ['halting', ['token' => 'forged']],
        ];
    }

    /**
     * @dataProvider forgedPosts
     * @param array<string, string> $token
     */
    public function test_a_post_without_the_sessions_token_takes_no_step(string $behaviour, array $token): void
    {
        $GLOBALS['whmcs_check_token'] = $behaviour;
        $this->service();

        $vars = $this->page(['m' => 'puente', 'action' => 'transfers', 'step' => 'withdraw', 'transfer' => '17'] + $token, true);

        $this->assertSame('invalid_token', $vars['error_code']);
        $this->assertSame(['/v1/client/transfers/list'], array_column($this->sent(), 'path'), 'only the list was read');
    }

    public function test_refusals_are_shown_in_the_services_words_and_unknown_transfers_in_the_pages(): void
    {
        $this->service();
        $this->service->answerClientAt('/v1/client/transfers', 409,
            '{"error":{"code":"unpaid_invoices","message":"El servicio debe estar al día (#902)"}}');
        $this->service->answerClientAt('/v1/client/transfers/99/accept', 404, '{"error":{"code":"not_found","message":"no transfer"}}');

        $unpaid = $this->page(['m' => 'puente', 'action' => 'transfers', 'id' => '7731', 'token' => self::TOKEN, 'step' => 'request',
            'recipient_email' => 'jose@example.com'], true);
        $unknown = $this->page(['m' => 'puente', 'action' => 'transfers', 'token' => self::TOKEN, 'step' => 'accept', 'transfer' => '99'], true);

        $this->assertSame('El servicio debe estar al día (#902)', $unpaid['error']);
        $this->assertSame('jose@example.com', $unpaid['email'], 'the typed email stays');
        $this->assertSame('No encontramos esa transferencia en su cuenta.', $unknown['error']);
    }
}
