<?php

use WHMCS\Module\Addon\Puente\ActionEndpoint;
use WHMCS\Module\Addon\Puente\Signer;

final class ActionEndpointTest extends ShimTestCase
{
    /** @return array{0: int, 1: array<string, mixed>} */
    private function call(string $body, ?string $signature = null, ?int $signedAt = null, string $method = 'POST'): array
    {
        $signedAt ??= $this->now;
        $endpoint = new ActionEndpoint($this->settings('http://127.0.0.1:9'));
        return $endpoint->handle($method, [
            'webhook-id' => 'move_17',
            'webhook-timestamp' => (string) $signedAt,
            'webhook-signature' => $signature ?? Signer::sign(self::SECRET, 'move_17', $signedAt, $body),
        ], $body, $this->now);
    }

    public function test_a_signed_ping_is_answered(): void
    {
        $this->assertSame([200, ['result' => 'success', 'pong' => true, 'shim_version' => '0.1.0']], $this->call('{"type":"Ping","data":{}}'));
    }

    public function test_unsigned_tampered_or_stale_requests_are_refused(): void
    {
        $body = '{"type":"Ping","data":{}}';
        $this->assertSame(401, $this->call($body, 'v1,AAAA')[0]);
        $this->assertSame(401, $this->call($body, Signer::sign(self::SECRET, 'move_17', $this->now, '{"type":"Ping"}'))[0]);
        $this->assertSame(401, $this->call($body, null, $this->now - 301)[0]);
        $this->assertSame('invalid_signature', $this->call($body, '')[1]['code']);
    }

    public function test_other_methods_bodies_and_actions_get_clear_errors(): void
    {
        $this->assertSame(405, $this->call('{}', null, null, 'GET')[0]);
        $this->assertSame([400, 'invalid_request'], [$this->call('[1,2]')[0], $this->call('[1,2]')[1]['code']]);
        $unknown = $this->call('{"type":"MergeClients","data":{"transfer_id":17}}');
        $this->assertSame(400, $unknown[0]);
        $this->assertSame(['result' => 'error', 'code' => 'unknown_action', 'message' => 'this addon version has no action MergeClients'], $unknown[1]);
    }
}
