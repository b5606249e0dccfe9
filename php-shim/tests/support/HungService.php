<?php

/**
 * A service that accepts connections (the kernel completes them from the
 * listen backlog) and never answers: the blackholed case.
 */
final class HungService
{
    public readonly string $url;

    /** @var resource */
    private $server;

    public function __construct()
    {
        $this->server = stream_socket_server('tcp://127.0.0.1:0');
        $this->url = 'http://' . stream_socket_get_name($this->server, false);
    }

    /** Connections made to it since the last call. */
    public function takeConnections(): int
    {
        $count = 0;
        while (($connection = @stream_socket_accept($this->server, 0)) !== false) {
            fclose($connection);
            $count++;
        }
        return $count;
    }

    public function stop(): void
    {
        fclose($this->server);
    }
}
