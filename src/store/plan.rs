//! The rows a stored event's plan adds, written in the event's own
//! transaction: one entry for every rule, so the writer does not change when
//! a rule is added.

use rusqlite::Transaction;

use super::cancellations::CancellationRows;
use super::messages;
use super::transfers::TransferRows;
use super::upgrades::ApplicationInsert;
use super::wake::Tx;
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;

/// The statements of one transaction, each prepared on first use.
pub(super) struct PlanRows<'t, 'c> {
    transaction: &'t Transaction<'c>,
    upgrades: Option<ApplicationInsert<'t>>,
    cancellations: Option<CancellationRows<'t>>,
    transfers: Option<TransferRows<'t>>,
}

impl<'t, 'c> PlanRows<'t, 'c> {
    pub(super) fn new(transaction: &'t Transaction<'c>) -> Self {
        Self {
            transaction,
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
        for alert in &plan.alerts {
            messages::plan(tx, event_seq, instance.as_str(), alert, now)?;
        }
        if !plan.upgrades.is_empty() {
            let upgrades = match &mut self.upgrades {
                Some(statement) => statement,
                None => self
                    .upgrades
                    .insert(ApplicationInsert::prepare(self.transaction)?),
            };
            for upgrade in &plan.upgrades {
                upgrades.run(tx, event_seq, instance, upgrade, now)?;
            }
        }
        if !plan.cancellations.is_empty() {
            let cancellations = match &mut self.cancellations {
                Some(statements) => statements,
                None => self
                    .cancellations
                    .insert(CancellationRows::prepare(self.transaction)?),
            };
            for observed in &plan.cancellations {
                cancellations.run(tx, event_seq, instance, observed, now)?;
            }
        }
        if !plan.transfers.is_empty() {
            let transfers = match &mut self.transfers {
                Some(statements) => statements,
                None => self
                    .transfers
                    .insert(TransferRows::prepare(self.transaction)?),
            };
            for transfer in &plan.transfers {
                transfers.run(tx, event_seq, instance, transfer, now)?;
            }
        }
        Ok(())
    }
}
