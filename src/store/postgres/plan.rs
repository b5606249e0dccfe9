//! The rows a stored event's plan adds, written in the event's own
//! transaction: the alerts (`messages::plan`), then each rule's rows, one
//! line per rule (SQLite's twin: `store/sqlite/plan.rs`). A batch's alerts
//! go first, all at once; the rules' rows follow event by event.

use super::sql::PgResult;
use super::tx::Tx;
use super::{cancellations, messages, transfers, upgrades};
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;

/// The tables of the rules' records, in the order `record` writes them;
/// each row keeps the event that planned it from retention.
pub(super) const RECORD_TABLES: [&str; 3] =
    [upgrades::TABLE, cancellations::TABLE, transfers::TABLE];

/// Stores the alerts of a batch's new events, all sent at once: one
/// statement each, so PostgreSQL runs them in order while the round trips
/// overlap. Each new event is (its `seq`, its instance, its plan).
pub(super) async fn record_alerts(
    tx: &Tx<'_>,
    events: &[(i64, &InstanceName, &Plan)],
    now: jiff::Timestamp,
) -> PgResult<()> {
    let planned = events.iter().flat_map(|(seq, instance, plan)| {
        plan.alerts
            .iter()
            .map(move |alert| messages::plan(tx, *seq, instance.as_str(), alert, now))
    });
    futures_util::future::try_join_all(planned).await?;
    Ok(())
}

/// Stores the rules' rows `plan` holds for the event `event_seq`, after
/// the alerts; `tx` collects the workers the rows wake.
pub(super) async fn record_rules(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &InstanceName,
    plan: &Plan,
    now: jiff::Timestamp,
) -> PgResult<()> {
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
