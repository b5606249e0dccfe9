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
