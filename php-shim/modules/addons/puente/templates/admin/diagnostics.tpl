{* The addon's Diagnostics tab (admin area): every check of this WHMCS
   against what puente relies on, and the report for a support request.
   Rendered by lib/AdminPage.php with the Smarty WHMCS ships. *}
<div class="puente-diagnostics">
<p>{$texts.diag_intro|escape}</p>
{if $expired}
    <div class="alert alert-warning">{$texts.form_expired|escape}</div>
{/if}
<form method="post" action="{$modulelink|escape}">
    <input type="hidden" name="token" value="{$token|escape}">
    <input type="hidden" name="puente_action" value="diagnose">
    <input type="hidden" name="probe" value="{$probe|escape}">
    <button type="submit" class="btn btn-primary">{$texts.diag_run|escape}</button>
</form>
{if $rows}
    <p class="puente-summary" style="margin-top:1em"><strong>{$summary|escape}</strong>
    {if $kept} {$texts.diag_kept|escape}{else} {$texts.diag_not_kept|escape}{/if}</p>
    <table class="table table-condensed puente-checks">
        <thead>
            <tr><th>{$texts.diag_result|escape}</th><th>{$texts.diag_check|escape}</th><th>{$texts.diag_found|escape}</th><th>{$texts.diag_fix|escape}</th></tr>
        </thead>
        <tbody>
        {foreach from=$rows item=row}
            <tr class="{if $row.status == 'fail'}danger{elseif $row.status == 'warn'}warning{else}success{/if}" data-check="{$row.check|escape}">
                <td><span class="label label-{if $row.status == 'fail'}danger{elseif $row.status == 'warn'}warning{else}success{/if}">{$row.status|upper|escape}</span></td>
                <td>{$row.label|escape}</td>
                <td>{$row.detail|escape}</td>
                <td>{$row.fix|escape}</td>
            </tr>
        {/foreach}
        </tbody>
    </table>
    <label for="puente-report">{$texts.diag_copy|escape}</label>
    <textarea id="puente-report" class="form-control" rows="12" readonly onclick="this.select()">{$report|escape}</textarea>
{/if}
</div>
