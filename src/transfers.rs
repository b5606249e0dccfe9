//! Transfers carried out: the preconditions' facts read through WHMCS's API,
//! the signed call to the addon's `action.php` that moves the service inside
//! WHMCS (its API has no such command), and the worker that expires
//! unanswered requests and makes each accepted move once. `moving` is
//! committed before the call, and the move is idempotent on the addon's
//! side (`moved: false` when it already happened), so a lost answer is
//! simply asked again.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::json;

use crate::config::Config;
use crate::domain::alerts::AlertKind;
use crate::domain::ids::InstanceName;
use crate::domain::transfer::{self, ClientFacts, Facts, Recipient, Status, Step};
use crate::metrics::Metrics;
use crate::signature;
use crate::store::transfers::{self, Actor, StepAlert, StoredTransfer};
use crate::store::{Database, Writer};
use crate::whmcs::{WhmcsClient, WhmcsError};

/// Unpaid invoices read per client: more than any client has open.
const UNPAID_INVOICES: u32 = 100;
/// Longest wait for the addon's move.
const MOVE_TIMEOUT: Duration = Duration::from_secs(30);

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
    let mut unpaid = Vec::new();
    for summary in whmcs
        .client_invoices(product.clientid, "Unpaid", UNPAID_INVOICES)
        .await?
    {
        let invoice = whmcs.invoice(summary.id).await?;
        let carries = invoice.items.iter().any(|item| {
            let relid = item.relid.unwrap_or_default();
            match item.kind.as_str() {
                "Hosting" | "PromoHosting" | "Setup" => relid == question.service_id,
                "Addon" => addons.contains(&relid),
                kind if kind.starts_with("Domain") => question.domain_id == Some(relid),
                _ => false,
            }
        });
        if carries {
            unpaid.push(invoice.id);
        }
    }
    unpaid.sort_unstable();
    let facts = Facts {
        service_id: question.service_id,
        service_client_id: product.clientid,
        service_status: product.status.clone(),
        owner,
        recipient,
        acting_user_id: question.acting_user_id,
        acting_client_id: question.acting_client_id,
        unpaid_invoices: unpaid,
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

/// What the addon's move answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// False: it had happened already (a repeated call).
    pub moved: bool,
    /// The gateway subscription the move cleared.
    pub subscription_cleared: Option<String>,
}

/// Why a move did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// The addon checked and refused (a precondition failed at move time).
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// No answer worth acting on: asked again on the next pass.
    #[error("{0}")]
    Unreachable(String),
}

/// Asks the addon of `instance` to move the transfer's service
/// (`MoveService`, SPEC §3.4), signed with the instance's first secret.
pub async fn ask_move(
    config: &Config,
    http: &reqwest::Client,
    transfer: &StoredTransfer,
) -> Result<Moved, MoveError> {
    let instance = InstanceName::parse(&transfer.instance)
        .map_err(|error| MoveError::Unreachable(error.to_string()))?;
    let api = config
        .instances
        .get(&instance)
        .and_then(|settings| settings.whmcs.as_ref())
        .ok_or_else(|| {
            MoveError::Unreachable(format!(
                "instance {instance} has no WHMCS URL (PUENTE_WHMCS_URL, …)"
            ))
        })?;
    let secret = config
        .secrets_for(Some(&instance))
        .first()
        .ok_or_else(|| MoveError::Unreachable("no signing secret".into()))?;
    let mut url = api.url.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    let url = url
        .join("modules/addons/puente/action.php")
        .map_err(|error| MoveError::Unreachable(error.to_string()))?;
    let id = format!("move_{}", transfer.id);
    let body = json!({
        "type": "MoveService",
        "data": {
            "transfer_id": transfer.id,
            "service_id": transfer.service_id,
            "from_client_id": transfer.owner_client_id,
            "to_client_id": transfer.recipient_client_id,
            "domain_id": transfer.domain_id,
            "recipient_email": transfer.recipient_email,
        },
    })
    .to_string();
    let timestamp = jiff::Timestamp::now().as_second();
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(secret, &id, timestamp, body.as_bytes()),
        )
        .header("puente-instance", instance.as_str())
        .timeout(MOVE_TIMEOUT)
        .body(body)
        .send()
        .await
        .map_err(|error| MoveError::Unreachable(error.without_url().to_string()))?;
    let status = response.status();
    #[derive(Deserialize)]
    struct Answer {
        result: String,
        #[serde(default)]
        moved: bool,
        #[serde(default)]
        subscription_cleared: Option<String>,
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let answer: Option<Answer> = response.json().await.ok();
    match answer {
        Some(answer) if answer.result == "success" => Ok(Moved {
            moved: answer.moved,
            subscription_cleared: answer.subscription_cleared.filter(|id| !id.is_empty()),
        }),
        // The addon checked and said no: a rule (409) or a request it
        // cannot take (400), not an outage.
        Some(answer) if status.is_success() || matches!(status.as_u16(), 400 | 409) => {
            Err(MoveError::Refused {
                code: answer.code,
                message: answer.message,
            })
        }
        Some(answer) => Err(MoveError::Unreachable(format!(
            "HTTP {status}: {} {}",
            answer.code, answer.message
        ))),
        None => Err(MoveError::Unreachable(format!(
            "HTTP {status} without the addon's answer"
        ))),
    }
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
    config: Arc<Config>,
    database: Database,
    writer: Writer,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
}

impl TransferWorker {
    pub fn new(
        config: Arc<Config>,
        database: Database,
        writer: Writer,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("puente/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            config,
            database,
            writer,
            http,
            metrics,
        })
    }

    /// Resolves when a transfer has a move to make.
    pub async fn planned_transfers(&self) {
        self.writer.planned_transfers().await;
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
                    self.writer.alert_planned();
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
        match ask_move(&self.config, &self.http, transfer).await {
            Ok(moved) => {
                let note = if moved.moved {
                    "moved by the addon"
                } else {
                    "the addon had moved it already"
                };
                let done = transfer.clone();
                let subscription = moved.subscription_cleared.clone();
                let alert = StepAlert {
                    kind: AlertKind::TransferCompleted,
                    to_owner: true,
                    to_recipient: true,
                };
                self.change(move |c| {
                    if let Some(subscription) = &subscription {
                        transfers::note_subscription_cleared(c, id, subscription)?;
                    }
                    transfers::take_step(
                        c,
                        &done,
                        Status::Moving,
                        Status::Completed,
                        Actor::system(),
                        &[],
                        Some(note),
                        Some(alert),
                        now,
                    )
                })
                .await?;
                self.writer.alert_planned();
                self.metrics
                    .record_transfer("completed", &transfer.instance);
                tracing::info!(
                    transfer = id,
                    service = transfer.service_id,
                    to = transfer.recipient_client_id,
                    "service moved to its new owner"
                );
                if let Some(subscription) = moved.subscription_cleared {
                    tracing::warn!(transfer = id, %subscription, "the move cleared a gateway subscription; cancel it at the gateway");
                }
                Ok(Status::Completed)
            }
            Err(MoveError::Refused { code, message }) => {
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
            Err(MoveError::Unreachable(reason)) => {
                tracing::warn!(transfer = id, %reason, "move not made yet; will retry");
                self.change(move |c| transfers::note_move_failure(c, id, &reason, now))
                    .await?;
                Ok(Status::Moving)
            }
        }
    }

    async fn change<T, F>(&self, change: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
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
