//! What a rule registers with the store to have its rows written with the
//! event that planned them: its part of the [`Plan`], its statements, and
//! one row per planned item (waking its worker through the [`Tx`]).

use rusqlite::Transaction;

use super::tx::Tx;
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;

/// The rows one rule writes for an accepted event, in the event's
/// transaction; prepared on the transaction's first use.
pub(super) trait RuleRows<'t>: Sized {
    /// One thing the rule planned.
    type Item;

    /// The table of its records; each row keeps the event that planned it
    /// from retention (the record is the account's history).
    const TABLE: &'static str;

    /// The rule's part of the plan.
    fn planned(plan: &Plan) -> &[Self::Item];

    fn prepare(transaction: &'t Transaction<'_>) -> rusqlite::Result<Self>;

    /// Writes one planned item of the event `event_seq`; wakes the rule's
    /// worker through `tx` when the row leaves it work.
    fn run(
        &mut self,
        tx: &Tx<'_>,
        event_seq: i64,
        instance: &InstanceName,
        item: &Self::Item,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<()>;
}
