<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * One event as it travels: its `webhook-id`, its type and instance, and the
 * exact body bytes that are signed (again, with a fresh timestamp, on replay).
 */
final class Event
{
    public function __construct(
        public readonly string $id,
        public readonly string $type,
        public readonly string $instance,
        public readonly string $body,
    ) {
    }

    /**
     * The envelope of SPEC §3.2 around a scrubbed hook payload.
     *
     * @param array<string, mixed> $data
     */
    public static function envelope(string $type, array $data, Context $context, string $instance, int $now): self
    {
        $envelopeContext = [
            'instance' => $instance,
            'actor' => $context->actor,
            'source' => $context->source,
            'whmcs_version' => Whmcs::version(),
            'shim_version' => \puente_version(),
        ];
        if ($context->reauthenticated) {
            $envelopeContext['reauthenticated'] = true;
        }
        $body = json_encode([
            'type' => $type,
            'timestamp' => gmdate('Y-m-d\TH:i:s\Z', $now),
            // An empty $vars must still be a JSON object.
            'data' => (object) $data,
            'context' => $envelopeContext,
        ], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
        return new self(EventId::generate(), $type, $instance, $body);
    }
}
