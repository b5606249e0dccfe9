//! The rows a stored event's plan adds, written in the event's own
//! transaction: the alerts (`messages::plan`), then each rule's rows
//! ([`RuleRows`]), one line per rule, so the writer does not change when a
//! rule is added.

use rusqlite::Transaction;

use super::cancellations::CancellationRows;
use super::messages;
use super::rows::RuleRows;
use super::transfers::TransferRows;
use super::tx::Tx;
use super::upgrades::UpgradeRows;
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;

/// The tables of the rules' records, in the order `record` writes them.
pub(super) const RECORD_TABLES: [&str; 3] = [
    UpgradeRows::TABLE,
    CancellationRows::TABLE,
    TransferRows::TABLE,
];

/// The statements of one transaction, each prepared on first use.
pub(super) struct PlanRows<'t, 'c> {
    transaction: &'t Transaction<'c>,
    messages: Option<messages::PlanStatements<'t>>,
    upgrades: Option<UpgradeRows<'t>>,
    cancellations: Option<CancellationRows<'t>>,
    transfers: Option<TransferRows<'t>>,
}

impl<'t, 'c> PlanRows<'t, 'c> {
    pub(super) fn new(transaction: &'t Transaction<'c>) -> Self {
        Self {
            transaction,
            messages: None,
            upgrades: None,
            cancellations: None,
            transfers: None,
        }
    }

    /// Stores what `plan` holds for the event `event_seq`; `tx` collects
    /// the workers the rows wake.
    pub(super) fn record(
        &mut self,
        tx: &Tx<'_>,
        event_seq: i64,
        instance: &InstanceName,
        plan: &Plan,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<()> {
        if !plan.alerts.is_empty() {
            let statements = match &mut self.messages {
                Some(statements) => statements,
                None => self
                    .messages
                    .insert(messages::PlanStatements::prepare(self.transaction)?),
            };
            for alert in &plan.alerts {
                statements.plan(tx, event_seq, instance.as_str(), alert, now)?;
            }
        }
        let event = Event {
            tx,
            seq: event_seq,
            instance,
            plan,
            now,
        };
        event.record(&mut self.upgrades, self.transaction)?;
        event.record(&mut self.cancellations, self.transaction)?;
        event.record(&mut self.transfers, self.transaction)?;
        Ok(())
    }
}

/// One accepted event, for each rule to write its rows of.
struct Event<'a, 'x> {
    tx: &'a Tx<'x>,
    seq: i64,
    instance: &'a InstanceName,
    plan: &'a Plan,
    now: jiff::Timestamp,
}

impl Event<'_, '_> {
    /// Writes rule `R`'s rows of the event, preparing its statements in
    /// `slot` on first use.
    fn record<'t, R: RuleRows<'t>>(
        &self,
        slot: &mut Option<R>,
        transaction: &'t Transaction<'_>,
    ) -> rusqlite::Result<()> {
        let items = R::planned(self.plan);
        if items.is_empty() {
            return Ok(());
        }
        let rows = match slot {
            Some(rows) => rows,
            None => slot.insert(R::prepare(transaction)?),
        };
        for item in items {
            rows.run(self.tx, self.seq, self.instance, item, self.now)?;
        }
        Ok(())
    }
}
