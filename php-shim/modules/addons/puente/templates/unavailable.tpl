{* Shown only when the server's PHP or WHMCS is older than the addon needs. *}
<div class="alert alert-warning">Esta página no está disponible en este momento. / This page is not available right now.</div>
