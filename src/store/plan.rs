//! The rows a stored event's plan adds, written in the event's own
//! transaction: one entry for every rule, so the writer does not change when
//! a rule is added.

use std::ops::BitOrAssign;

use rusqlite::Transaction;

use super::cancellations::CancellationRows;
use super::messages::PlanInsert;
use super::transfers::TransferRows;
use super::upgrades::ApplicationInsert;
use crate::domain::ids::InstanceName;
use crate::domain::plan::Plan;

/// Which workers a commit left work for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Wake {
    pub alerts: bool,
    pub upgrades: bool,
    pub cancellations: bool,
}

impl BitOrAssign for Wake {
    fn bitor_assign(&mut self, other: Self) {
        self.alerts |= other.alerts;
        self.upgrades |= other.upgrades;
        self.cancellations |= other.cancellations;
    }
}

/// The statements of one transaction, each prepared on first use.
pub(super) struct PlanRows<'t, 'c> {
    transaction: &'t Transaction<'c>,
    alerts: Option<PlanInsert<'t>>,
    upgrades: Option<ApplicationInsert<'t>>,
    cancellations: Option<CancellationRows<'t>>,
    transfers: Option<TransferRows<'t>>,
}

impl<'t, 'c> PlanRows<'t, 'c> {
    pub(super) fn new(transaction: &'t Transaction<'c>) -> Self {
        Self {
            transaction,
            alerts: None,
            upgrades: None,
            cancellations: None,
            transfers: None,
        }
    }

    /// Stores what `plan` holds for the event `event_seq`.
    pub(super) fn record(
        &mut self,
        event_seq: i64,
        instance: &InstanceName,
        plan: &Plan,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<Wake> {
        let mut wake = Wake::default();
        if !plan.alerts.is_empty() {
            let alerts = match &mut self.alerts {
                Some(statement) => statement,
                None => self.alerts.insert(PlanInsert::prepare(self.transaction)?),
            };
            for alert in &plan.alerts {
                wake.alerts |= alerts.run(event_seq, instance, alert, now)?;
            }
        }
        if !plan.upgrades.is_empty() {
            let upgrades = match &mut self.upgrades {
                Some(statement) => statement,
                None => self
                    .upgrades
                    .insert(ApplicationInsert::prepare(self.transaction)?),
            };
            for upgrade in &plan.upgrades {
                wake.upgrades |= upgrades.run(event_seq, instance, upgrade, now)?;
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
                wake.cancellations |= cancellations.run(event_seq, instance, observed, now)?;
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
                // The recipient's alert is planned only with the transfer.
                wake.alerts |= transfers.run(event_seq, instance, transfer, now)?;
            }
        }
        Ok(wake)
    }
}
