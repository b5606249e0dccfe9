//! The replicas that share a store, as the operator sees them: each one's
//! heartbeat, and which one leads (runs what must run once: retention, and
//! on PostgreSQL the rescue of a dead replica's work).

/// One replica, as the store last saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Replica {
    /// Host name and a per-start ULID: a restarted process is a new replica.
    pub id: String,
    pub host: String,
    pub version: String,
    pub started_at: String,
    /// Milliseconds since its last heartbeat, by the database's clock.
    pub heartbeat_age_ms: u64,
    /// Its heartbeat is recent and it did not stop.
    pub alive: bool,
    pub leader: bool,
    /// The replica answering.
    pub this: bool,
}
