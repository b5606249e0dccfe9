//! The store: every event, and every rule's records, kept durably.
//!
//! The rules, the workers and the routes use [`Store`] and never know which
//! backend runs it. This folder holds what every backend shares: the trait,
//! the records it hands out (one file per rule), the queries, and the
//! signals a commit sends the workers. Each backend's statements sit in a
//! folder of its own, with one file per rule named like the rule's file
//! here (`sqlite/`).

pub mod backends;
pub mod cancellations;
pub mod dashboard;
pub mod diagnostics;
pub mod events;
mod lease;
pub mod messages;
pub mod migrate;
mod model;
pub mod postgres;
pub mod replicas;
pub mod retention;
mod sql;
pub mod sqlite;
pub mod transfers;
pub mod upgrades;
mod wake;
pub mod whatsapp;

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::civil::Date;

use crate::domain::cancel::{OpenInvoice, Pending, Target};
use crate::domain::ids::{EventId, InstanceName};
use crate::domain::transfer::{Check, ClearedSubscription, Status as TransferStatus};

pub use lease::Held;
pub use model::{EventStatus, Inserted, NewEvent, StoreError};
pub use wake::{BUSY_INGEST_PER_S, FloodWatch, GIVE_WAY, Signals, Wake, Work};

use cancellations::{OpenCancellation, StoredCancellation};
use dashboard::Counts;
use diagnostics::{NewReport, StoredReport};
use events::{EventQuery, StoredEvent};
use messages::{Attempt, DueMessage, MessageQuery, Retry, Settled, StoredMessage};
use retention::Purged;
use transfers::{Actor, StepAlert, StoredStep, StoredTransfer};
use upgrades::{NewRequest, OpenRequest, PendingApplication, StoredApplication};
/// Where an install's reconciliation stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reconciliation {
    pub instance: String,
    pub since_ms: i64,
    pub passed_at_ms: i64,
    pub last_result: Option<String>,
}

use whatsapp::{Applied, DueInbound, InboundOutcome, InboundReport, StatusReport, StoredInbound};

/// What every call to the store returns.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Tables whose rows each belong to one instance: the admin API checks a
/// scoped token against a row's instance before acting on it.
#[derive(Debug, Clone, Copy)]
pub enum InstanceOwned {
    Messages,
    Upgrades,
    Cancellations,
    Transfers,
}

/// Filters and paging of a list of a rule's records (upgrades,
/// cancellations, transfers), in id order.
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    pub instance: Option<InstanceName>,
    pub status: Option<String>,
    pub service_id: Option<u64>,
    /// Only rows after this id (the previous page's cursor).
    pub after: Option<i64>,
    pub limit: u32,
}

/// One step of a transfer: its status moves `from` → `to` only if it
/// still is `from` (a compare-and-set), and the step is kept in its audit
/// trail with the checks made, a note and the alert it sends.
#[derive(Debug, Clone)]
pub struct TransferStep {
    pub transfer: StoredTransfer,
    /// The worker's hold on the transfer (`None`: a client's or staff's
    /// step, which only the status guards).
    pub held: Option<Held>,
    pub from: TransferStatus,
    pub to: TransferStatus,
    pub actor: Actor,
    pub checks: Vec<Check>,
    pub note: Option<String>,
    pub alert: Option<StepAlert>,
    /// Gateway subscriptions the move cleared, kept with the transfer.
    pub subscriptions_cleared: Vec<ClearedSubscription>,
    pub now: jiff::Timestamp,
}

/// The store as the rules, the workers and the routes use it, whichever
/// backend runs it. A write returns once it is durable; a write that
/// leaves a worker work wakes it through [`Store::signals`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// What the store's commits tell the workers.
    fn signals(&self) -> &Signals;

    /// This replica's name (host and a per-start ULID).
    fn replica(&self) -> &str;

    /// Whether this replica leads: runs what must run once (retention; on
    /// PostgreSQL also the rescue of a dead replica's work). SQLite's one
    /// process always does.
    fn is_leader(&self) -> bool;

    /// The replicas sharing the store, as this one sees them.
    async fn replicas(&self) -> Result<Vec<replicas::Replica>>;

    /// One heartbeat now (PostgreSQL beats every 3 s by itself): this
    /// replica is alive, takes or renews the leader's term, and as leader
    /// rescues a dead replica's work. Nothing to do on SQLite.
    async fn heartbeat(&self) -> Result<()>;

    /// Commits a write that changes nothing of value: proof that the
    /// database accepts writes (`/readyz`).
    async fn probe(&self) -> Result<()>;

    /// Commits what is queued, then takes no more writes (a graceful stop).
    async fn close(&self) -> Result<()>;

    // ----- events -----

    /// Stores `event`, with the rows its plan adds, unless its id is
    /// already stored; returns once the transaction holding it is durable.
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted>;
    /// Events in arrival order, without their bodies.
    async fn events(&self, query: EventQuery) -> Result<Vec<StoredEvent>>;
    /// One event with its body, by webhook-id.
    async fn event(&self, id: EventId) -> Result<Option<StoredEvent>>;
    /// The instance a row belongs to; `None` when there is no such row.
    async fn instance_of(&self, table: InstanceOwned, id: i64) -> Result<Option<String>>;

    // ----- messages (the outbox) -----

    /// At most `limit` planned messages due at `now`, oldest first.
    async fn due_messages(
        &self,
        now: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<(InstanceName, DueMessage)>>;
    /// When the earliest retry or deferral after `now` is due.
    async fn next_message_due_after(&self, now: jiff::Timestamp)
    -> Result<Option<jiff::Timestamp>>;
    /// At start: messages still `sending` become `uncertain`; how many.
    async fn mark_interrupted_messages(&self) -> Result<usize>;
    /// Committed before the Cloud API call, with the exact request body;
    /// false when the message is no longer this replica's to send.
    async fn mark_message_sending(&self, message: Held, body: String) -> Result<bool>;
    /// Writes each settled message's outcome (and its try), in one commit.
    async fn settle_messages(&self, settled: Vec<Settled>) -> Result<()>;
    /// Plans a dead, failed or uncertain message again (an operator's retry).
    async fn retry_message(&self, id: i64) -> Result<Option<Retry>>;
    /// Skips, with `reason`, the messages of event `event` still waiting to
    /// be sent (an operator cancelling the rest of a send); how many. One
    /// being sent meanwhile is not stopped.
    async fn cancel_planned_messages(
        &self,
        event: EventId,
        reason: String,
        now: jiff::Timestamp,
    ) -> Result<usize>;
    /// Messages in planning order.
    async fn messages(&self, query: MessageQuery) -> Result<Vec<StoredMessage>>;
    /// One message by its id.
    async fn message(&self, id: i64) -> Result<Option<StoredMessage>>;
    /// Every try to send message `id`, in order.
    async fn message_attempts(&self, id: i64) -> Result<Vec<Attempt>>;
    /// Alerts waiting to be sent, by instance.
    async fn message_backlog(&self) -> Result<BTreeMap<String, u64>>;

    // ----- upgrades -----

    /// Paid upgrades waiting to be applied, oldest first.
    async fn pending_upgrades(&self) -> Result<Vec<PendingApplication>>;
    /// Committed before `UpdateClientProduct` is called; false when the
    /// upgrade is no longer this replica's to apply.
    async fn mark_upgrade_applying(&self, upgrade: Held) -> Result<bool>;
    /// The upgrade is applied, with its alert; false when it was not
    /// `applying`.
    async fn mark_upgrade_applied(
        &self,
        upgrade: PendingApplication,
        now: jiff::Timestamp,
    ) -> Result<bool>;
    async fn mark_upgrade_retry(&self, upgrade: Held, error: String) -> Result<()>;
    async fn mark_upgrade_failed(&self, upgrade: Held, error: String) -> Result<()>;
    /// Plans a failed upgrade again (an operator's retry).
    async fn retry_upgrade(&self, id: i64) -> Result<Option<Retry>>;
    async fn upgrades(&self, query: RecordQuery) -> Result<Vec<StoredApplication>>;
    /// The open manual-upgrade request of a service, if any.
    async fn open_upgrade_request(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<Option<OpenRequest>>;
    /// Reserves the one open request of a service before its ticket is
    /// opened; `None` when another is open and not stale.
    async fn reserve_upgrade_request(
        &self,
        request: NewRequest,
        now: jiff::Timestamp,
        stale_before_ms: i64,
    ) -> Result<Option<i64>>;
    async fn upgrade_request_opened(
        &self,
        id: i64,
        ticket_id: u64,
        ticket_number: String,
    ) -> Result<()>;
    async fn upgrade_request_ended(
        &self,
        id: i64,
        status: &'static str,
        error: Option<String>,
        now: jiff::Timestamp,
    ) -> Result<()>;

    // ----- cancellations -----

    /// Cancellations the worker has something to do with.
    async fn open_cancellations(&self) -> Result<Vec<OpenCancellation>>;
    async fn cancellation_effective_date(&self, id: i64) -> Result<Option<Date>>;
    /// `requested` → `scheduled` with its date and open invoices (and its
    /// alert); false when it was no longer `requested`.
    async fn mark_cancellation_scheduled(
        &self,
        cancellation: OpenCancellation,
        effective_date: Date,
        open_invoices: Vec<OpenInvoice>,
        now: jiff::Timestamp,
    ) -> Result<bool>;
    /// Committed before WHMCS is asked to terminate; false when it is no
    /// longer this replica's, or no longer due.
    async fn mark_cancellation_terminating(
        &self,
        cancellation: Held,
        now: jiff::Timestamp,
    ) -> Result<bool>;
    async fn mark_cancellation_terminated(
        &self,
        cancellation: OpenCancellation,
        on: Date,
        alert: bool,
        now: jiff::Timestamp,
    ) -> Result<bool>;
    async fn mark_cancellation_retry(
        &self,
        cancellation: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()>;
    async fn mark_cancellation_failed(
        &self,
        cancellation: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()>;
    async fn mark_cancellation_withdrawn(
        &self,
        cancellation: Held,
        why: &'static str,
        now: jiff::Timestamp,
    ) -> Result<bool>;
    /// Plans a failed cancellation again (an operator's retry).
    async fn retry_cancellation(&self, id: i64, now: jiff::Timestamp) -> Result<Option<Retry>>;
    /// The open cancellation of a service, or the newest record of a
    /// domain's renewal being switched off.
    async fn current_cancellation(
        &self,
        instance: InstanceName,
        target: Target,
    ) -> Result<Option<StoredCancellation>>;
    /// The newest cancellation of a service or domain, whatever its status.
    async fn latest_cancellation(
        &self,
        instance: InstanceName,
        target: Target,
    ) -> Result<Option<StoredCancellation>>;
    async fn cancellation_by_event(&self, event_id: EventId) -> Result<Option<StoredCancellation>>;
    /// What holds a service's termination, if anything.
    async fn holding_cancellation(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<Option<Pending>>;
    async fn cancellations(&self, query: RecordQuery) -> Result<Vec<StoredCancellation>>;

    // ----- transfers -----

    /// A transfer of `instance`.
    async fn transfer(&self, instance: InstanceName, id: i64) -> Result<Option<StoredTransfer>>;
    async fn transfer_by_id(&self, id: i64) -> Result<Option<StoredTransfer>>;
    async fn transfer_by_event(&self, event_id: EventId) -> Result<Option<StoredTransfer>>;
    /// Whether a service has a transfer in flight.
    async fn transfer_open_for_service(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<bool>;
    /// Transfers the worker has something to do with.
    async fn open_transfers(&self) -> Result<Vec<StoredTransfer>>;
    /// A client's transfers: (outgoing, incoming).
    async fn transfers_of_client(
        &self,
        instance: InstanceName,
        client_id: u64,
    ) -> Result<(Vec<StoredTransfer>, Vec<StoredTransfer>)>;
    /// Takes `step` if the transfer still is in its `from` status.
    async fn take_transfer_step(&self, step: TransferStep) -> Result<bool>;
    /// A move that could not reach the addon: kept `moving`, with why.
    async fn note_transfer_move_failure(
        &self,
        transfer: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()>;
    async fn transfer_steps(&self, transfer_id: i64) -> Result<Vec<StoredStep>>;
    async fn transfers(&self, query: RecordQuery) -> Result<Vec<StoredTransfer>>;

    // ----- Meta's delivery statuses -----

    /// Applies one Meta webhook body's statuses, once per body.
    async fn apply_delivery_statuses(
        &self,
        body_sha256: Vec<u8>,
        reports: Vec<StatusReport>,
        inbound: Vec<InboundReport>,
        now: jiff::Timestamp,
    ) -> Result<Applied>;
    /// The newest messages clients sent, of one instance or all.
    async fn inbound_messages(
        &self,
        instance: Option<InstanceName>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>>;
    /// At most `limit` messages clients sent that are due at `now` to be
    /// acted on, oldest first, held for this replica.
    async fn due_inbound(&self, now: jiff::Timestamp, limit: u32) -> Result<Vec<DueInbound>>;
    /// What was made of a message the worker took; false when it was no
    /// longer this replica's (nothing written).
    async fn settle_inbound(&self, held: Held, outcome: InboundOutcome) -> Result<bool>;
    /// The WHMCS ticket of the latest message of this conversation (install,
    /// client, number) that opened or was added to one.
    async fn conversation_ticket(
        &self,
        instance: InstanceName,
        client_id: i64,
        from: String,
    ) -> Result<Option<i64>>;

    // ----- reconciliation -----

    /// Since when `instance`'s reconciliation compares invoices with the
    /// alerts their hooks planned; `None` before its first pass.
    async fn reconciled_since(&self, instance: InstanceName) -> Result<Option<jiff::Timestamp>>;
    /// Records a pass: the next compares from `since`; `result` says what
    /// this one found.
    async fn record_reconciliation(
        &self,
        instance: InstanceName,
        since: jiff::Timestamp,
        result: String,
        now: jiff::Timestamp,
    ) -> Result<()>;
    /// Each install's reconciliation: (instance, since, passed at, result).
    async fn reconciliations(&self) -> Result<Vec<Reconciliation>>;
    /// Which of `keys` an alert of `instance` was planned under.
    async fn planned_alert_keys(
        &self,
        instance: InstanceName,
        keys: Vec<String>,
    ) -> Result<Vec<String>>;

    // ----- diagnostics -----

    /// Keeps an install's report in place of its previous one.
    async fn keep_report(&self, report: NewReport) -> Result<()>;
    /// Every install's last report (or one install's), by instance.
    async fn latest_reports(&self, instance: Option<InstanceName>) -> Result<Vec<StoredReport>>;
    /// When each of `hooks` was last received from `instance`.
    async fn hooks_seen(
        &self,
        instance: InstanceName,
        hooks: Vec<String>,
    ) -> Result<Vec<(String, Option<jiff::Timestamp>)>>;

    // ----- the dashboard -----

    /// The overview's figures, of one instance or all.
    async fn overview(&self, instance: Option<InstanceName>) -> Result<Counts>;

    /// What alerts read at each scrape: each worker's due work and the
    /// dead letters, by instance, at `now`.
    async fn gauges(&self, now: jiff::Timestamp) -> Result<dashboard::Gauges>;
    /// Records `token` as spent until `expires` (Unix seconds); false when
    /// it already was.
    async fn spend_credential(&self, token: String, expires: i64, now: i64) -> Result<bool>;
    /// Whether `token` was spent and has not expired by `now`.
    async fn is_credential_spent(&self, token: String, now: i64) -> Result<bool>;

    // ----- retention -----

    /// The first `seq` received at or after `cutoff`.
    async fn retention_cutoff(&self, cutoff: jiff::Timestamp) -> Result<i64>;
    /// The next instance name that has events, after `after`.
    async fn next_instance_with_events(&self, after: String) -> Result<Option<String>>;
    /// Deletes one batch of `instance`'s events between `after` and
    /// `before` (exclusive) that nothing needs; what it deleted, and the
    /// last `seq` it examined (`None`: nothing was left).
    async fn purge_events(
        &self,
        instance: String,
        after: i64,
        before: i64,
    ) -> Result<(Purged, Option<i64>)>;
    /// Forgets one batch of Meta webhook bodies, and of messages clients
    /// sent, received before `cutoff`.
    async fn purge_notifications(&self, cutoff: jiff::Timestamp) -> Result<usize>;
}
