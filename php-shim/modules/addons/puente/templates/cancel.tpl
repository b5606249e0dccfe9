{* The addon's cancellation page: the conditions, both types with this
   service's dates, the invoices that stay payable, and the request after the
   client types their email and password again. *}
<div class="puente-cancel">
{if $error}
    <div class="alert alert-{if $unavailable}warning{else}danger{/if}">{$error|escape}</div>
{/if}
{if $result}
    <div class="alert alert-success">
    {if $result.outcome == 'renewal_disabled'}
        {$texts.cancel_domain_done|escape}
    {else}
        <p>{$texts.cancel_done|escape}</p>
        <p>{$texts.cancel_effective|escape} <strong>{$result.effective_date|escape}</strong>.</p>
        <p>{$texts.cancel_backups_until|escape} {$result.backup_retention_end|escape}.</p>
    {/if}
    </div>
    {if $result.open_invoices}
        <h4>{$texts.cancel_open_invoices|escape}</h4>
        <ul>
        {foreach from=$result.open_invoices item=invoice}
            <li><a href="{$invoice.url|escape}">{$texts.cancel_invoice|escape} #{$invoice.id|escape}</a> &mdash; {$invoice.balance|escape}</li>
        {/foreach}
        </ul>
    {/if}
{elseif $preview && isset($preview.cancellation)}
    {assign var=recorded value=$preview.cancellation}
    <div class="alert alert-info">
        <p>{$recorded.requested_on|string_format:$texts.cancel_recorded|escape}</p>
        {if $recorded.termination_date}
            <p>{$texts.cancel_terminated_on|escape} <strong>{$recorded.termination_date|escape}</strong>.</p>
        {else}
            <p>{$texts.cancel_effective|escape} <strong>{$recorded.effective_date|escape}</strong>.</p>
        {/if}
        {if $recorded.backup_retention_end}<p>{$texts.cancel_backups_until|escape} {$recorded.backup_retention_end|escape}.</p>{/if}
    </div>
{elseif $preview}
    {if $awaiting}
        <div class="alert alert-warning puente-awaiting">{$awaiting|escape}</div>
    {/if}
    {if $domainid}
        <p>{$texts.cancel_domain_intro|escape}</p>
    {else}
        <h4>{$texts.cancel_conditions_title|escape}</h4>
        <ul class="puente-conditions">
            <li>{$texts.cancel_condition_no_refund|escape}</li>
            <li>{$texts.cancel_condition_deleted|escape}</li>
            <li>{$texts.cancel_condition_backups|escape}</li>
            <li>{$texts.cancel_condition_new_service|escape}</li>
        </ul>
    {/if}
    <h4>{$texts.cancel_open_invoices|escape}</h4>
    {if $preview.open_invoices}
        <table class="table">
            <tr><th>{$texts.cancel_invoice|escape}</th><th>{$texts.cancel_invoice_due|escape}</th><th>{$texts.cancel_invoice_total|escape}</th><th>{$texts.cancel_invoice_balance|escape}</th></tr>
        {foreach from=$preview.open_invoices item=invoice}
            <tr><td><a href="{$invoice.url|escape}">#{$invoice.id|escape}</a></td><td>{$invoice.duedate|escape}</td><td>{$invoice.total|escape}</td><td>{$invoice.balance|escape}</td></tr>
        {/foreach}
        </table>
    {else}
        <p>{$texts.cancel_no_open_invoices|escape}</p>
    {/if}
    <form method="post" action="index.php?m=puente&amp;action=cancel&amp;{if $domainid}domainid={$domainid|escape:'url'}{else}id={$serviceid|escape:'url'}{/if}" autocomplete="off">
        <input type="hidden" name="token" value="{$token|escape}">
        {if !$domainid}
            <fieldset>
                <legend>{$texts.cancel_when|escape}</legend>
            {foreach from=$preview.options item=option}
                <div class="radio"><label>
                    <input type="radio" name="type" value="{$option.type|escape}"{if $option.type == $chosen_type} checked{/if}>
                    {if $option.type == 'Immediate'}{$option.effective_date|string_format:$texts.cancel_type_immediate|escape}{else}{$option.effective_date|string_format:$texts.cancel_type_end|escape}{/if}
                </label></div>
            {/foreach}
            </fieldset>
        {/if}
        <p>{$texts.cancel_confirm_intro|escape}</p>
        <label for="puente-email">{$texts.cancel_email|escape}</label>
        <input id="puente-email" type="email" name="email" class="form-control" value="{$email|escape}" required>
        <label for="puente-password">{$texts.cancel_password|escape}</label>
        <input id="puente-password" type="password" name="password" class="form-control" autocomplete="current-password" required>
        <label for="puente-reason">{$texts.cancel_reason|escape}</label>
        <textarea id="puente-reason" name="reason" class="form-control" maxlength="2000"></textarea>
        <button type="submit" class="btn btn-danger">{if $domainid}{$texts.cancel_domain_submit|escape}{else}{$texts.cancel_submit|escape}{/if}</button>
    </form>
{/if}
</div>
