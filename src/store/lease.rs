//! A worker's hold on a row, as every backend names it.

/// A worker's hold on a row it took to work on (the rows of
/// `Store::due_messages`, `Store::pending_upgrades`,
/// `Store::open_cancellations`, `Store::open_transfers`): the row, and
/// the lease epoch the taking gave it. A transition that names it changes
/// the row only while this replica still holds that lease: on PostgreSQL a
/// replica whose lease lapsed and was taken over writes nothing, and
/// learns so from the transition's answer. On SQLite one process holds
/// every row (epoch 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub epoch: i64,
}
