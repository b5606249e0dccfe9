//! The upgrade worker: carries out the paid upgrades the ingest recorded
//! (`upgrade_applications`). Under a policy that restarts the period it sets
//! the new next due date and recurring amount with `UpdateClientProduct`;
//! then it records the upgrade as applied and plans the client's "upgrade
//! applied" alert in the same transaction. `applying` is committed before
//! the WHMCS call; after an interruption WHMCS's service is read first and
//! the call is made again only if the values are not there yet (it sets
//! absolute values, so even then nothing is applied twice), and an applied
//! upgrade is never called again.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Budget, Turn};

use crate::domain::ids::InstanceName;
use crate::metrics::Metrics;
use anyhow::Context as _;

use crate::store::Store;
use crate::store::upgrades::PendingApplication;
use crate::whmcs::{WhmcsClient, WhmcsError};

/// What a failed write of this worker failed to record.
const STATE: &str = "cannot record the upgrade's state";

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub applied: usize,
    /// WHMCS refused the change: kept as `failed` with its answer.
    pub failed: usize,
    /// WHMCS unreachable or not configured: tried again on the next pass.
    pub waiting: usize,
    /// The pass stopped at [`PASS_LIMIT`] tries: more are due now.
    pub more: bool,
}

/// Most upgrades one pass takes to WHMCS, so that the worker looks up (at
/// a flood of hooks, see [`super::run`]) between batches.
pub const PASS_LIMIT: usize = 100;

#[derive(Clone)]
pub struct UpgradeWorker {
    store: Arc<dyn Store>,
    whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
    metrics: Arc<Metrics>,
    /// Upgrades WHMCS could not take yet, left alone a while.
    backoff: crate::workers::backoff::Backoff,
}

impl UpgradeWorker {
    pub fn new(
        store: Arc<dyn Store>,
        whmcs: Arc<BTreeMap<InstanceName, WhmcsClient>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            whmcs,
            metrics,
            backoff: crate::workers::backoff::Backoff::default(),
        }
    }

    /// Carries out every recorded upgrade not yet applied, once (those
    /// that had to wait for WHMCS when their wait is over).
    pub async fn drain(&self) -> anyhow::Result<ApplyReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// As [`UpgradeWorker::drain`], as of `now`.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<ApplyReport> {
        let pending = self
            .store
            .pending_upgrades()
            .await
            .context("cannot read the upgrades to apply")?;
        let mut report = ApplyReport::default();
        let mut budget = Budget::new(&self.backoff, now, PASS_LIMIT);
        for upgrade in pending {
            match budget.turn(upgrade.id) {
                Turn::Skip => continue,
                Turn::Stop => break,
                Turn::Go => budget.spend(),
            }
            match self.apply(&upgrade).await? {
                Applied::Done => report.applied += 1,
                Applied::Refused => report.failed += 1,
                Applied::Elsewhere => continue,
                Applied::Later => {
                    self.backoff.wait(upgrade.id, now);
                    report.waiting += 1;
                    continue;
                }
            }
            self.backoff.done(upgrade.id);
        }
        report.waiting += budget.skipped;
        report.more = budget.more;
        Ok(report)
    }

    async fn apply(&self, upgrade: &PendingApplication) -> anyhow::Result<Applied> {
        let fields = whmcs_fields(upgrade);
        if !fields.is_empty() {
            let Some(whmcs) = InstanceName::parse(&upgrade.instance)
                .ok()
                .and_then(|name| self.whmcs.get(&name))
            else {
                let reason = format!(
                    "instance {} has no WHMCS API settings (PUENTE_WHMCS_URL, …)",
                    upgrade.instance
                );
                self.store
                    .mark_upgrade_retry(upgrade.held(), reason)
                    .await
                    .context(STATE)?;
                return Ok(Applied::Later);
            };
            if upgrade.interrupted && already_in_whmcs(whmcs, upgrade).await {
                tracing::info!(
                    upgrade = upgrade.upgrade_id,
                    "an interrupted upgrade had reached WHMCS"
                );
                return self.applied(upgrade).await;
            }
            if !self
                .store
                .mark_upgrade_applying(upgrade.held())
                .await
                .context(STATE)?
            {
                // Another replica took it over (or an operator moved it).
                return Ok(Applied::Elsewhere);
            }
            match whmcs
                .update_client_product(upgrade.service_id, &fields)
                .await
            {
                Ok(()) => {}
                Err(error @ WhmcsError::Rejected { .. }) => {
                    tracing::error!(upgrade = upgrade.upgrade_id, service = upgrade.service_id, %error, "WHMCS refused the upgrade's new due date");
                    self.metrics
                        .record_upgrade("apply_failed", &upgrade.instance);
                    let reason = error.to_string();
                    self.store
                        .mark_upgrade_failed(upgrade.held(), reason)
                        .await
                        .context(STATE)?;
                    return Ok(Applied::Refused);
                }
                Err(error) => {
                    tracing::warn!(upgrade = upgrade.upgrade_id, %error, "upgrade not applied yet; will retry");
                    let reason = error.to_string();
                    self.store
                        .mark_upgrade_retry(upgrade.held(), reason)
                        .await
                        .context(STATE)?;
                    return Ok(Applied::Later);
                }
            }
        }
        self.applied(upgrade).await
    }

    /// Records an upgrade as applied, with the client's alert.
    async fn applied(&self, upgrade: &PendingApplication) -> anyhow::Result<Applied> {
        let now = jiff::Timestamp::now();
        let applied = upgrade.clone();
        self.store
            .mark_upgrade_applied(applied, now)
            .await
            .context(STATE)?;
        self.metrics.record_upgrade("applied", &upgrade.instance);
        tracing::info!(
            upgrade = upgrade.upgrade_id,
            service = upgrade.service_id,
            next_due_date = upgrade.next_due_date.as_deref().unwrap_or("unchanged"),
            "upgrade applied"
        );
        Ok(Applied::Done)
    }
}

enum Applied {
    Done,
    Refused,
    Later,
    /// No longer this replica's to apply: nothing was called.
    Elsewhere,
}

/// Whether WHMCS's service already has the values an interrupted call was
/// setting (read errors count as no: the call is made again).
async fn already_in_whmcs(whmcs: &WhmcsClient, upgrade: &PendingApplication) -> bool {
    let Ok(Some(service)) = whmcs.product(upgrade.service_id).await else {
        return false;
    };
    let due = service.nextduedate.map(|date| date.to_string());
    let amount_matches = upgrade.recurring_amount.as_deref().is_none_or(|amount| {
        amount
            .parse::<rust_decimal::Decimal>()
            .is_ok_and(|amount| amount == service.recurringamount)
    });
    due.as_deref() == upgrade.next_due_date.as_deref()
        && service
            .billingcycle
            .eq_ignore_ascii_case(&upgrade.billing_cycle)
        && amount_matches
}

/// The `UpdateClientProduct` fields of a restarted period; none when the
/// policy keeps WHMCS's due date.
fn whmcs_fields(upgrade: &PendingApplication) -> Vec<(&'static str, String)> {
    let Some(next_due_date) = &upgrade.next_due_date else {
        return Vec::new();
    };
    let mut fields = vec![
        ("nextduedate", next_due_date.clone()),
        ("billingcycle", upgrade.billing_cycle.clone()),
    ];
    if let Some(amount) = &upgrade.recurring_amount {
        fields.push(("recurringamount", amount.clone()));
    }
    fields
}

impl super::Worker for UpgradeWorker {
    const NAME: &'static str = "upgrades";
    const WORK: Option<crate::store::Work> = Some(crate::store::Work::Upgrades);

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    async fn pass(&self) -> anyhow::Result<super::Pass> {
        Ok(super::Pass::done(self.drain().await?.more))
    }
}
