//! Transfers carried out: the preconditions' facts read through WHMCS's API
//! (and the service's upgrade rows through the addon), the addon's signed
//! `MoveService` that moves the service inside WHMCS (its API has no such
//! command), and the worker that expires unanswered requests and makes each
//! accepted move once. `moving` is committed before the call, and the move
//! is idempotent on the addon's side (`moved: false` when it already
//! happened), so a lost answer is simply asked again.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;

use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::invoices::{ServiceLines, UpgradeRow};
use crate::domain::transfer::{
    self, ClearedSubscription, ClientFacts, Facts, Recipient, Status, Step,
};
use crate::metrics::Metrics;
use crate::store::transfers::{self, Actor, StepAlert, StoredTransfer};
use crate::store::{Database, Writer};
use crate::whmcs::addon::{MoveRequest, Moved};
use crate::whmcs::{AddonClient, AddonError, WhmcsClient, WhmcsError};

/// What the service is called and where it points, for the clients' pages
/// and alerts.
#[derive(Debug, Clone, Default)]
pub struct ServiceNames {
    pub name: String,
    pub domain: String,
}

/// What a step asks of WHMCS.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    pub service_id: u64,
    /// Who should own the service (the one asking, at request time).
    pub owner_client_id: u64,
    pub recipient_email: &'a str,
    /// At acceptance: the client the request named.
    pub expected_recipient: Option<u64>,
    pub acting_client_id: u64,
    pub acting_user_id: Option<u64>,
    pub domain_id: Option<u64>,
    pub other_transfer_open: bool,
    /// The service's upgrade rows, as the addon read them.
    pub upgrades: &'a [UpgradeRow],
}

/// The facts every precondition reads; `None` when WHMCS has no such
/// service.
pub async fn facts(
    whmcs: &WhmcsClient,
    question: &Question<'_>,
) -> Result<Option<(Facts, ServiceNames)>, WhmcsError> {
    let Some(product) = whmcs.product(question.service_id).await? else {
        return Ok(None);
    };
    let owner = client(whmcs, question.owner_client_id).await?;
    let found = whmcs.clients_by_email(question.recipient_email).await?;
    let recipient = match found.as_slice() {
        [] => Recipient::NotFound,
        [one] if question.expected_recipient.is_none_or(|id| id == one.id) => {
            Recipient::Found(client(whmcs, one.id).await?)
        }
        // At acceptance the email now names someone else.
        [_] => Recipient::NotFound,
        _ => Recipient::Ambiguous,
    };
    let addons = whmcs.service_addons(question.service_id).await?;
    let domain = match question.domain_id {
        Some(id) => whmcs
            .domain(id)
            .await?
            .map(|domain| (domain.id, domain.userid, domain.status))
            .or(Some((id, 0, String::new()))),
        None => None,
    };
    let lines = ServiceLines::new(
        question.service_id,
        addons,
        question.domain_id,
        question.upgrades,
    );
    let open = whmcs.open_invoices_of(product.clientid, &lines).await?;
    let facts = Facts {
        service_id: question.service_id,
        service_client_id: product.clientid,
        service_status: product.status.clone(),
        owner,
        recipient,
        acting_user_id: question.acting_user_id,
        acting_client_id: question.acting_client_id,
        unpaid_invoices: open.ids(),
        open_invoices_complete: open.complete,
        other_transfer_open: question.other_transfer_open,
        domain,
    };
    Ok(Some((
        facts,
        ServiceNames {
            name: product.name,
            domain: product.domain,
        },
    )))
}

async fn client(whmcs: &WhmcsClient, id: u64) -> Result<ClientFacts, WhmcsError> {
    let details = whmcs.client_details(id).await?;
    Ok(ClientFacts {
        id: details.id,
        status: details.status,
        owner_user_id: details.owner_user_id,
        language: details.language,
    })
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TransferReport {
    pub expired: usize,
    pub completed: usize,
    pub failed: usize,
    /// The addon could not be reached: asked again on the next pass.
    pub waiting: usize,
}

#[derive(Clone)]
pub struct TransferWorker {
    database: Database,
    writer: Writer,
    addons: Arc<BTreeMap<InstanceName, AddonClient>>,
    metrics: Arc<Metrics>,
}

impl TransferWorker {
    pub fn new(
        database: Database,
        writer: Writer,
        addons: Arc<BTreeMap<InstanceName, AddonClient>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            database,
            writer,
            addons,
            metrics,
        }
    }

    /// Resolves when a transfer has a move to make.
    pub async fn planned_transfers(&self) {
        self.writer.woken(crate::store::Work::Transfers).await;
    }

    /// Expires and moves what is due now.
    pub async fn drain(&self) -> anyhow::Result<TransferReport> {
        self.drain_at(jiff::Timestamp::now()).await
    }

    /// Expires and moves what is due at `now`.
    pub async fn drain_at(&self, now: jiff::Timestamp) -> anyhow::Result<TransferReport> {
        let database = self.database.clone();
        let open = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let connection = database.reader()?;
            Ok(transfers::open(&connection)?)
        })
        .await
        .context("the transfer query stopped")??;
        let mut report = TransferReport::default();
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
                let expired = transfer.clone();
                let alert = StepAlert {
                    kind: AlertKind::TransferExpired,
                    to_owner: true,
                    to_recipient: false,
                };
                if self
                    .change(move |c| {
                        transfers::take_step(
                            c,
                            &expired,
                            status,
                            Status::Expired,
                            Actor::system(),
                            &[],
                            None,
                            Some(alert),
                            now,
                        )
                    })
                    .await?
                {
                    self.metrics.record_transfer("expired", &transfer.instance);
                    report.expired += 1;
                }
                continue;
            }
            let moving = match status {
                Status::Moving => true,
                Status::Accepted | Status::Approved => {
                    let starting = transfer.clone();
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
                            .change(move |c| {
                                transfers::take_step(
                                    c,
                                    &starting,
                                    status,
                                    Status::Moving,
                                    Actor::system(),
                                    &[],
                                    None,
                                    None,
                                    now,
                                )
                            })
                            .await?
                }
                _ => false,
            };
            if moving {
                match self.carry_out(&transfer, now).await? {
                    Status::Completed => report.completed += 1,
                    Status::Failed => report.failed += 1,
                    _ => report.waiting += 1,
                }
            }
        }
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
                let failed = transfer.clone();
                let note = format!("{code}: {message}");
                self.change(move |c| {
                    transfers::take_step(
                        c,
                        &failed,
                        Status::Moving,
                        Status::Failed,
                        Actor::system(),
                        &[],
                        Some(&note),
                        None,
                        now,
                    )
                })
                .await?;
                self.metrics.record_transfer("failed", &transfer.instance);
                tracing::warn!(transfer = id, %code, %message, "the addon refused the move");
                Ok(Status::Failed)
            }
            Err(AddonError::Unreachable(reason)) => {
                tracing::warn!(transfer = id, %reason, "move not made yet; will retry");
                self.change(move |c| transfers::note_move_failure(c, id, &reason, now))
                    .await?;
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
        let done = transfer.clone();
        let cleared = moved.subscriptions_cleared.clone();
        let alert = StepAlert {
            kind: AlertKind::TransferCompleted,
            to_owner: true,
            to_recipient: true,
        };
        self.change(move |c| {
            if !cleared.is_empty() {
                transfers::note_subscriptions_cleared(c, id, &cleared)?;
            }
            transfers::take_step(
                c,
                &done,
                Status::Moving,
                Status::Completed,
                Actor::system(),
                &[],
                Some(&note),
                Some(alert),
                now,
            )
        })
        .await?;
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

    async fn change<T, F>(&self, change: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&crate::store::Tx<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer
            .change(change)
            .await
            .context("cannot record the transfer's state")
    }
}

/// Expires and moves whenever a step asks for it, and every minute.
pub async fn run(worker: TransferWorker) {
    loop {
        if let Err(error) = worker.drain().await {
            tracing::error!(error = %format!("{error:#}"), "transfer pass failed");
        }
        tokio::select! {
            () = worker.planned_transfers() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}
