<?php

namespace WHMCS\Module\Addon\Puente;

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/**
 * The hooks the addon forwards and, for each, the only `$vars` keys that
 * leave WHMCS. Adding a hook is one line: its group (a switch in the addon's
 * settings) and its allowed keys; `key:reducer` keeps a nested array or
 * object only through the named field list of Scrubber::REDUCERS.
 */
final class HookCatalog
{
    public const HOOKS = [
        'ClientAdd' => ['clients', 'client_id user_id userid firstname lastname companyname email address1 address2 city state postcode country phonenumber tax_id customFields taxexempt emailoptout marketing_emails_opt_in groupid'],
        'ClientEdit' => ['clients', 'userid uuid firstname lastname companyname email address1 address2 city state postcode country phonenumber currency status language groupid billingcid emailoptout marketing_emails_opt_in isOptedInToMarketingEmails email_verified email_preferences olddata:client'],
        'ClientChangePassword' => ['clients', 'userid'],
        'UserChangePassword' => ['clients', 'userid'],
        'UserLogin' => ['clients', 'user:user'],
        'InvoiceCreated' => ['invoices', 'source user invoiceid status'],
        'InvoiceCancelled' => ['invoices', 'invoiceid'],
        'AddInvoicePayment' => ['invoices', 'invoiceid'],
        'InvoicePaid' => ['invoices', 'invoiceid invoice:invoice'],
        'OrderPaid' => ['invoices', 'orderId userId invoiceId'],
        'AfterModuleSuspend' => ['services', 'params:module_params'],
        'AfterModuleUnsuspend' => ['services', 'params:module_params'],
        'AfterModuleTerminate' => ['services', 'params:module_params'],
        'CancellationRequest' => ['services', 'userid relid reason type'],
        'AfterProductUpgrade' => ['services', 'upgradeid'],
        'AfterConfigOptionsUpgrade' => ['services', 'upgradeid'],
        'ServiceEdit' => ['services', 'userid serviceid'],
        'ServiceDelete' => ['services', 'userid clientId serviceid'],
        'DomainDelete' => ['domains', 'userid domainid'],
        'QuoteCreated' => ['quotes', 'quoteid status'],
        'QuoteStatusChange' => ['quotes', 'quoteid status'],
    ];

    /** @return string[] */
    public static function hooks(): array
    {
        return array_keys(self::HOOKS);
    }

    public static function group(string $hook): ?string
    {
        return self::HOOKS[$hook][0] ?? null;
    }

    /**
     * Allowed keys of a hook's `$vars`, each with its reducer or null.
     *
     * @return array<string, ?string>
     */
    public static function fields(string $hook): array
    {
        $fields = [];
        foreach (explode(' ', self::HOOKS[$hook][1] ?? '') as $entry) {
            [$key, $reducer] = array_pad(explode(':', $entry, 2), 2, null);
            if ($key !== '') {
                $fields[$key] = $reducer;
            }
        }
        return $fields;
    }
}
