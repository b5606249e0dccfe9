<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Shared state as small files in the spool folder; changes happen under an
 * exclusive flock so concurrent PHP processes see one order of updates.
 */
final class FileState implements SharedState
{
    private string $dir;

    public function __construct(string $dir)
    {
        $this->dir = rtrim($dir, '/') . '/state';
        Files::ensureDirectory($this->dir);
    }

    public function read(string $name): ?string
    {
        $value = @file_get_contents($this->path($name));
        return $value === false ? null : $value;
    }

    public function write(string $name, string $value): void
    {
        $this->locked(fn () => Files::writeAtomically($this->path($name), $value));
    }

    public function compareAndSet(string $name, ?string $expected, string $value): bool
    {
        return $this->locked(function () use ($name, $expected, $value): bool {
            if ($this->read($name) !== $expected) {
                return false;
            }
            Files::writeAtomically($this->path($name), $value);
            return true;
        });
    }

    private function path(string $name): string
    {
        return "{$this->dir}/" . preg_replace('/[^a-z0-9_]/', '_', $name);
    }

    private function locked(callable $change): mixed
    {
        $lock = fopen("{$this->dir}/.lock", 'c');
        if ($lock === false) {
            throw new \RuntimeException("cannot open the lock file in {$this->dir}");
        }
        try {
            flock($lock, LOCK_EX);
            return $change();
        } finally {
            flock($lock, LOCK_UN);
            fclose($lock);
        }
    }
}
