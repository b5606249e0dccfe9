<?php

use WHMCS\Module\Addon\Puente\EventId;
use WHMCS\Module\Addon\Puente\Signer;

final class SignerTest extends ShimTestCase
{
    /** @return array<string, array{0: array<string, mixed>}> */
    public static function vectors(): array
    {
        $vectors = json_decode(file_get_contents(dirname(__DIR__, 2) . '/fixtures/signatures.json'), true);
        $cases = [];
        foreach ($vectors['standard_webhooks_v1'] as $i => $vector) {
            $cases["vector {$i}: {$vector['origin']}"] = [$vector];
        }
        return $cases;
    }

    /** @dataProvider vectors */
    public function test_signing_reproduces_every_vector(array $vector): void
    {
        $this->assertSame(
            $vector['signature'],
            Signer::sign($vector['secret'], $vector['id'], $vector['timestamp'], $vector['payload']),
        );
    }

    /** @dataProvider vectors */
    public function test_every_vector_verifies_and_tampering_does_not(array $vector): void
    {
        $verify = static fn (array $secrets, string $header, string $body, int $now): bool =>
            Signer::verify($secrets, $vector['id'], (string) $vector['timestamp'], $header, $body, $now);
        $at = $vector['timestamp'];

        $this->assertTrue($verify([$vector['secret']], $vector['signature'], $vector['payload'], $at));
        $this->assertTrue($verify(['whsec_bm90LXRoaXMtb25l', $vector['secret']], 'v1,bm9wZQ== ' . $vector['signature'], $vector['payload'], $at + 300));
        $this->assertFalse($verify([$vector['secret']], $vector['signature'], $vector['payload'] . ' ', $at));
        $this->assertFalse($verify(['whsec_bm90LXRoaXMtb25l'], $vector['signature'], $vector['payload'], $at));
        $this->assertFalse($verify([$vector['secret']], $vector['signature'], $vector['payload'], $at + 301));
        $this->assertFalse($verify([$vector['secret']], $vector['signature'], $vector['payload'], $at - 301));
        $this->assertFalse($verify([$vector['secret']], 'v2,' . substr($vector['signature'], 3), $vector['payload'], $at));
    }

    public function test_a_secret_without_the_whsec_prefix_is_refused(): void
    {
        $this->assertFalse(Signer::isSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'));
        $this->assertFalse(Signer::isSecret('whsec_not base64!'));
        $this->assertTrue(Signer::isSecret(self::SECRET));
        $this->expectException(InvalidArgumentException::class);
        Signer::sign('plain-password', 'evt_1', 1, '{}');
    }

    public function test_event_ids_are_evt_ulids_ordered_by_time(): void
    {
        $earlier = EventId::generate(1_700_000_000_000);
        $later = EventId::generate(1_700_000_000_001);
        $this->assertMatchesRegularExpression('/^evt_[0-9A-HJKMNP-TV-Z]{26}$/', $earlier);
        $this->assertLessThan(0, strcmp(substr($earlier, 0, 14), substr($later, 0, 14)));
        $this->assertNotSame(EventId::generate(), EventId::generate());
    }
}
