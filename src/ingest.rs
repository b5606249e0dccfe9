//! The one way an event becomes what the store keeps: the rules plan for
//! it once, here, whether the shim sent it (`POST /v1/hooks`) or puente's
//! reconciliation found a hook WHMCS never fired.

use crate::config::Config;
use crate::domain;
use crate::domain::envelope::Envelope;
use crate::domain::ids::{EventId, InstanceName};
use crate::domain::plan::{Input, Plan};
use crate::store::NewEvent;
use crate::store::events::EventStatus;

/// A parsed event to store: one the shim signed (checked by
/// `http::signed`), or one the reconciliation stands in for.
pub struct ReceivedEvent {
    pub id: EventId,
    pub instance: InstanceName,
    pub envelope: Envelope,
    /// The exact bytes (the signed ones, for the shim's).
    pub body: Vec<u8>,
}

impl ReceivedEvent {
    /// The event to store: its id, instance, the envelope's facts, the
    /// bytes, and what the rules plan for it.
    pub fn stored(self, status: EventStatus, plan: Plan) -> NewEvent {
        NewEvent {
            id: self.id,
            instance: self.instance,
            hook: self.envelope.hook,
            actor: self.envelope.context.actor,
            source: self.envelope.context.source,
            occurred_at: self.envelope.timestamp,
            status,
            body: self.body,
            plan,
        }
    }
}

/// The event to store, with what the rules plan for it.
pub fn planned(event: ReceivedEvent, config: &Config) -> NewEvent {
    let (id, instance, envelope) = (&event.id, &event.instance, &event.envelope);
    let hook = envelope.hook.as_str();
    let timezone = config.timezone_of(instance);
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
