//! Transfers carried out: the preconditions' facts read through WHMCS's API
//! (and the service's upgrade rows through the addon), the addon's signed
//! `MoveService` that moves the service inside WHMCS (its API has no such
//! command), and the worker that expires unanswered requests and makes each
//! accepted move once. `moving` is committed before the call, and the move
//! is idempotent on the addon's side (`moved: false` when it already
//! happened), so a lost answer is simply asked again.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Budget, Turn};

use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::transfer::{self, ClearedSubscription, Status, Step};
use crate::metrics::Metrics;
use anyhow::Context as _;

use crate::store::transfers::{Actor, StepAlert, StoredTransfer};
use crate::store::{Store, TransferStep};
use crate::whmcs::addon::{MoveRequest, Moved};
use crate::whmcs::{AddonClient, AddonError};

/// What a failed write of this worker failed to record.
const STATE: &str = "cannot record the transfer's state";

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TransferReport {
    pub expired: usize,
    pub completed: usize,
    pub failed: usize,
    /// The addon could not be reached: asked again once its wait is over
    /// (see [`super::backoff`]).
    pub waiting: usize,
    /// The pass stopped at [`PASS_LIMIT`] moves: more are due now.
    pub more: bool,
}

/// Most moves one pass asks the addons for, so that the worker looks up (at
/// a flood of hooks, see [`super::run`]) between batches.
pub const PASS_LIMIT: usize = 100;

#[derive(Clone)]
pub struct TransferWorker {
    store: Arc<dyn Store>,
    addons: Arc<BTreeMap<InstanceName, AddonClient>>,
    metrics: Arc<Metrics>,
    /// Moves the addon could not be asked for yet, left alone a while: an
    /// unreachable addon is not asked again for every transfer on every
    /// wake.
    backoff: super::backoff::Backoff,
}

impl TransferWorker {
    pub fn new(
        store: Arc<dyn Store>,
        addons: Arc<BTreeMap<InstanceName, AddonClient>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            addons,
            metrics,
            backoff: super::backoff::Backoff::default(),
        }
    }

    /// Expires and moves what is due now.
    pub async fn drain(&self) -> anyhow::Result<TransferReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// Expires and moves what is due at `now`.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<TransferReport> {
        let open = self
            .store
            .open_transfers()
            .await
            .context("cannot read the open transfers")?;
        let mut report = TransferReport::default();
        let mut budget = Budget::new(&self.backoff, now, PASS_LIMIT);
        for transfer in open {
            let Some(status) = transfer.status() else {
                continue;
            };
            let approval = transfer.approval();
            let expires = transfer.expires();
            if transfer::step(
                status,
                Step::Expire,
                transfer::Party::System,
                approval,
                expires,
                now,
            )
            .is_ok()
            {
                let alert = StepAlert {
                    kind: AlertKind::TransferExpired,
                    to_owner: true,
                    to_recipient: false,
                };
                let expire = TransferStep {
                    alert: Some(alert),
                    ..system_step(&transfer, status, Status::Expired, now)
                };
                if self.store.take_transfer_step(expire).await.context(STATE)? {
                    self.metrics.record_transfer("expired", &transfer.instance);
                    report.expired += 1;
                }
                continue;
            }
            if matches!(status, Status::Accepted | Status::Approved | Status::Moving) {
                match budget.turn(transfer.id) {
                    Turn::Skip => continue,
                    Turn::Stop => break,
                    Turn::Go => {}
                }
            }
            let moving = match status {
                Status::Moving => true,
                Status::Accepted | Status::Approved => {
                    transfer::step(
                        status,
                        Step::StartMove,
                        transfer::Party::System,
                        approval,
                        expires,
                        now,
                    )
                    .is_ok()
                        && self
                            .store
                            .take_transfer_step(system_step(&transfer, status, Status::Moving, now))
                            .await
                            .context(STATE)?
                }
                _ => false,
            };
            if moving {
                budget.spend();
                match self.carry_out(&transfer, now).await? {
                    Status::Completed => report.completed += 1,
                    Status::Failed => report.failed += 1,
                    _ => {
                        self.backoff.wait(transfer.id, now);
                        report.waiting += 1;
                        continue;
                    }
                }
                self.backoff.done(transfer.id);
            }
        }
        report.waiting += budget.skipped;
        report.more = budget.more;
        Ok(report)
    }

    /// Asks the addon to move the service, and records what it said.
    async fn carry_out(
        &self,
        transfer: &StoredTransfer,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Status> {
        let id = transfer.id;
        let addon = InstanceName::parse(&transfer.instance)
            .ok()
            .and_then(|instance| self.addons.get(&instance));
        let asked = match addon {
            Some(addon) => {
                addon
                    .move_service(&MoveRequest {
                        transfer_id: transfer.id,
                        service_id: transfer.service_id,
                        from_client_id: transfer.owner_client_id,
                        to_client_id: transfer.recipient_client_id,
                        domain_id: transfer.domain_id,
                        recipient_email: &transfer.recipient_email,
                    })
                    .await
            }
            None => Err(AddonError::Unreachable(format!(
                "instance {} has no WHMCS URL (PUENTE_WHMCS_URL, …)",
                transfer.instance
            ))),
        };
        match asked {
            Ok(moved) => self.completed(transfer, moved, now).await,
            Err(AddonError::Refused { code, message }) => {
                let failed = TransferStep {
                    note: Some(format!("{code}: {message}")),
                    ..system_step(transfer, Status::Moving, Status::Failed, now)
                };
                self.store.take_transfer_step(failed).await.context(STATE)?;
                self.metrics.record_transfer("failed", &transfer.instance);
                tracing::warn!(transfer = id, %code, %message, "the addon refused the move");
                Ok(Status::Failed)
            }
            Err(AddonError::Unreachable(reason)) => {
                tracing::warn!(transfer = id, %reason, "move not made yet; will retry");
                self.store
                    .note_transfer_move_failure(transfer.held(), reason, now)
                    .await
                    .context(STATE)?;
                Ok(Status::Moving)
            }
        }
    }

    /// The move happened: the transfer is completed, with every gateway
    /// subscription it cleared in its audit trail for staff.
    async fn completed(
        &self,
        transfer: &StoredTransfer,
        moved: Moved,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Status> {
        let id = transfer.id;
        let mut note = if moved.moved {
            "moved by the addon".to_owned()
        } else {
            "the addon had moved it already".to_owned()
        };
        if !moved.subscriptions_cleared.is_empty() {
            note.push_str(&format!(
                "; gateway subscriptions cleared, to cancel at the gateway: {}",
                ClearedSubscription::describe(&moved.subscriptions_cleared)
            ));
        }
        let alert = StepAlert {
            kind: AlertKind::TransferCompleted,
            to_owner: true,
            to_recipient: true,
        };
        let completed = TransferStep {
            note: Some(note),
            alert: Some(alert),
            subscriptions_cleared: moved.subscriptions_cleared.clone(),
            ..system_step(transfer, Status::Moving, Status::Completed, now)
        };
        self.store
            .take_transfer_step(completed)
            .await
            .context(STATE)?;
        self.metrics
            .record_transfer("completed", &transfer.instance);
        tracing::info!(
            transfer = id,
            service = transfer.service_id,
            to = transfer.recipient_client_id,
            "service moved to its new owner"
        );
        if !moved.subscriptions_cleared.is_empty() {
            tracing::warn!(
                transfer = id,
                subscriptions = %ClearedSubscription::describe(&moved.subscriptions_cleared),
                "the move cleared gateway subscriptions; cancel them at the gateway"
            );
        }
        Ok(Status::Completed)
    }
}

impl super::Worker for TransferWorker {
    const NAME: &'static str = "transfers";
    const WORK: Option<crate::store::Work> = Some(crate::store::Work::Transfers);

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    async fn pass(&self) -> anyhow::Result<super::Pass> {
        Ok(super::Pass::done(self.drain().await?.more))
    }
}
/// A step the worker takes on its own: no checks, note or alert.
fn system_step(
    transfer: &StoredTransfer,
    from: Status,
    to: Status,
    now: jiff::Timestamp,
) -> TransferStep {
    TransferStep {
        transfer: transfer.clone(),
        held: Some(transfer.held()),
        from,
        to,
        actor: Actor::system(),
        checks: Vec::new(),
        note: None,
        alert: None,
        subscriptions_cleared: Vec::new(),
        now,
    }
}
