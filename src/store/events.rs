//! Events as the store keeps and lists them.

use crate::domain::envelope::{Actor, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};

pub use super::model::EventStatus;

/// A stored event as the admin API shows it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Position in arrival order; the paging cursor.
    pub seq: i64,
    pub id: EventId,
    pub instance: InstanceName,
    pub hook: HookType,
    pub actor: Actor,
    pub source: Source,
    pub occurred_at: jiff::Timestamp,
    pub received_at: jiff::Timestamp,
    pub status: EventStatus,
    /// The signed body; only loaded for single-event reads.
    pub body: Option<Vec<u8>>,
}

/// Filters and paging for [`list`].
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub hook: Option<HookType>,
    pub instance: Option<InstanceName>,
    /// Received at or after this instant.
    pub since: Option<jiff::Timestamp>,
    /// Only events after this `seq` (the previous page's cursor).
    pub after: Option<i64>,
    pub limit: u32,
}
