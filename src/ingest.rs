//! The one way an event becomes what the store keeps: the rules plan for
//! it once, here, whether the shim sent it (`POST /v1/hooks`) or puente's
//! reconciliation found a hook WHMCS never fired.

use crate::config::Config;
use crate::domain;
use crate::domain::plan::Input;
use crate::http::signed::SignedEvent;
use crate::store::NewEvent;
use crate::store::events::EventStatus;

/// The event to store: the verified one, with what the rules plan for it.
pub fn planned(event: SignedEvent, config: &Config) -> NewEvent {
    let (id, instance, envelope) = (&event.id, &event.instance, &event.envelope);
    let hook = envelope.hook.as_str();
    let timezone = config
        .instances
        .get(instance)
        .map_or(jiff::tz::TimeZone::UTC, |settings| {
            settings.timezone.clone()
        });
    let plan = domain::plan::plan(&Input {
        hook,
        data: &envelope.data,
        actor: &envelope.context.actor,
        source: envelope.context.source,
        event_id: id.as_str(),
        local_date: timezone.to_datetime(envelope.timestamp).date(),
        upgrade_policy: config.for_instance(instance).upgrade_policy,
    });
    for note in &plan.notes {
        if note.warning {
            tracing::warn!(%id, hook, rule = note.rule, reason = %note.reason, "a rule could not use the event");
        } else {
            tracing::debug!(%id, hook, rule = note.rule, reason = %note.reason, "nothing planned");
        }
    }
    let status = if plan.claimed {
        EventStatus::Received
    } else {
        EventStatus::Unhandled
    };
    event.stored(status, plan)
}
