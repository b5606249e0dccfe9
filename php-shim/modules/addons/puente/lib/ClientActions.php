<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Client-area actions sent to the service (`POST /v1/client/<route>`,
 * SPEC §3.3): the same signed envelope as a hook, `type` =
 * `client.<route with dots>`, the logged-in client as the actor. The
 * service decides ownership and every rule; this class only carries the
 * question and the answer, and bounds the wait.
 */
final class ClientActions
{
    public const UPGRADE_QUOTE = 'upgrades/quote';
    public const UPGRADE_MANUAL = 'upgrades/manual';
    public const CANCEL_PREVIEW = 'cancellations/preview';
    public const CANCEL = 'cancellations';
    public const TRANSFER = 'transfers';
    public const TRANSFER_LIST = 'transfers/list';
    /** A client clicked and waits for a page; the service may call WHMCS. */
    private const TIMEOUT_MS = 8000;

    /**
     * @param \Closure(): int $clock
     */
    public function __construct(private Forwarder $forwarder, private \Closure $clock)
    {
    }

    /**
     * @param array<string, mixed> $data the action's parameters (and `_puente` facts)
     * @return array{status: int, body: array<string, mixed>} status 0 when the service gave no usable answer
     */
    public function send(string $route, array $data, Context $context): array
    {
        $settings = $this->forwarder->settings();
        if (!$settings->isComplete()) {
            return ['status' => 0, 'body' => []];
        }
        // The path names the record (transfers/17/accept); the type does not.
        $type = 'client.' . str_replace('/', '.', (string) preg_replace('#/\d+#', '', $route));
        // A client's note is free text: a card number typed into it goes no further.
        $event = Event::envelope($type, Scrubber::redact($data), $context, $settings->instance, ($this->clock)());
        $response = $this->forwarder->send($event, '/v1/client/' . $route, self::TIMEOUT_MS);
        $body = json_decode($response->body, true);
        if ($response->status === 0 || !is_array($body)) {
            $this->forwarder->noteError("client action {$route}: " . $response->describe());
            Whmcs::log("client action {$route}", ['webhook-id' => $event->id], $response->describe(), $settings->secrets);
            $this->forwarder->problems()->report('client_action_unavailable', "a client's {$type} could not reach the service ("
                . $response->describe() . '): the client was asked to try again later');
            return ['status' => 0, 'body' => []];
        }
        return ['status' => $response->status, 'body' => $body];
    }
}
