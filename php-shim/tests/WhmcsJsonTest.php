<?php

/**
 * whmcs.json, the module's description for WHMCS's Apps & Integrations
 * pages (developer docs `advanced/json-file.md`): every field the docs
 * describe, and the logo it names shipped beside it.
 */
final class WhmcsJsonTest extends ShimTestCase
{
    private const ADDON = __DIR__ . '/../modules/addons/puente';
    private const PROJECT = 'https://github.com/puente-whmcs/puente';

    public function test_it_carries_every_field_the_developer_docs_describe(): void
    {
        $json = self::json();

        $this->assertSame('1.0', $json['schema']);
        $this->assertSame('whmcs-addons', $json['type']);
        $this->assertSame(basename(realpath(self::ADDON)), $json['name'], 'the module\'s folder name');
        $this->assertSame('MIT', $json['license']);
        $this->assertNotSame('', $json['category']);
        foreach (['name', 'tagline', 'long'] as $field) {
            $this->assertIsString($json['description'][$field]);
            $this->assertNotSame('', $json['description'][$field], "description.{$field}");
        }
        $this->assertNotEmpty($json['description']['features']);
        $this->assertContainsOnly('string', $json['description']['features']);
        // support.email is left out: the project has no support mailbox, its issues are the support desk.
        $this->assertSame(['homepage', 'learn_more', 'support_url', 'docs_url'], array_keys($json['support']));
        foreach ($json['support'] as $field => $url) {
            $this->assertStringStartsWith(self::PROJECT, $url, "support.{$field}");
        }
        $this->assertNotEmpty($json['authors']);
        foreach ($json['authors'] as $author) {
            $this->assertSame(['name', 'homepage'], array_keys($author));
        }
    }

    public function test_the_logo_it_names_is_a_png_at_most_500_pixels_wide_beside_it(): void
    {
        $logo = self::ADDON . '/' . self::json()['logo']['filename'];

        $this->assertFileExists($logo);
        $png = (string) file_get_contents($logo);
        $this->assertSame("\x89PNG\r\n\x1a\n", substr($png, 0, 8));
        ['width' => $width, 'height' => $height] = unpack('Nwidth/Nheight', substr($png, 16, 8));
        $this->assertGreaterThan(0, $height);
        $this->assertLessThanOrEqual(500, $width, 'the docs\' limit');
    }

    /** @return array<string, mixed> */
    private static function json(): array
    {
        return json_decode((string) file_get_contents(self::ADDON . '/whmcs.json'), true, 512, JSON_THROW_ON_ERROR);
    }
}
