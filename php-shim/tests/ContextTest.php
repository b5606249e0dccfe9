<?php

use WHMCS\Module\Addon\Puente\Context;

final class ContextTest extends ShimTestCase
{
    /** @return array<string, array{0: array<string, mixed>, 1: bool, 2: bool, 3: string, 4: ?int, 5: array<string, mixed>, 6: string}> */
    public static function requests(): array
    {
        return [
            'a client in the client area' => [['uid' => '1842'], false, false, '/clientarea.php', 1907, ['kind' => 'client', 'id' => 1842, 'user_id' => 1907], 'clientarea'],
            'an admin logged in as the client' => [['uid' => 1842, 'adminid' => 3], false, false, '/clientarea.php', 1907, ['kind' => 'admin', 'id' => 3], 'clientarea'],
            'an admin in the admin area' => [['adminid' => '3'], true, false, '/admin/clientssummary.php', null, ['kind' => 'admin', 'id' => 3], 'adminarea'],
            'the external API' => [[], false, false, '/billing/includes/api.php', null, ['kind' => 'api'], 'api'],
            'the cron' => [[], false, true, 'crons/cron.php', null, ['kind' => 'system'], 'cron'],
            'a payment gateway callback' => [[], false, false, '/modules/gateways/callback/stripe.php', null, ['kind' => 'system'], 'clientarea'],
            'an admin page without an admin id' => [[], true, false, '/admin/index.php', null, ['kind' => 'system'], 'adminarea'],
        ];
    }

    /** @dataProvider requests */
    public function test_actor_and_source_follow_who_caused_the_hook(array $session, bool $adminArea, bool $cli, string $script, ?int $userId, array $actor, string $source): void
    {
        $context = Context::from($session, $adminArea, $cli, $script, $userId);

        $this->assertSame($actor, $context->actor);
        $this->assertSame($source, $context->source);
    }
}
