//! The rows a stored event's plan adds, written in the event's own
//! transaction: the alerts (`messages::plan`), then each rule's rows, one
//! line per rule (SQLite's twin: `store/sqlite/plan.rs`).

use super::sql::PgResult;
use super::tx::Tx;
use super::{cancellations, messages, transfers, upgrades};
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;

/// The tables of the rules' records, in the order `record` writes them;
/// each row keeps the event that planned it from retention.
pub(super) const RECORD_TABLES: [&str; 3] =
    [upgrades::TABLE, cancellations::TABLE, transfers::TABLE];

/// Stores what `plan` holds for the event `event_seq`; `tx` collects the
/// workers the rows wake.
pub(super) async fn record(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &InstanceName,
    plan: &Plan,
    now: jiff::Timestamp,
) -> PgResult<()> {
    for alert in &plan.alerts {
        messages::plan(tx, event_seq, instance.as_str(), alert, now).await?;
    }
    for item in upgrades::planned(plan) {
        upgrades::record(tx, event_seq, instance, item, now).await?;
    }
    for item in cancellations::planned(plan) {
        cancellations::record(tx, event_seq, instance, item, now).await?;
    }
    for item in transfers::planned(plan) {
        transfers::record(tx, event_seq, instance, item, now).await?;
    }
    Ok(())
}
