//! What the dashboard reads beside the other lists: the overview figures.

/// Figures of the overview, read in one go.
#[derive(Debug, Default)]
pub struct Counts {
    pub backlog: i64,
    pub dead: i64,
    pub failed_upgrades: i64,
    pub failed_cancellations: i64,
    /// Requests made on WHMCS's own form, waiting for the client.
    pub unconfirmed_cancellations: i64,
    pub open_transfers: i64,
}

/// The workers whose due work operators watch (`puente_work_backlog`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkerKind {
    Outbox,
    Upgrades,
    Cancellations,
    Transfers,
    Replies,
}

impl WorkerKind {
    pub const ALL: [Self; 5] = [
        Self::Outbox,
        Self::Upgrades,
        Self::Cancellations,
        Self::Transfers,
        Self::Replies,
    ];

    /// The `worker` label, the worker's own name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbox => "outbox",
            Self::Upgrades => "upgrades",
            Self::Cancellations => "cancellations",
            Self::Transfers => "transfers",
            Self::Replies => "replies",
        }
    }
}

/// One worker's records at one instance that it must act on now, and
/// since when the oldest of them has been due (Unix milliseconds).
///
/// Due means the worker owes the next step, not a person: alerts planned
/// and past their next try; upgrades planned or interrupted; cancellations
/// requested, being carried out, or scheduled for a day that has ended
/// (in UTC, so a time zone never makes one due early); transfers to move,
/// and unanswered ones past their expiry. Scheduled cancellations and
/// transfers waiting on a client or on staff are not due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWork {
    pub worker: WorkerKind,
    pub instance: String,
    pub count: u64,
    pub oldest_due_ms: i64,
}

impl DueWork {
    /// Whole seconds the oldest has been due at `now` (0 if not yet).
    pub fn oldest_due_seconds(&self, now: jiff::Timestamp) -> u64 {
        u64::try_from(now.as_millisecond().saturating_sub(self.oldest_due_ms) / 1000).unwrap_or(0)
    }
}

/// What alerts read at each scrape, from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Only instances with something due.
    pub due: Vec<DueWork>,
    /// Dead letters by instance; only instances that have some.
    pub dead_letters: std::collections::BTreeMap<String, u64>,
}

/// A count read from SQL (never negative) as the gauge takes it.
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
