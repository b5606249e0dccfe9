<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * A precondition failed inside the move's transaction: it rolls back.
 */
final class MoveRefused extends \RuntimeException
{
    public function __construct(public readonly string $refusal, string $message)
    {
        parent::__construct($message);
    }
}
