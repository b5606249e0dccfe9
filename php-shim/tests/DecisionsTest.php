<?php

use WHMCS\Module\Addon\Puente\Context;
use WHMCS\Module\Addon\Puente\Decisions;
use WHMCS\Module\Addon\Puente\Signer;

final class DecisionsTest extends ShimTestCase
{
    private ?FakeService $service = null;
    private ?HungService $hung = null;

    protected function tearDown(): void
    {
        $this->service?->stop();
        $this->hung?->stop();
        parent::tearDown();
    }

    private function decisions(string $url): Decisions
    {
        return new Decisions($this->forwarder($this->settings($url, ['decision_timeout_ms' => '300'])), fn (): int => $this->now);
    }

    private static function client(): Context
    {
        return Context::from(['uid' => 1842], false, false, '/upgrade.php', 1907);
    }

    public function test_the_service_answer_is_what_the_hook_returns(): void
    {
        $this->service = FakeService::start();
        $this->service->answerDecision('{"return":["No se permite bajar de plan."]}');

        $answer = $this->decisions($this->service->url)->ask('ShoppingCartValidateUpgrade', ['id' => 7731, 'pid' => 3,
            '_puente' => ['service' => ['pid' => 12, 'billingcycle' => 'Annually']]], self::client(), Decisions::FAIL_CLOSED);

        $this->assertSame(['No se permite bajar de plan.'], $answer);
        [$request] = $this->service->requests();
        $this->assertSame('/v1/decisions', $request['path']);
        $this->assertTrue(Signer::verify([self::SECRET], $request['headers']['webhook-id'], $request['headers']['webhook-timestamp'],
            $request['headers']['webhook-signature'], $request['body'], $this->now));
        $envelope = json_decode($request['body'], true);
        $this->assertSame('ShoppingCartValidateUpgrade', $envelope['type']);
        $this->assertSame(['id' => 7731, 'pid' => 3, '_puente' => ['service' => ['pid' => 12, 'billingcycle' => 'Annually']]], $envelope['data']);
        $this->assertSame(['kind' => 'client', 'id' => 1842, 'user_id' => 1907], $envelope['context']['actor']);
        $this->assertSame('clientarea', $envelope['context']['source']);
    }

    public function test_an_object_answer_comes_back_as_an_array_and_null_as_null(): void
    {
        $this->service = FakeService::start();
        $this->service->answerDecision('{"return":{"amount":"50.00","discount":"0.00"}}');
        $decisions = $this->decisions($this->service->url);

        $this->assertSame(['amount' => '50.00', 'discount' => '0.00'], $decisions->ask('PreUpgradeCheckout', [], self::client(), Decisions::FAIL_OPEN));
        $this->service->answerDecision('{"return":null}');
        $this->assertNull($decisions->ask('SomethingNew', [], self::client(), Decisions::FAIL_CLOSED));
    }

    public function test_when_the_service_cannot_answer_fail_closed_refuses_in_the_clients_language(): void
    {
        $down = $this->decisions('http://127.0.0.1:' . FakeService::freePort());

        $this->assertSame(['No podemos comprobarlo en este momento. Vuelve a intentarlo en unos minutos.'],
            $down->ask('ShoppingCartValidateUpgrade', [], self::client(), Decisions::FAIL_CLOSED));
        $this->assertSame(['This cannot be checked right now. Please try again in a few minutes.'],
            $down->ask('ShoppingCartValidateUpgrade', [], self::client(), Decisions::FAIL_CLOSED, 'english'));
        $this->assertNull($down->ask('OrderProductUpgradeOverride', [], self::client(), Decisions::FAIL_OPEN));
    }

    public function test_a_hung_service_is_asked_once_then_the_open_breaker_answers_without_connecting(): void
    {
        $this->hung = new HungService();
        $decisions = $this->decisions($this->hung->url);

        $this->assertNull($decisions->ask('OrderProductUpgradeOverride', [], self::client(), Decisions::FAIL_OPEN));
        $this->assertSame(1, $this->hung->takeConnections());
        $this->assertStringContainsString('timed out', $GLOBALS['whmcs_module_log'][0]['response']);

        $this->assertCount(1, $decisions->ask('ShoppingCartValidateUpgrade', [], self::client(), Decisions::FAIL_CLOSED));
        $this->assertSame(0, $this->hung->takeConnections());
    }

    public function test_an_answer_without_a_return_value_is_a_failure_not_an_approval(): void
    {
        $this->service = FakeService::start();
        $this->service->answerDecision('<html>proxy error page</html>');

        $answer = $this->decisions($this->service->url)->ask('ShoppingCartValidateUpgrade', [], self::client(), Decisions::FAIL_CLOSED);

        $this->assertCount(1, $answer);
        $this->assertStringContainsString('decision ShoppingCartValidateUpgrade', $GLOBALS['whmcs_module_log'][0]['action']);
    }
}
