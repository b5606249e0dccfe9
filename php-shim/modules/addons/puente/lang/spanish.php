<?php

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

$_ADDONLANG['try_again_later'] = 'No podemos comprobarlo en este momento. Vuelve a intentarlo en unos minutos.';
$_ADDONLANG['service'] = 'Servicio puente';
$_ADDONLANG['reachable'] = 'accesible';
$_ADDONLANG['unreachable'] = 'no accesible';
$_ADDONLANG['settings'] = 'Configuración';
$_ADDONLANG['complete'] = 'completa';
$_ADDONLANG['instance'] = 'Instancia';
$_ADDONLANG['spooled'] = 'Eventos en espera';
$_ADDONLANG['rejected'] = 'Eventos rechazados por el servicio';
$_ADDONLANG['breaker'] = 'Envío directo';
$_ADDONLANG['breaker_open'] = 'en pausa tras un fallo; los eventos quedan en espera';
$_ADDONLANG['breaker_closed'] = 'activo';
$_ADDONLANG['last_error'] = 'Último error';
$_ADDONLANG['send_test_event'] = 'Enviar evento de prueba';
$_ADDONLANG['replay_now'] = 'Enviar ahora los eventos en espera';
$_ADDONLANG['test_event'] = 'Evento de prueba';
$_ADDONLANG['outcome_delivered'] = 'entregado';
$_ADDONLANG['outcome_spooled'] = 'no entregado; queda en espera (ver Último error)';
$_ADDONLANG['outcome_rejected'] = 'rechazado por el servicio (ver Último error)';
$_ADDONLANG['replayed'] = 'Entregados / rechazados';
$_ADDONLANG['replay_failed'] = 'el servicio falló; el resto sigue en espera';
$_ADDONLANG['upgrade_title'] = 'Mejorar mi plan';
$_ADDONLANG['upgrade_charge'] = 'A pagar ahora';
$_ADDONLANG['upgrade_next_due'] = 'Próximo vencimiento';
$_ADDONLANG['upgrade_paid'] = 'Ya pagado en este período';
$_ADDONLANG['upgrade_target_price'] = 'Precio del nuevo plan';
$_ADDONLANG['upgrade_continue'] = 'Continuar con la mejora';
$_ADDONLANG['upgrade_manual_intro'] = 'Si la mejora que necesita no es posible automáticamente, un ejecutivo de cuentas puede revisarla.';
$_ADDONLANG['upgrade_manual_note'] = 'Comentarios (opcional)';
$_ADDONLANG['upgrade_manual_send'] = 'Solicitar la mejora manualmente';
$_ADDONLANG['upgrade_manual_opened'] = 'Hemos abierto su solicitud. Número de ticket';
$_ADDONLANG['upgrade_choose'] = 'Elija el servicio, el nuevo plan y el ciclo de facturación desde la página de mejora del servicio.';
$_ADDONLANG['upgrade_service_unknown'] = 'No encontramos ese servicio en su cuenta.';
$_ADDONLANG['upgrade_clients_only'] = 'Esta página es para clientes: un administrador conectado como cliente no puede usarla.';
$_ADDONLANG['form_expired'] = 'Este formulario caducó o se envió desde otra página, así que no se hizo nada. Recarga la página y vuelve a intentarlo.';
$_ADDONLANG['discard_waiting'] = 'Descartar eventos en espera';
$_ADDONLANG['discard_confirm'] = 'sí, descartarlos: nunca llegarán al servicio';
$_ADDONLANG['discard_unconfirmed'] = 'No se descartó nada: marca la casilla para confirmarlo.';
$_ADDONLANG['discarded'] = 'Eventos en espera descartados (sus ids están en el registro del módulo)';
