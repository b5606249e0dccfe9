<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * HTTP to the service over one curl handle per PHP process (kept-alive
 * connections), every wait bounded by a connect and a total timeout.
 */
final class Transport
{
    private ?\CurlHandle $handle = null;

    /**
     * @param string[] $headers "Name: value" lines
     */
    public function post(string $url, array $headers, string $body, int $connectMs, int $totalMs): Response
    {
        return $this->exchange($url, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            // Expect: 100-continue would cost a round trip (or a 1 s wait).
            CURLOPT_HTTPHEADER => array_merge(['Content-Type: application/json', 'Expect:'], $headers),
        ], $connectMs, $totalMs);
    }

    public function get(string $url, int $connectMs, int $totalMs): Response
    {
        return $this->exchange($url, [CURLOPT_HTTPGET => true], $connectMs, $totalMs);
    }

    /**
     * @param array<int, mixed> $options
     */
    private function exchange(string $url, array $options, int $connectMs, int $totalMs): Response
    {
        if ($this->handle === null) {
            $handle = curl_init();
            if ($handle === false) {
                return new Response(0, '', 'curl_init failed');
            }
            $this->handle = $handle;
        } else {
            curl_reset($this->handle);
        }
        curl_setopt_array($this->handle, $options + [
            CURLOPT_URL => $url,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT_MS => $connectMs,
            CURLOPT_TIMEOUT_MS => $totalMs,
            // Millisecond timeouts with the default resolver need signals off.
            CURLOPT_NOSIGNAL => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_USERAGENT => 'puente-whmcs/' . \puente_version(),
        ]);
        $body = curl_exec($this->handle);
        if ($body === false) {
            // No connection made (refused, no such host, or the connect
            // timeout): the request never reached the service.
            $unreached = in_array(curl_errno($this->handle), [CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT], true)
                || (curl_errno($this->handle) === CURLE_OPERATION_TIMEDOUT
                    && (float) curl_getinfo($this->handle, CURLINFO_CONNECT_TIME) === 0.0);
            return new Response(0, '', curl_error($this->handle), $unreached);
        }
        return new Response((int) curl_getinfo($this->handle, CURLINFO_RESPONSE_CODE), (string) $body);
    }
}
