<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * File helpers for the folder-based spool and state.
 */
final class Files
{
    public static function ensureDirectory(string $dir): void
    {
        // Bodies hold client data: readable by the WHMCS user and its group only.
        if (!is_dir($dir) && !@mkdir($dir, 0770, true) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create the folder {$dir}");
        }
    }

    /** Writes beside the target, then renames: readers never see half a file. */
    public static function writeAtomically(string $path, string $contents): void
    {
        $temporary = $path . '.' . bin2hex(random_bytes(6)) . '.tmp';
        if (@file_put_contents($temporary, $contents) !== strlen($contents) || !@rename($temporary, $path)) {
            @unlink($temporary);
            throw new \RuntimeException("cannot write {$path}");
        }
    }
}
