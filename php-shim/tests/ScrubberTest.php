<?php

use WHMCS\Module\Addon\Puente\HookCatalog;
use WHMCS\Module\Addon\Puente\Scrubber;

final class ScrubberTest extends ShimTestCase
{
    /** Secrets WHMCS puts in $vars, planted at every depth of every fixture. */
    private const SECRET_KEYS = ['password', 'oldpassword', 'newpassword', 'serverusername', 'serverpassword',
        'serveraccesshash', 'cardnum', 'cardcvv', 'ccnumber', 'authdata', 'securityqans', 'remember_token',
        'second_factor_config', 'api_key', 'loginpassword'];

    /** Secret-looking values planted into fields that are forwarded. */
    private const SECRET_VALUES = ['whsec_PLANTEDc2VjcmV0', '$2y$10$PLANTEDabcdefghijklmnopqrstuv', 'sk_live_PLANTED12345678',
        "-----BEGIN RSA PRIVATE KEY-----\nPLANTED\n-----END RSA PRIVATE KEY-----", '4111 1111 1111 1111'];

    /** @return array<string, array{0: string}> */
    public static function hooks(): array
    {
        $cases = [];
        foreach (HookCatalog::hooks() as $hook) {
            $cases[$hook] = [$hook];
        }
        return $cases;
    }

    /** @dataProvider hooks */
    public function test_no_planted_secret_survives_scrubbing(string $hook): void
    {
        $vars = self::plant(self::fixture($hook));

        $json = json_encode(Scrubber::scrub($hook, $vars));

        $this->assertStringNotContainsString('PLANTED', $json);
        $this->assertStringNotContainsString('4111', $json);
        $this->assertStringNotContainsString('redacted-by-bridge', $json);
    }

    /** @dataProvider hooks */
    public function test_only_allowed_keys_are_forwarded_and_they_keep_their_values(string $hook): void
    {
        $vars = self::fixture($hook);

        $scrubbed = Scrubber::scrub($hook, $vars);

        $this->assertNotEmpty($scrubbed, "{$hook} forwards nothing");
        foreach ($scrubbed as $key => $value) {
            $this->assertArrayHasKey($key, HookCatalog::fields($hook));
            if (HookCatalog::fields($hook)[$key] === null && !is_array($value)) {
                $this->assertSame($vars[$key], $value, "{$hook}.{$key} changed");
            }
        }
    }

    public function test_module_params_keep_service_ids_and_lose_every_credential(): void
    {
        $scrubbed = Scrubber::scrub('AfterModuleSuspend', self::fixture('AfterModuleSuspend'));

        $this->assertSame(['serviceid' => 7731, 'userid' => 1842, 'pid' => 12, 'serverid' => 3,
            'domain' => 'okafordesign.example', 'producttype' => 'hostingaccount', 'moduletype' => 'cpanel'], $scrubbed['params']);
    }

    public function test_objects_are_reduced_to_their_ids_and_scalars(): void
    {
        $invoice = new class () {
            /** @return array<string, mixed> */
            public function toArray(): array
            {
                return ['id' => 30517, 'userid' => 1842, 'total' => '24.95', 'status' => 'Paid', 'notes' => 'internal',
                    'client' => new stdClass()];
            }
        };
        $user = (object) ['id' => 1907, 'email' => 'amina@okafordesign.example', 'password' => '$2y$10$PLANTED'];

        $this->assertSame(['invoiceid' => 30517, 'invoice' => ['id' => 30517, 'userid' => 1842, 'total' => '24.95', 'status' => 'Paid']],
            Scrubber::scrub('InvoicePaid', ['invoiceid' => 30517, 'invoice' => $invoice]));
        $this->assertSame(['user' => ['id' => 1907, 'email' => 'amina@okafordesign.example']],
            Scrubber::scrub('UserLogin', ['user' => $user]));
    }

    public function test_client_edit_old_data_is_reduced_like_the_client_itself(): void
    {
        $vars = self::fixture('ClientEdit');
        $vars['olddata']['password'] = 'PLANTED';
        $vars['olddata']['authdata'] = 'PLANTED';

        $scrubbed = Scrubber::scrub('ClientEdit', $vars);

        $this->assertSame('+234.8031234567', $scrubbed['olddata']['phonenumber']);
        $this->assertSame('+234.8039876543', $scrubbed['phonenumber']);
        $this->assertArrayNotHasKey('password', $scrubbed['olddata']);
        $this->assertArrayNotHasKey('authdata', $scrubbed);
    }

    public function test_phone_numbers_and_ordinary_digits_are_not_mistaken_for_cards(): void
    {
        $this->assertSame(['x' => '+234.8031234567', 'y' => '1234567890123', 'z' => 30517],
            Scrubber::redact(['x' => '+234.8031234567', 'y' => '1234567890123', 'z' => 30517]));
    }

    /**
     * @param array<mixed> $vars
     * @return array<mixed>
     */
    private static function plant(array $vars): array
    {
        foreach ($vars as $key => $value) {
            if (is_array($value)) {
                $vars[$key] = self::plant($value);
            } elseif ($value === '[redacted-by-bridge]') {
                $vars[$key] = "PLANTED-{$key}";
            } elseif (is_string($value) && $value !== '') {
                // Every free-text field may hold something secret-looking.
                $vars[$key] = self::SECRET_VALUES[crc32((string) $key) % count(self::SECRET_VALUES)];
            }
        }
        foreach (self::SECRET_KEYS as $secretKey) {
            $vars[$secretKey] = "PLANTED-{$secretKey}";
        }
        return $vars;
    }
}
