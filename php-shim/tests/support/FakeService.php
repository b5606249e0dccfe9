<?php

/**
 * A stand-in puente service: PHP's built-in web server running
 * fake-service-router.php, which records every request and answers with the
 * status (and decision) the test set.
 */
final class FakeService
{
    public readonly string $url;

    /** @param resource $process */
    private function __construct(private $process, private string $dir, int $port)
    {
        $this->url = "http://127.0.0.1:{$port}";
    }

    public static function start(): self
    {
        $dir = sys_get_temp_dir() . '/puente-fake-' . bin2hex(random_bytes(6));
        mkdir("{$dir}/requests", 0700, true);
        $port = self::freePort();
        // The server's access log goes nowhere: a pipe nobody reads would fill and stall it.
        $process = proc_open(
            [PHP_BINARY, '-S', "127.0.0.1:{$port}", __DIR__ . '/fake-service-router.php'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes,
            null,
            ['FAKE_DIR' => $dir] + getenv(),
        );
        self::awaitListening($port);
        return new self($process, $dir, $port);
    }

    /** Returns once the port accepts connections (a refused connect returns at once). */
    public static function awaitListening(int $port): void
    {
        $deadline = hrtime(true) + 5_000_000_000;
        while (($socket = @stream_socket_client("tcp://127.0.0.1:{$port}", $code, $message, 1)) === false) {
            if (hrtime(true) > $deadline) {
                throw new RuntimeException("nothing listens on port {$port}");
            }
        }
        fclose($socket);
    }

    /** A port nothing listens on. */
    public static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        return $port;
    }

    public function answerWith(int $status): void
    {
        file_put_contents("{$this->dir}/status", (string) $status);
    }

    public function answerDecision(string $json): void
    {
        file_put_contents("{$this->dir}/decision", $json);
    }

    /** What `/v1/client/...` answers: a status and a JSON body. */
    public function answerClient(int $status, string $json): void
    {
        file_put_contents("{$this->dir}/client", json_encode(['status' => $status, 'body' => $json]));
    }

    /** What one `/v1/client/...` (or `/v1/diagnostics`) path answers, before answerClient()'s. */
    public function answerClientAt(string $path, int $status, string $json): void
    {
        file_put_contents("{$this->dir}/client" . str_replace('/', '_', $path), json_encode(['status' => $status, 'body' => $json]));
    }

    /**
     * Requests received so far, oldest first.
     *
     * @return list<array{method: string, path: string, headers: array<string, string>, body: string}>
     */
    public function requests(): array
    {
        $files = glob("{$this->dir}/requests/*.json") ?: [];
        sort($files);
        return array_map(static fn (string $file): array => json_decode(file_get_contents($file), true), $files);
    }

    public function stop(): void
    {
        proc_terminate($this->process);
        proc_close($this->process);
        ShimTestCase::removeTree($this->dir);
    }
}
