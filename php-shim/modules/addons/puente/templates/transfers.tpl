{* The addon's transfers page: asking to move a service to another client,
   the requests addressed to this client (accept, decline), their own
   requests (withdraw), and every transfer's status. *}
<div class="puente-transfers">
{if $error}
    <div class="alert alert-{if $unavailable}warning{else}danger{/if}">{$error|escape}</div>
{/if}
{if $notice}
    <div class="alert alert-success">{$notice|escape}</div>
{/if}
{if $serviceid}
    <h4>{$texts.transfer_conditions_title|escape}</h4>
    <ul class="puente-conditions">
        <li>{$texts.transfer_condition_accounts|escape}</li>
        <li>{$texts.transfer_condition_active|escape}</li>
        <li>{$texts.transfer_condition_consent|escape}</li>
        <li>{$texts.transfer_condition_history|escape}</li>
    </ul>
    <form method="post" action="index.php?m=puente&amp;action=transfers&amp;id={$serviceid|escape:'url'}">
        <input type="hidden" name="token" value="{$token|escape}">
        <input type="hidden" name="step" value="request">
        <label for="puente-recipient">{$texts.transfer_recipient_email|escape}</label>
        <input id="puente-recipient" type="email" name="recipient_email" class="form-control" value="{$email|escape}" required>
        {if $domain}
            <div class="checkbox"><label><input type="checkbox" name="with_domain" value="1"> {$domain.name|string_format:$texts.transfer_with_domain|escape}</label></div>
        {/if}
        <button type="submit" class="btn btn-primary">{$texts.transfer_submit|escape}</button>
    </form>
{/if}
<h4>{$texts.transfer_incoming|escape}</h4>
{if $incoming}
    <table class="table">
        <tr><th>{$texts.transfer_service|escape}</th><th>{$texts.transfer_status|escape}</th><th>{$texts.transfer_expires|escape}</th><th></th></tr>
    {foreach from=$incoming item=transfer}
        {assign var=status value="transfer_status_`$transfer.status`"}
        <tr>
            <td>{$transfer.service_name|escape} ({$transfer.service_domain|escape})</td>
            <td>{$texts.$status|escape}</td>
            <td>{$transfer.expires_at|escape}</td>
            <td>{if $transfer.status == 'requested'}
                {foreach from=['accept', 'decline'] item=step}
                    {assign var=label value="transfer_`$step`"}
                    <form method="post" action="index.php?m=puente&amp;action=transfers" style="display:inline-block">
                        <input type="hidden" name="token" value="{$token|escape}">
                        <input type="hidden" name="step" value="{$step}">
                        <input type="hidden" name="transfer" value="{$transfer.transfer_id|escape}">
                        <button type="submit" class="btn btn-{if $step == 'accept'}success{else}default{/if}">{$texts.$label|escape}</button>
                    </form>
                {/foreach}
            {/if}</td>
        </tr>
    {/foreach}
    </table>
{else}
    <p>{$texts.transfer_none|escape}</p>
{/if}
<h4>{$texts.transfer_outgoing|escape}</h4>
{if $outgoing}
    <table class="table">
        <tr><th>{$texts.transfer_service|escape}</th><th>{$texts.transfer_to|escape}</th><th>{$texts.transfer_status|escape}</th><th>{$texts.transfer_expires|escape}</th><th></th></tr>
    {foreach from=$outgoing item=transfer}
        {assign var=status value="transfer_status_`$transfer.status`"}
        <tr>
            <td>{$transfer.service_name|escape} ({$transfer.service_domain|escape})</td>
            <td>{$transfer.recipient_email|escape}</td>
            <td>{$texts.$status|escape}</td>
            <td>{$transfer.expires_at|escape}</td>
            <td>{if $transfer.status == 'requested' || ($transfer.status == 'accepted' && $transfer.approval == 'staff')}
                <form method="post" action="index.php?m=puente&amp;action=transfers" style="display:inline-block">
                    <input type="hidden" name="token" value="{$token|escape}">
                    <input type="hidden" name="step" value="withdraw">
                    <input type="hidden" name="transfer" value="{$transfer.transfer_id|escape}">
                    <button type="submit" class="btn btn-default">{$texts.transfer_withdraw|escape}</button>
                </form>
            {/if}</td>
        </tr>
    {/foreach}
    </table>
{else}
    <p>{$texts.transfer_none|escape}</p>
{/if}
</div>
