//! What the writer stores and answers, below the writer and the events
//! module so that the modules it uses (events, delivery, the plan's rows)
//! need not import it, and it imports none of them.

use crate::domain::envelope::{Actor, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::domain::plan::Plan;

crate::domain::status::statuses! {
    /// Where an event stands (`events.status`).
    pub enum EventStatus {
        /// Stored; a rule of puente's consumes this type.
        Received = "received",
        /// Stored for the record; no rule consumes this type (yet).
        Unhandled = "unhandled",
    }
}

/// A verified event, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub instance: InstanceName,
    pub hook: HookType,
    pub actor: Actor,
    pub source: Source,
    pub occurred_at: jiff::Timestamp,
    pub status: EventStatus,
    /// The exact bytes the signature covered.
    pub body: Vec<u8>,
    /// What the rules planned for it, stored with it when it is new.
    pub plan: Plan,
}

/// Whether an insert stored a new event or found its id already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Accepted,
    Duplicate,
}

/// Why the store did not answer: a read failed (nothing was changed), a
/// write failed (nothing of it was kept), or the store is stopping.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the database read failed: {0}")]
    Read(String),
    #[error("the database write failed: {0}")]
    Write(String),
    #[error("the writer has stopped")]
    Stopped,
}
