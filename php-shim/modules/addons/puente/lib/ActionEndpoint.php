<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The signed endpoint the service calls for what the WHMCS API cannot do
 * (SPEC §3.4). A request is answered only after its Standard Webhooks
 * signature checks out against the addon's secrets.
 */
final class ActionEndpoint
{
    /** @var array<string, callable(array<string, mixed>, string): array<string, mixed>> */
    private array $actions;

    public function __construct(private Settings $settings)
    {
        $this->actions = [
            // Lets the service check that it reaches the addon with the right secret.
            'Ping' => static fn (array $data): array => ['result' => 'success', 'pong' => true, 'shim_version' => \puente_version()],
            // What the API cannot say about a service: its upgrade rows and
            // the cancellation request WHMCS holds for it.
            'ServiceFacts' => static fn (array $data): array => ServiceFacts::run($data),
            // A transfer both clients consented to (SPEC §2.4).
            'MoveService' => static fn (array $data, string $webhookId): array => ServiceMove::run($data, $webhookId),
        ];
    }

    /** Answers the current web request and ends it. */
    public static function serve(): void
    {
        try {
            $headers = [];
            foreach (['webhook-id', 'webhook-timestamp', 'webhook-signature'] as $name) {
                $headers[$name] = (string) ($_SERVER['HTTP_' . strtoupper(str_replace('-', '_', $name))] ?? '');
            }
            [$status, $answer] = (new self(Settings::load()))->handle(
                (string) ($_SERVER['REQUEST_METHOD'] ?? ''),
                $headers,
                (string) file_get_contents('php://input'),
                time(),
            );
        } catch (\Throwable $e) {
            Whmcs::log('action', '', get_class($e) . ': ' . $e->getMessage());
            Whmcs::problem('action_failed', 'a request of the service to action.php failed (' . get_class($e)
                . '); the service asks again later. The module log has the detail when it is on');
            [$status, $answer] = [500, self::error('internal_error', 'the action failed; see the WHMCS module log')];
        }
        http_response_code($status);
        header('Content-Type: application/json');
        echo json_encode($answer, JSON_UNESCAPED_SLASHES);
    }

    /**
     * @param array<string, string> $headers webhook-id, webhook-timestamp, webhook-signature
     * @return array{0: int, 1: array<string, mixed>}
     */
    public function handle(string $method, array $headers, string $body, int $now): array
    {
        if ($method !== 'POST') {
            return [405, self::error('method_not_allowed', 'use POST')];
        }
        $signed = Signer::verify(
            $this->settings->secrets,
            $headers['webhook-id'] ?? '',
            $headers['webhook-timestamp'] ?? '',
            $headers['webhook-signature'] ?? '',
            $body,
            $now,
        );
        if (!$signed) {
            return [401, self::error('invalid_signature', 'the request is not signed with this addon\'s secret, or its timestamp is too old')];
        }
        $request = json_decode($body, true);
        if (!is_array($request) || !is_string($request['type'] ?? null) || !is_array($request['data'] ?? [])) {
            return [400, self::error('invalid_request', 'the body must be {"type": "...", "data": {...}}')];
        }
        $action = $this->actions[$request['type']] ?? null;
        if ($action === null) {
            return [400, self::error('unknown_action', "this addon version has no action {$request['type']}")];
        }
        $answer = $action($request['data'] ?? [], (string) ($headers['webhook-id'] ?? ''));
        if (($answer['result'] ?? '') !== 'error') {
            return [200, $answer];
        }
        // A request the action cannot take, a failure it undid, or a rule it refused.
        return [match ($answer['code'] ?? '') {
            'invalid_request' => 400,
            'internal_error' => 500,
            default => 409,
        }, $answer];
    }

    /** @return array{result: string, code: string, message: string} */
    private static function error(string $code, string $message): array
    {
        return ['result' => 'error', 'code' => $code, 'message' => $message];
    }
}
