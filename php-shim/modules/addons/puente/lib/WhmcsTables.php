<?php

namespace WHMCS\Module\Addon\Puente;

use WHMCS\Database\Capsule;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * Every table and column of WHMCS the addon reads or writes, with its type
 * in a real WHMCS 8.4 database (the shared schema reference): the list the
 * tests audit every statement of the addon against, and the Diagnostics tab
 * checks on the administrator's own database.
 *
 * Types are families: `int`, `decimal`, `text`, `date`, `datetime`, `enum`.
 */
final class WhmcsTables
{
    /** @var array<string, array{purpose: string, columns: array<string, string>}> */
    public const TABLES = [
        'tbladdonmodules' => ['purpose' => 'the addon\'s settings', 'columns' => [
            'module' => 'text', 'setting' => 'text', 'value' => 'text']],
        'tblcancelrequests' => ['purpose' => 'whether WHMCS still holds a cancellation request', 'columns' => [
            'id' => 'int', 'date' => 'datetime', 'relid' => 'int', 'type' => 'text']],
        'tblclients' => ['purpose' => 'clients: status, email, currency, language', 'columns' => [
            'id' => 'int', 'currency' => 'int', 'language' => 'text', 'status' => 'enum', 'email' => 'text']],
        'tblconfiguration' => ['purpose' => 'WHMCS settings (version, module log, cancel unpaid invoices)', 'columns' => [
            'setting' => 'text', 'value' => 'text']],
        'tblcurrencies' => ['purpose' => 'the client\'s currency', 'columns' => [
            'id' => 'int', 'code' => 'text', 'default' => 'int']],
        'tbldomains' => ['purpose' => 'the domain that moves with a service', 'columns' => [
            'id' => 'int', 'userid' => 'int', 'domain' => 'text', 'status' => 'enum', 'subscriptionid' => 'text']],
        'tblhosting' => ['purpose' => 'services: owner, product, cycle, dates, subscription', 'columns' => [
            'id' => 'int', 'userid' => 'int', 'packageid' => 'int', 'domain' => 'text', 'amount' => 'decimal',
            'billingcycle' => 'text', 'nextduedate' => 'date', 'domainstatus' => 'enum', 'subscriptionid' => 'text']],
        'tblhostingaddons' => ['purpose' => 'a service\'s addons, which move with it', 'columns' => [
            'id' => 'int', 'hostingid' => 'int', 'userid' => 'int', 'subscriptionid' => 'text']],
        'tblinvoiceitems' => ['purpose' => 'invoice lines: paid amounts and open invoices of a service', 'columns' => [
            'id' => 'int', 'invoiceid' => 'int', 'type' => 'text', 'relid' => 'int', 'amount' => 'decimal', 'duedate' => 'date']],
        'tblinvoices' => ['purpose' => 'invoices: status, due and payment dates', 'columns' => [
            'id' => 'int', 'status' => 'text', 'duedate' => 'date', 'datepaid' => 'datetime']],
        'tblpricing' => ['purpose' => 'product prices per cycle', 'columns' => [
            'type' => 'enum', 'currency' => 'int', 'relid' => 'int', 'monthly' => 'decimal', 'quarterly' => 'decimal',
            'semiannually' => 'decimal', 'annually' => 'decimal', 'biennially' => 'decimal', 'triennially' => 'decimal']],
        'tblproduct_upgrade_products' => ['purpose' => 'a product\'s Upgrades tab', 'columns' => [
            'product_id' => 'int', 'upgrade_product_id' => 'int']],
        'tblproducts' => ['purpose' => 'product names', 'columns' => [
            'id' => 'int', 'name' => 'text']],
        'tblsslorders' => ['purpose' => 'SSL orders, which move with their service', 'columns' => [
            'userid' => 'int', 'serviceid' => 'int', 'addon_id' => 'int']],
        'tblupgrades' => ['purpose' => 'upgrade orders', 'columns' => [
            'id' => 'int', 'userid' => 'int', 'orderid' => 'int', 'type' => 'enum', 'relid' => 'int', 'originalvalue' => 'text',
            'newvalue' => 'text', 'new_cycle' => 'text', 'status' => 'enum', 'paid' => 'enum']],
        'tblusers' => ['purpose' => 'the logged-in user\'s email and password hash (re-authentication)', 'columns' => [
            'id' => 'int', 'email' => 'text', 'password' => 'text']],
        'tblusers_clients' => ['purpose' => 'which user owns a client account', 'columns' => [
            'auth_user_id' => 'int', 'client_id' => 'int', 'owner' => 'int']],
    ];

    /** Columns read only where they exist (older WHMCS versions). */
    public const OPTIONAL = ['tblproducts.upgradepackages'];

    /** MySQL's data types of each family (`information_schema.COLUMNS.DATA_TYPE`). */
    private const MYSQL_FAMILIES = [
        'int' => ['int', 'integer', 'tinyint', 'smallint', 'mediumint', 'bigint'],
        'decimal' => ['decimal', 'numeric'],
        'text' => ['text', 'varchar', 'char', 'tinytext', 'mediumtext', 'longtext'],
        'date' => ['date'],
        'datetime' => ['datetime', 'timestamp'],
        'enum' => ['enum'],
    ];

    /**
     * Whether the addon uses `$table.$column`.
     */
    public static function lists(string $table, string $column): bool
    {
        return isset(self::TABLES[$table]['columns'][$column]) || in_array("{$table}.{$column}", self::OPTIONAL, true);
    }

    /**
     * What the live database has of each listed table: column => its type
     * as the database names it (empty for a missing table).
     *
     * @return array<string, array<string, string>>
     */
    public static function live(): array
    {
        $connection = Capsule::connection();
        $tables = array_keys(self::TABLES);
        $found = array_fill_keys($tables, []);
        if ($connection->getDriverName() === 'mysql') {
            $rows = $connection->select('SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS d FROM information_schema.COLUMNS'
                . ' WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (' . implode(', ', array_fill(0, count($tables), '?')) . ')', $tables);
            foreach ($rows as $row) {
                $found[(string) $row->t][(string) $row->c] = strtolower((string) $row->d);
            }
            return $found;
        }
        foreach ($tables as $table) {
            foreach ($connection->select('PRAGMA table_info(' . $connection->getPdo()->quote($table) . ')') as $row) {
                $found[$table][(string) $row->name] = strtolower((string) $row->type);
            }
        }
        return $found;
    }

    /**
     * Whether a live type fits a family: MySQL's by name; SQLite (the tests'
     * stand-in) keeps integers as INTEGER and everything else as TEXT.
     */
    public static function fits(string $family, string $liveType): bool
    {
        $liveType = strtolower(preg_replace('/\(.*$/', '', $liveType) ?? $liveType);
        if (in_array($liveType, ['integer', 'text'], true) && Capsule::connection()->getDriverName() === 'sqlite') {
            return ($family === 'int') === ($liveType === 'integer');
        }
        if ($family === 'enum' && in_array($liveType, self::MYSQL_FAMILIES['text'], true)) {
            return true;
        }
        return in_array($liveType, self::MYSQL_FAMILIES[$family] ?? [], true);
    }

    /**
     * What the live database lacks or has otherwise: missing tables and
     * columns, and columns of another type.
     *
     * @return array{missing: list<string>, retyped: list<string>}
     */
    public static function differences(): array
    {
        $live = self::live();
        $missing = [];
        $retyped = [];
        foreach (self::TABLES as $table => $definition) {
            if ($live[$table] === []) {
                $missing[] = $table;
                continue;
            }
            foreach ($definition['columns'] as $column => $family) {
                if (!isset($live[$table][$column])) {
                    $missing[] = "{$table}.{$column}";
                } elseif (!self::fits($family, $live[$table][$column])) {
                    $retyped[] = "{$table}.{$column} ({$live[$table][$column]}, expected {$family})";
                }
            }
        }
        return ['missing' => $missing, 'retyped' => $retyped];
    }
}
