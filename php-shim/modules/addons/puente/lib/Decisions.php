<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Synchronous questions to the service for hooks whose return value WHMCS
 * uses (`POST /v1/decisions`). The answer's `return` is what the hook
 * returns. When the service cannot answer in time the hook's policy decides:
 * fail closed refuses with a "try again later" message, fail open returns
 * nothing and WHMCS carries on with its own behaviour.
 */
final class Decisions
{
    public const PATH = '/v1/decisions';
    public const FAIL_CLOSED = 'closed';
    public const FAIL_OPEN = 'open';

    /**
     * @param \Closure(): int $clock
     */
    public function __construct(private Forwarder $forwarder, private \Closure $clock)
    {
    }

    /**
     * @param array<string, mixed> $data the hook's vars (and `_puente` facts)
     */
    public function ask(string $hook, array $data, Context $context, string $failPolicy, string $language = ''): mixed
    {
        $settings = $this->forwarder->settings();
        // A breaker's table failing (an unfinished activation) must not
        // refuse the client's upgrade: then the service is simply asked.
        $urls = $settings->isComplete() ? $this->forwarder->allowedUrls() : [];
        if ($urls === []) {
            return $this->fallback($failPolicy, $language);
        }
        $event = Event::envelope($hook, Scrubber::redact($data), $context, $settings->instance, ($this->clock)());
        $response = $this->forwarder->send($event, self::PATH, $settings->decisionTimeoutMs, $urls);
        if ($response->isSuccess()) {
            $answer = json_decode($response->body, true);
            if (is_array($answer) && array_key_exists('return', $answer)) {
                return $answer['return'];
            }
        }
        $this->forwarder->noteError("decision {$hook}: " . $response->describe());
        Whmcs::log("decision {$hook}", ['webhook-id' => $event->id], $response->describe(), $settings->secrets);
        $this->forwarder->problems()->report('decision_unavailable', "the service could not answer {$hook} ("
            . $response->describe() . '): ' . ($failPolicy === self::FAIL_CLOSED
                ? 'clients were asked to try again later'
                : 'WHMCS went on as without puente'));
        return $this->fallback($failPolicy, $language);
    }

    private function fallback(string $failPolicy, string $language): mixed
    {
        return $failPolicy === self::FAIL_CLOSED ? [Messages::text('try_again_later', $language)] : null;
    }
}
