<?php

namespace WHMCS\Database;

/**
 * WHMCS's Capsule is Laravel's Capsule manager under WHMCS's namespace;
 * WhmcsDatabase (support/WhmcsDatabase.php) opens it on the 8.4 schema.
 */
class Capsule extends \Illuminate\Database\Capsule\Manager
{
}
