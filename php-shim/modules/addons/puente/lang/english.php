<?php

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

$_ADDONLANG['try_again_later'] = 'This cannot be checked right now. Please try again in a few minutes.';
$_ADDONLANG['service'] = 'puente service';
$_ADDONLANG['reachable'] = 'reachable';
$_ADDONLANG['unreachable'] = 'unreachable';
$_ADDONLANG['settings'] = 'Settings';
$_ADDONLANG['complete'] = 'complete';
$_ADDONLANG['instance'] = 'Instance';
$_ADDONLANG['spooled'] = 'Events waiting (spool)';
$_ADDONLANG['rejected'] = 'Events refused by the service';
$_ADDONLANG['breaker'] = 'Live sending';
$_ADDONLANG['breaker_open'] = 'paused after a failure; events are spooled';
$_ADDONLANG['breaker_closed'] = 'on';
$_ADDONLANG['last_error'] = 'Last error';
$_ADDONLANG['send_test_event'] = 'Send test event';
$_ADDONLANG['replay_now'] = 'Send waiting events now';
$_ADDONLANG['test_event'] = 'Test event';
$_ADDONLANG['outcome_delivered'] = 'delivered';
$_ADDONLANG['outcome_spooled'] = 'not delivered; spooled for replay (see Last error)';
$_ADDONLANG['outcome_rejected'] = 'refused by the service (see Last error)';
$_ADDONLANG['replayed'] = 'Delivered / refused';
$_ADDONLANG['replay_failed'] = 'the service failed; the rest keeps waiting';
$_ADDONLANG['upgrade_title'] = 'Upgrade my plan';
$_ADDONLANG['upgrade_charge'] = 'To pay now';
$_ADDONLANG['upgrade_next_due'] = 'Next due date';
$_ADDONLANG['upgrade_paid'] = 'Already paid this period';
$_ADDONLANG['upgrade_target_price'] = 'New plan price';
$_ADDONLANG['upgrade_continue'] = 'Continue with the upgrade';
$_ADDONLANG['upgrade_manual_intro'] = 'If the upgrade you need cannot be made automatically, an account executive can review it.';
$_ADDONLANG['upgrade_manual_note'] = 'Comments (optional)';
$_ADDONLANG['upgrade_manual_send'] = 'Ask for the upgrade';
$_ADDONLANG['upgrade_manual_opened'] = 'Your request is open. Ticket number';
$_ADDONLANG['upgrade_choose'] = 'Choose the service, the new plan and the billing cycle from the service upgrade page.';
$_ADDONLANG['upgrade_service_unknown'] = 'We could not find that service in your account.';
$_ADDONLANG['upgrade_clients_only'] = 'This page is for clients: an administrator logged in as a client cannot use it.';
$_ADDONLANG['form_expired'] = 'This form has expired or was sent from another page, so nothing was done. Reload the page and try again.';
$_ADDONLANG['discard_waiting'] = 'Discard waiting events';
$_ADDONLANG['discard_confirm'] = 'yes, drop them: they will never reach the service';
$_ADDONLANG['discard_unconfirmed'] = 'Nothing was discarded: tick the box to confirm.';
$_ADDONLANG['discarded'] = 'Waiting events discarded (their ids are in the module log)';
