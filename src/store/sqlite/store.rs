//! [`Store`] on SQLite: reads on a blocking thread with a read-only
//! connection of their own, writes through the one writer thread's group
//! transaction.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use jiff::civil::Date;
use rusqlite::Connection;

use super::database::Database;
use super::tx::Tx;
use super::writer::{Writer, WriterThread};
use super::{
    cancellations, dashboard, diagnostics, events, messages, retention, transfers, upgrades,
    whatsapp,
};
use crate::domain::cancel::{OpenInvoice, Pending, Target};
use crate::domain::ids::{EventId, InstanceName};
use crate::metrics::Metrics;
use crate::store::cancellations::{OpenCancellation, StoredCancellation};
use crate::store::dashboard::{Counts, Gauges};
use crate::store::diagnostics::{NewReport, StoredReport};
use crate::store::events::{EventQuery, StoredEvent};
use crate::store::messages::{Attempt, DueMessage, MessageQuery, Retry, Settled, StoredMessage};
use crate::store::replicas::Replica;
use crate::store::retention::Purged;
use crate::store::transfers::{StoredStep, StoredTransfer};
use crate::store::upgrades::{NewRequest, OpenRequest, PendingApplication, StoredApplication};
use crate::store::whatsapp::{
    Applied, DueInbound, InboundOutcome, InboundReport, StatusReport, StoredInbound,
};
use crate::store::{
    Held, Inserted, InstanceOwned, NewEvent, RecordQuery, Result, Signals, Store, StoreError,
    TransferStep,
};

/// The store on one SQLite file.
pub struct Sqlite {
    /// This process's name: the one replica, and always the leader.
    replica: String,
    started: jiff::Timestamp,
    database: Database,
    writer: Writer,
    /// The writer thread, until [`Store::close`] stops it.
    thread: Mutex<Option<WriterThread>>,
}

impl Sqlite {
    /// Opens (and migrates) the database and starts its writer thread.
    pub fn open(database: Database, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let thread = WriterThread::start(&database, Arc::clone(&metrics))?;
        let replica = format!("sqlite-{}", ulid::Ulid::generate());
        // The one replica, and the leader as long as it runs.
        metrics.record_replicas([(replica.as_str(), 0, true)]);
        Ok(Self {
            replica,
            started: jiff::Timestamp::now(),
            database,
            writer: thread.writer(),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The database file's settings.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Runs a read-only query on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || {
            let connection = database
                .reader()
                .map_err(|error| StoreError::Read(format!("{error:#}")))?;
            query(&connection).map_err(|error| StoreError::Read(error.to_string()))
        })
        .await
        .map_err(|_| StoreError::Read("the query stopped".to_owned()))?
    }

    /// Runs `change` in the writer's next group transaction.
    async fn change<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Tx<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        self.writer.change(change).await
    }
}

#[async_trait]
impl Store for Sqlite {
    fn signals(&self) -> &Signals {
        self.writer.signals()
    }

    fn replica(&self) -> &str {
        &self.replica
    }

    fn is_leader(&self) -> bool {
        true
    }

    async fn replicas(&self) -> Result<Vec<Replica>> {
        Ok(vec![Replica {
            id: self.replica.clone(),
            host: "this process (SQLite)".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: self.started.to_string(),
            heartbeat_age_ms: 0,
            alive: true,
            leader: true,
            this: true,
        }])
    }

    async fn heartbeat(&self) -> Result<()> {
        Ok(())
    }

    async fn probe(&self) -> Result<()> {
        self.writer.probe().await
    }

    async fn close(&self) -> Result<()> {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            tokio::task::spawn_blocking(move || thread.stop())
                .await
                .map_err(|_| StoreError::Write("the writer did not stop cleanly".to_owned()))?;
        }
        Ok(())
    }

    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        self.writer.insert(event).await
    }

    async fn events(&self, query: EventQuery) -> Result<Vec<StoredEvent>> {
        self.read(move |c| events::list(c, &query)).await
    }

    async fn event(&self, id: EventId) -> Result<Option<StoredEvent>> {
        self.read(move |c| events::get(c, &id)).await
    }

    async fn instance_of(&self, table: InstanceOwned, id: i64) -> Result<Option<String>> {
        self.read(move |c| instance_of(c, table, id)).await
    }

    async fn due_messages(
        &self,
        now: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<(InstanceName, DueMessage)>> {
        self.read(move |c| messages::due(c, now, limit)).await
    }

    async fn next_message_due_after(
        &self,
        now: jiff::Timestamp,
    ) -> Result<Option<jiff::Timestamp>> {
        self.read(move |c| messages::next_due_after(c, now)).await
    }

    async fn mark_interrupted_messages(&self) -> Result<usize> {
        self.change(|c| messages::mark_interrupted(c)).await
    }

    async fn mark_message_sending(&self, message: Held, body: String) -> Result<bool> {
        self.change(move |c| messages::mark_sending(c, message.id, &body))
            .await
    }

    async fn settle_messages(&self, settled: Vec<Settled>) -> Result<()> {
        self.change(move |c| messages::settle(c, &settled)).await
    }

    async fn retry_message(&self, id: i64) -> Result<Option<Retry>> {
        self.change(move |c| messages::retry(c, id)).await
    }

    async fn cancel_planned_messages(
        &self,
        event: EventId,
        reason: String,
        now: jiff::Timestamp,
    ) -> Result<usize> {
        self.change(move |c| {
            c.prepare_cached(
                "UPDATE messages SET status = 'skipped', reason = ?2, status_at_ms = ?3
                  WHERE event_seq = (SELECT seq FROM events WHERE id = ?1) AND status = 'planned'",
            )?
            .execute(rusqlite::params![
                event.as_str(),
                reason,
                now.as_millisecond()
            ])
        })
        .await
    }

    async fn messages(&self, query: MessageQuery) -> Result<Vec<StoredMessage>> {
        self.read(move |c| messages::list(c, &query)).await
    }

    async fn message(&self, id: i64) -> Result<Option<StoredMessage>> {
        self.read(move |c| messages::get(c, id)).await
    }

    async fn message_attempts(&self, id: i64) -> Result<Vec<Attempt>> {
        self.read(move |c| messages::attempts(c, id)).await
    }

    async fn message_backlog(&self) -> Result<BTreeMap<String, u64>> {
        self.read(messages::backlog).await
    }

    async fn pending_upgrades(&self) -> Result<Vec<PendingApplication>> {
        self.read(upgrades::pending).await
    }

    async fn mark_upgrade_applying(&self, upgrade: Held) -> Result<bool> {
        self.change(move |c| upgrades::mark_applying(c, upgrade.id))
            .await
    }

    async fn mark_upgrade_applied(
        &self,
        upgrade: PendingApplication,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        self.change(move |c| upgrades::mark_applied(c, &upgrade, now))
            .await
    }

    async fn mark_upgrade_retry(&self, upgrade: Held, error: String) -> Result<()> {
        self.change(move |c| upgrades::mark_retry(c, upgrade.id, &error))
            .await
    }

    async fn mark_upgrade_failed(&self, upgrade: Held, error: String) -> Result<()> {
        self.change(move |c| upgrades::mark_failed(c, upgrade.id, &error))
            .await
    }

    async fn retry_upgrade(&self, id: i64) -> Result<Option<Retry>> {
        self.change(move |c| upgrades::retry(c, id)).await
    }

    async fn upgrades(&self, query: RecordQuery) -> Result<Vec<StoredApplication>> {
        self.read(move |c| upgrades::list(c, &query)).await
    }

    async fn open_upgrade_request(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<Option<OpenRequest>> {
        self.read(move |c| upgrades::open_request(c, instance.as_str(), service_id))
            .await
    }

    async fn reserve_upgrade_request(
        &self,
        request: NewRequest,
        now: jiff::Timestamp,
        stale_before_ms: i64,
    ) -> Result<Option<i64>> {
        self.change(move |c| upgrades::reserve_request(c, &request, now, stale_before_ms))
            .await
    }

    async fn upgrade_request_opened(
        &self,
        id: i64,
        ticket_id: u64,
        ticket_number: String,
    ) -> Result<()> {
        self.change(move |c| upgrades::request_opened(c, id, ticket_id, &ticket_number))
            .await
    }

    async fn upgrade_request_ended(
        &self,
        id: i64,
        status: &'static str,
        error: Option<String>,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |c| upgrades::request_ended(c, id, status, error.as_deref(), now))
            .await
    }

    async fn open_cancellations(&self) -> Result<Vec<OpenCancellation>> {
        self.read(cancellations::open).await
    }

    async fn cancellation_effective_date(&self, id: i64) -> Result<Option<Date>> {
        self.read(move |c| cancellations::effective_date(c, id))
            .await
    }

    async fn mark_cancellation_scheduled(
        &self,
        cancellation: OpenCancellation,
        effective_date: Date,
        open_invoices: Vec<OpenInvoice>,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        self.change(move |c| {
            cancellations::mark_scheduled(c, &cancellation, effective_date, &open_invoices, now)
        })
        .await
    }

    async fn mark_cancellation_terminating(
        &self,
        cancellation: Held,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        self.change(move |c| cancellations::mark_terminating(c, cancellation.id, now))
            .await
    }

    async fn mark_cancellation_terminated(
        &self,
        cancellation: OpenCancellation,
        on: Date,
        alert: bool,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        self.change(move |c| cancellations::mark_terminated(c, &cancellation, on, alert, now))
            .await
    }

    async fn mark_cancellation_retry(
        &self,
        cancellation: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |c| cancellations::mark_retry(c, cancellation.id, &error, now))
            .await
    }

    async fn mark_cancellation_failed(
        &self,
        cancellation: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |c| cancellations::mark_failed(c, cancellation.id, &error, now))
            .await
    }

    async fn mark_cancellation_withdrawn(
        &self,
        cancellation: Held,
        why: &'static str,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        self.change(move |c| cancellations::mark_withdrawn(c, cancellation.id, why, now))
            .await
    }

    async fn retry_cancellation(&self, id: i64, now: jiff::Timestamp) -> Result<Option<Retry>> {
        self.change(move |c| cancellations::retry(c, id, now)).await
    }

    async fn current_cancellation(
        &self,
        instance: InstanceName,
        target: Target,
    ) -> Result<Option<StoredCancellation>> {
        self.read(move |c| cancellations::current(c, instance.as_str(), target))
            .await
    }

    async fn latest_cancellation(
        &self,
        instance: InstanceName,
        target: Target,
    ) -> Result<Option<StoredCancellation>> {
        self.read(move |c| cancellations::latest(c, instance.as_str(), target))
            .await
    }

    async fn cancellation_by_event(&self, event_id: EventId) -> Result<Option<StoredCancellation>> {
        self.read(move |c| cancellations::by_event(c, event_id.as_str()))
            .await
    }

    async fn holding_cancellation(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<Option<Pending>> {
        self.read(move |c| cancellations::holding(c, instance.as_str(), service_id))
            .await
    }

    async fn cancellations(&self, query: RecordQuery) -> Result<Vec<StoredCancellation>> {
        self.read(move |c| cancellations::list(c, &query)).await
    }

    async fn transfer(&self, instance: InstanceName, id: i64) -> Result<Option<StoredTransfer>> {
        self.read(move |c| transfers::get(c, instance.as_str(), id))
            .await
    }

    async fn transfer_by_id(&self, id: i64) -> Result<Option<StoredTransfer>> {
        self.read(move |c| transfers::by_id(c, id)).await
    }

    async fn transfer_by_event(&self, event_id: EventId) -> Result<Option<StoredTransfer>> {
        self.read(move |c| transfers::by_event(c, event_id.as_str()))
            .await
    }

    async fn transfer_open_for_service(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<bool> {
        self.read(move |c| transfers::open_for_service(c, instance.as_str(), service_id))
            .await
    }

    async fn open_transfers(&self) -> Result<Vec<StoredTransfer>> {
        self.read(transfers::open).await
    }

    async fn transfers_of_client(
        &self,
        instance: InstanceName,
        client_id: u64,
    ) -> Result<(Vec<StoredTransfer>, Vec<StoredTransfer>)> {
        self.read(move |c| transfers::of_client(c, instance.as_str(), client_id))
            .await
    }

    async fn take_transfer_step(&self, step: TransferStep) -> Result<bool> {
        self.change(move |c| transfers::take_step(c, &step)).await
    }

    async fn note_transfer_move_failure(
        &self,
        transfer: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |c| transfers::note_move_failure(c, transfer.id, &error, now))
            .await
    }

    async fn transfer_steps(&self, transfer_id: i64) -> Result<Vec<StoredStep>> {
        self.read(move |c| transfers::steps(c, transfer_id)).await
    }

    async fn transfers(&self, query: RecordQuery) -> Result<Vec<StoredTransfer>> {
        self.read(move |c| transfers::list(c, &query)).await
    }

    async fn apply_delivery_statuses(
        &self,
        body_sha256: Vec<u8>,
        reports: Vec<StatusReport>,
        inbound: Vec<InboundReport>,
        now: jiff::Timestamp,
    ) -> Result<Applied> {
        self.change(move |c| whatsapp::apply(c, &body_sha256, &reports, &inbound, now))
            .await
    }

    async fn inbound_messages(
        &self,
        instance: Option<InstanceName>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>> {
        self.read(move |c| whatsapp::inbound(c, instance.as_ref().map(InstanceName::as_str), limit))
            .await
    }

    async fn due_inbound(&self, now: jiff::Timestamp, limit: u32) -> Result<Vec<DueInbound>> {
        self.read(move |c| whatsapp::due(c, now, limit)).await
    }

    async fn settle_inbound(&self, held: Held, outcome: InboundOutcome) -> Result<bool> {
        self.change(move |c| whatsapp::settle(c, held, &outcome))
            .await
    }

    async fn conversation_ticket(
        &self,
        instance: InstanceName,
        client_id: i64,
        from: String,
    ) -> Result<Option<i64>> {
        self.read(move |c| whatsapp::conversation_ticket(c, instance.as_str(), client_id, &from))
            .await
    }

    async fn reconciled_since(&self, instance: InstanceName) -> Result<Option<jiff::Timestamp>> {
        let since = self
            .read(move |c| super::reconcile::since(c, instance.as_str()))
            .await?;
        Ok(since.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()))
    }

    async fn record_reconciliation(
        &self,
        instance: InstanceName,
        since: jiff::Timestamp,
        result: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |c| {
            super::reconcile::record(
                c,
                instance.as_str(),
                since.as_millisecond(),
                &result,
                now.as_millisecond(),
            )
        })
        .await
    }

    async fn reconciliations(&self) -> Result<Vec<crate::store::Reconciliation>> {
        self.read(super::reconcile::list).await
    }

    async fn planned_alert_keys(
        &self,
        instance: InstanceName,
        keys: Vec<String>,
    ) -> Result<Vec<String>> {
        self.read(move |c| super::reconcile::planned_keys(c, instance.as_str(), &keys))
            .await
    }

    async fn keep_report(&self, report: NewReport) -> Result<()> {
        self.change(move |c| diagnostics::keep(c, &report)).await
    }

    async fn latest_reports(&self, instance: Option<InstanceName>) -> Result<Vec<StoredReport>> {
        self.read(move |c| diagnostics::latest(c, instance.as_ref().map(InstanceName::as_str)))
            .await
    }

    async fn hooks_seen(
        &self,
        instance: InstanceName,
        hooks: Vec<String>,
    ) -> Result<Vec<(String, Option<jiff::Timestamp>)>> {
        self.read(move |c| diagnostics::hooks_seen(c, instance.as_str(), &hooks))
            .await
    }

    async fn overview(&self, instance: Option<InstanceName>) -> Result<Counts> {
        self.read(move |c| dashboard::counts(c, instance.as_ref()))
            .await
    }

    async fn gauges(&self, now: jiff::Timestamp) -> Result<Gauges> {
        let today = jiff::tz::TimeZone::UTC.to_datetime(now).date().to_string();
        self.read(move |c| dashboard::gauges(c, now.as_millisecond(), &today))
            .await
    }

    async fn spend_credential(&self, token: String, expires: i64, now: i64) -> Result<bool> {
        self.change(move |c| dashboard::spend(c, &token, expires, now))
            .await
    }

    async fn is_credential_spent(&self, token: String, now: i64) -> Result<bool> {
        self.read(move |c| dashboard::is_spent(c, &token, now))
            .await
    }

    async fn retention_cutoff(&self, cutoff: jiff::Timestamp) -> Result<i64> {
        self.change(move |c| retention::cutoff_seq(c, cutoff)).await
    }

    async fn next_instance_with_events(&self, after: String) -> Result<Option<String>> {
        self.change(move |c| retention::next_instance(c, &after))
            .await
    }

    async fn purge_events(
        &self,
        instance: String,
        after: i64,
        before: i64,
    ) -> Result<(Purged, Option<i64>)> {
        self.change(move |c| retention::purge_batch(c, &instance, after, before))
            .await
    }

    async fn purge_notifications(&self, cutoff: jiff::Timestamp) -> Result<usize> {
        self.change(move |c| retention::purge_notifications(c, cutoff))
            .await
    }
}

/// The instance a row belongs to; `None` when there is no such row.
fn instance_of(
    connection: &rusqlite::Connection,
    table: InstanceOwned,
    id: i64,
) -> rusqlite::Result<Option<String>> {
    let sql = match table {
        InstanceOwned::Messages => "SELECT instance FROM messages WHERE id = ?1",
        InstanceOwned::Upgrades => "SELECT instance FROM upgrade_applications WHERE id = ?1",
        InstanceOwned::Cancellations => "SELECT instance FROM cancellations WHERE id = ?1",
        InstanceOwned::Transfers => "SELECT instance FROM transfers WHERE id = ?1",
    };
    use rusqlite::OptionalExtension as _;
    connection
        .prepare_cached(sql)?
        .query_row([id], |row| row.get(0))
        .optional()
}
