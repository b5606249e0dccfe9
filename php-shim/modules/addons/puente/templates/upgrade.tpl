{* The addon's client-area page: the upgrade preview and the manual request. *}
<div class="puente-upgrade">
{if $error}
    <div class="alert alert-{if $unavailable}warning{else}danger{/if}">{$error|escape}</div>
{/if}
{if $ticket}
    <div class="alert alert-success">{$texts.upgrade_manual_opened|escape}: #{$ticket.ticket_number|escape}</div>
{elseif $quote}
    <table class="table">
        <tr><th>{$texts.upgrade_target_price|escape}</th><td>{$quote.breakdown.target_price|escape} {$quote.currency|escape}</td></tr>
        <tr><th>{$texts.upgrade_paid|escape}</th><td>{$quote.breakdown.paid|escape} {$quote.currency|escape}</td></tr>
        <tr><th>{$texts.upgrade_charge|escape}</th><td><strong>{$quote.charge|escape} {$quote.currency|escape}</strong></td></tr>
        <tr><th>{$texts.upgrade_next_due|escape}</th><td>{$quote.next_due_date|escape}</td></tr>
    </table>
    <a class="btn btn-primary" href="upgrade.php?type=package&amp;id={$serviceid|escape:'url'}">{$texts.upgrade_continue|escape}</a>
{elseif !$serviceid}
    <p>{$texts.upgrade_choose|escape}</p>
{/if}
{if $serviceid && $pid && !$ticket}
    <form method="post" action="index.php?m=puente&amp;id={$serviceid|escape:'url'}&amp;pid={$pid|escape:'url'}&amp;billingcycle={$billingcycle|escape:'url'}">
        <input type="hidden" name="token" value="{$token|escape}">
        <input type="hidden" name="action" value="manual">
        <p>{$texts.upgrade_manual_intro|escape}</p>
        <label for="puente-note">{$texts.upgrade_manual_note|escape}</label>
        <textarea id="puente-note" name="note" class="form-control" maxlength="2000"></textarea>
        <button type="submit" class="btn btn-default">{$texts.upgrade_manual_send|escape}</button>
    </form>
{/if}
</div>
