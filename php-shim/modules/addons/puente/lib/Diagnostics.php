<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The Diagnostics tab: the addon's checks of this WHMCS (DiagnosticChecks),
 * then a signed round trip to the service, which adds its own (the WHMCS
 * API with puente's credentials, action.php called back from the service,
 * the time zone, when each hook last arrived) and keeps the whole report for
 * its dashboard. Nothing here changes WHMCS.
 */
final class Diagnostics
{
    public const PATH = '/v1/diagnostics';

    /** Longest wait for the service's checks (it calls WHMCS's API a dozen times). */
    private const TIMEOUT_MS = 20000;

    /**
     * @param \Closure(): int $clock
     * @param ?string $whmcsRoot the WHMCS root (DiagnosticChecks)
     */
    public function __construct(private Forwarder $forwarder, private \Closure $clock, private ?string $whmcsRoot = null)
    {
    }

    /**
     * Every row, the addon's then the service's, and whether the service
     * kept the report.
     *
     * @param array{posted_probe: ?string, token_accepted: bool, admin_id: ?int, admin_area: bool} $request
     * @return array{rows: list<array<string, mixed>>, at: int, kept: bool}
     */
    public function run(array $request, Context $context): array
    {
        $rows = (new DiagnosticChecks($this->forwarder, $this->clock, $this->whmcsRoot))->all($request);
        [$service, $kept] = $this->exchange($rows, $context);
        return ['rows' => array_merge($rows, $service), 'at' => ($this->clock)(), 'kept' => $kept];
    }

    /**
     * Sends the addon's rows to the service, signed, and reads its own.
     *
     * @param list<array<string, mixed>> $rows
     * @return array{0: list<array<string, mixed>>, 1: bool}
     */
    private function exchange(array $rows, Context $context): array
    {
        $settings = $this->forwarder->settings();
        if (!$settings->isComplete()) {
            return [[DiagnosticChecks::row('service', 'puente service', 'fail', 'not asked: ' . $settings->problem(),
                'fill in the addon\'s settings')], false];
        }
        $now = ($this->clock)();
        $zone = new \DateTimeZone(date_default_timezone_get());
        $data = [
            'addon' => [
                'version' => puente_version(),
                'php' => PHP_VERSION,
                'whmcs' => puente_whmcs_version(),
                'timezone' => $zone->getName(),
                'utc_offset_seconds' => $zone->getOffset(new \DateTimeImmutable('@' . $now)),
                'now' => $now,
                'hooks' => HookCatalog::hooks(),
            ],
            'rows' => $rows,
        ];
        $event = Event::envelope('diagnostics.run', $data, $context, $settings->instance, $now);
        $response = $this->forwarder->send($event, self::PATH, self::TIMEOUT_MS);
        $answer = json_decode($response->body, true);
        if ($response->isSuccess() && is_array($answer['rows'] ?? null)) {
            $service = [];
            foreach ($answer['rows'] as $row) {
                if (is_array($row) && isset($row['check'], $row['title'], $row['status'], $row['detail'])) {
                    $service[] = DiagnosticChecks::row((string) $row['check'], (string) $row['title'], (string) $row['status'],
                        (string) $row['detail'], (string) ($row['fix'] ?? ''), is_array($row['assumptions'] ?? null) ? $row['assumptions'] : []);
                }
            }
            return [$service, true];
        }
        return [[self::unreachable($response, $settings)], false];
    }

    /** Why the service gave no report, and what to do about it. */
    private static function unreachable(Response $response, Settings $settings): array
    {
        $code = (string) (json_decode($response->body, true)['error']['code'] ?? '');
        [$detail, $fix] = match (true) {
            $response->status === 0 => ["{$settings->url} could not be reached: " . $response->describe(),
                'start the service (or check the Service URL, the firewall and that this server reaches it)'],
            $response->status === 401 && $code === 'instance_mismatch' => ['the service knows no instance ' . $settings->instance
                . ' with this secret', 'make the Instance name match the service\'s [instances.<name>] (or leave it default)'],
            $response->status === 401 => ['the service refused the signature: ' . $response->describe(),
                'the Signing secret must be one of the service\'s PUENTE_HOOK_SECRETS, and both clocks right (within 5 minutes)'],
            $response->status === 404 => ['the service has no diagnostics route: ' . $response->describe(),
                'update the puente service to the addon\'s version'],
            default => ['the service answered ' . $response->describe(), 'see the service\'s log'],
        };
        return DiagnosticChecks::row('service', 'puente service', 'fail', $detail, $fix);
    }

    /**
     * The report as plain text, for a support request.
     *
     * @param list<array<string, mixed>> $rows
     */
    public static function report(array $rows, int $at, string $instance): string
    {
        $counts = array_count_values(array_column($rows, 'status'));
        $lines = [sprintf('puente diagnostics, instance %s, %s UTC: %d pass, %d warn, %d fail', $instance, gmdate('Y-m-d H:i', $at),
            $counts['pass'] ?? 0, $counts['warn'] ?? 0, $counts['fail'] ?? 0),
            'addon ' . puente_version() . ', PHP ' . PHP_VERSION . ', WHMCS ' . (puente_whmcs_version() ?: 'unknown'), ''];
        foreach ($rows as $row) {
            $lines[] = sprintf('[%s] %s: %s', strtoupper((string) $row['status']), $row['title'], $row['detail']);
            if (($row['fix'] ?? '') !== '') {
                $lines[] = '       fix: ' . $row['fix'];
            }
        }
        return implode("\n", $lines) . "\n";
    }
}
