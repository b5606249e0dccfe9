//! [`Store`] on PostgreSQL: reads on a pooled connection, writes each in a
//! transaction of its own, events through the group-commit ingest.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use async_trait::async_trait;
use deadpool_postgres::Pool;
use futures_util::future::BoxFuture;
use jiff::civil::Date;

use super::connection::{self, IoThread};
use super::replicas::{self, Me};
use super::sql::{PgError, PgResult};
use super::tx::Tx;
use super::writer::Ingest;
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

/// The store on one PostgreSQL database, which other replicas may share.
pub struct Postgres {
    pool: Pool,
    ingest: Ingest,
    signals: Signals,
    /// This replica: its name (the owner of the leases it takes), and
    /// whether it leads.
    me: Arc<Me>,
    /// Where the heartbeat records rescues and replicas.
    metrics: Arc<Metrics>,
    /// The thread that drives the connections, until [`Store::close`].
    io: Mutex<Option<IoThread>>,
}

impl Postgres {
    /// Connects to `url`, brings the schema up to date (waiting for
    /// another replica that is doing it) and starts the ingest.
    ///
    /// A statement waits at most `lock_timeout` for a lock
    /// (`PUENTE_DATABASE_BUSY_TIMEOUT_MS`, as SQLite's busy timeout), then
    /// fails: a write is refused rather than left hanging.
    pub fn connect(
        url: &str,
        lock_timeout: std::time::Duration,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let config = connection::parse_url(url, lock_timeout)?;
        let io = IoThread::start()?;
        let tls = connection::tls()?;
        let pool = connection::pool(config.clone(), &io, tls.clone())?;
        let (done, migrated) = std::sync::mpsc::channel();
        let migrating = pool.clone();
        io.handle().spawn(async move {
            let _ = done.send(connection::migrate(&migrating).await);
        });
        migrated
            .recv()
            .context("the PostgreSQL thread stopped while migrating")??;
        let signals = Signals::default();
        let me = Arc::new(Me::new());
        // Alive (and leading, if no one else does) before the first request.
        let (done, beaten) = std::sync::mpsc::channel();
        let (first_pool, first_me, first_signals, first_metrics) = (
            pool.clone(),
            Arc::clone(&me),
            signals.clone(),
            Arc::clone(&metrics),
        );
        io.handle().spawn(async move {
            let beat = replicas::once(&first_pool, &first_me, &first_signals, &first_metrics).await;
            let _ = done.send(beat);
        });
        beaten
            .recv()
            .context("the PostgreSQL thread stopped during the first heartbeat")?
            .context("the first heartbeat failed")?;
        let ingest = Ingest::start(
            io.handle(),
            pool.clone(),
            signals.clone(),
            Arc::clone(&metrics),
        );
        io.handle()
            .spawn(super::listener::listen(config, tls, signals.clone()));
        io.handle().spawn(replicas::run(
            pool.clone(),
            Arc::clone(&me),
            signals.clone(),
            Arc::clone(&metrics),
        ));
        tracing::info!(replica = %me.id, "on PostgreSQL");
        Ok(Self {
            pool,
            ingest,
            signals,
            me,
            metrics,
            io: Mutex::new(Some(io)),
        })
    }

    /// Brings the schema of the database at `url` up to date, as a replica
    /// does when it starts, without starting one (`puente migrate-store`).
    pub fn migrate_schema(url: &str) -> anyhow::Result<()> {
        let config = connection::parse_url(url, std::time::Duration::from_secs(30))?;
        let io = IoThread::start()?;
        let pool = connection::pool(config, &io, connection::tls()?)?;
        let (done, migrated) = std::sync::mpsc::channel();
        io.handle().spawn(async move {
            let _ = done.send(connection::migrate(&pool).await);
        });
        migrated
            .recv()
            .context("the PostgreSQL thread stopped while migrating")?
    }

    /// A pooled connection for a read.
    async fn reader(&self) -> Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|error| PgError::from(error).read())
    }

    /// Runs `change` in a transaction of its own and commits it.
    async fn change<T, F>(&self, change: F) -> Result<T>
    where
        T: Send,
        F: for<'t> FnOnce(&'t Tx<'t>) -> BoxFuture<'t, PgResult<T>> + Send,
    {
        let written = async {
            let mut client = self.pool.get().await?;
            let tx = Tx::begin(&mut client).await?;
            let value = change(&tx).await?;
            tx.commit(&self.signals).await?;
            Ok::<_, PgError>(value)
        };
        written.await.map_err(PgError::write)
    }
}

#[async_trait]
impl Store for Postgres {
    fn signals(&self) -> &Signals {
        &self.signals
    }

    async fn probe(&self) -> Result<()> {
        self.ingest.probe().await
    }

    async fn close(&self) -> Result<()> {
        // Best effort: with the database away, the term and the leases
        // simply lapse and the leader's sweep takes them back.
        let me = Arc::clone(&self.me);
        if let Err(error) = self
            .change(move |tx| Box::pin(async move { replicas::stop(tx, &me).await }))
            .await
        {
            tracing::warn!(%error, "could not hand the leases back at stop; they will lapse");
        }
        self.pool.close();
        let io = self
            .io
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(io) = io {
            tokio::task::spawn_blocking(move || drop(io))
                .await
                .map_err(|_| StoreError::Write("the PostgreSQL thread did not stop".to_owned()))?;
        }
        Ok(())
    }

    fn replica(&self) -> &str {
        &self.me.id
    }

    fn is_leader(&self) -> bool {
        self.me.leads()
    }

    async fn heartbeat(&self) -> Result<()> {
        replicas::once(&self.pool, &self.me, &self.signals, &self.metrics)
            .await
            .map_err(PgError::write)
    }

    async fn replicas(&self) -> Result<Vec<Replica>> {
        let client = self.reader().await?;
        replicas::list(&client, &self.me)
            .await
            .map_err(PgError::read)
    }

    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        self.ingest.insert(event).await
    }

    async fn events(&self, query: EventQuery) -> Result<Vec<StoredEvent>> {
        let client = self.reader().await?;
        events::list(&client, &query).await.map_err(PgError::read)
    }

    async fn event(&self, id: EventId) -> Result<Option<StoredEvent>> {
        let client = self.reader().await?;
        events::get(&client, &id).await.map_err(PgError::read)
    }

    async fn instance_of(&self, table: InstanceOwned, id: i64) -> Result<Option<String>> {
        let sql = match table {
            InstanceOwned::Messages => "SELECT instance FROM messages WHERE id = $1",
            InstanceOwned::Upgrades => "SELECT instance FROM upgrade_applications WHERE id = $1",
            InstanceOwned::Cancellations => "SELECT instance FROM cancellations WHERE id = $1",
            InstanceOwned::Transfers => "SELECT instance FROM transfers WHERE id = $1",
        };
        let client = self.reader().await?;
        let found = async {
            let statement = client.prepare_cached(sql).await?;
            match client.query_opt(&statement, &[&id]).await? {
                Some(row) => Ok::<_, PgError>(Some(row.try_get(0)?)),
                None => Ok(None),
            }
        };
        found.await.map_err(PgError::read)
    }

    async fn due_messages(
        &self,
        now: jiff::Timestamp,
        limit: u32,
    ) -> Result<Vec<(InstanceName, DueMessage)>> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| Box::pin(async move { messages::due(tx, &me.id, now, limit).await }))
            .await
    }

    async fn next_message_due_after(
        &self,
        now: jiff::Timestamp,
    ) -> Result<Option<jiff::Timestamp>> {
        let client = self.reader().await?;
        messages::next_due_after(&client, now)
            .await
            .map_err(PgError::read)
    }

    async fn mark_interrupted_messages(&self) -> Result<usize> {
        self.change(|tx| Box::pin(messages::mark_interrupted(tx)))
            .await
    }

    async fn mark_message_sending(&self, message: Held, body: String) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { messages::mark_sending(tx, &me.id, message, &body).await })
        })
        .await
    }

    async fn settle_messages(&self, settled: Vec<Settled>) -> Result<()> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| Box::pin(async move { messages::settle(tx, &me.id, &settled).await }))
            .await
    }

    async fn retry_message(&self, id: i64) -> Result<Option<Retry>> {
        self.change(move |tx| Box::pin(messages::retry(tx, id)))
            .await
    }

    async fn cancel_planned_messages(
        &self,
        event: EventId,
        reason: String,
        now: jiff::Timestamp,
    ) -> Result<usize> {
        self.change(move |tx| {
            Box::pin(async move {
                let statement = tx
                    .prepare_cached(
                        "UPDATE messages SET status = 'skipped', reason = $2, status_at_ms = $3,
                                lease_owner = NULL, lease_expires_at_ms = NULL
                          WHERE event_seq = (SELECT seq FROM events WHERE id = $1)
                            AND status = 'planned'",
                    )
                    .await?;
                let changed = tx
                    .execute(
                        &statement,
                        &[&event.as_str(), &reason, &now.as_millisecond()],
                    )
                    .await?;
                Ok(usize::try_from(changed).unwrap_or(usize::MAX))
            })
        })
        .await
    }

    async fn messages(&self, query: MessageQuery) -> Result<Vec<StoredMessage>> {
        let client = self.reader().await?;
        messages::list(&client, &query).await.map_err(PgError::read)
    }

    async fn message(&self, id: i64) -> Result<Option<StoredMessage>> {
        let client = self.reader().await?;
        messages::get(&client, id).await.map_err(PgError::read)
    }

    async fn message_attempts(&self, id: i64) -> Result<Vec<Attempt>> {
        let client = self.reader().await?;
        messages::attempts(&client, id).await.map_err(PgError::read)
    }

    async fn message_backlog(&self) -> Result<BTreeMap<String, u64>> {
        let client = self.reader().await?;
        messages::backlog(&client).await.map_err(PgError::read)
    }

    async fn pending_upgrades(&self) -> Result<Vec<PendingApplication>> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| Box::pin(async move { upgrades::pending(tx, &me.id).await }))
            .await
    }

    async fn mark_upgrade_applying(&self, upgrade: Held) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { upgrades::mark_applying(tx, &me.id, upgrade).await })
        })
        .await
    }

    async fn mark_upgrade_applied(
        &self,
        upgrade: PendingApplication,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { upgrades::mark_applied(tx, &me.id, &upgrade, now).await })
        })
        .await
    }

    async fn mark_upgrade_retry(&self, upgrade: Held, error: String) -> Result<()> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { upgrades::mark_retry(tx, &me.id, upgrade, &error).await })
        })
        .await
    }

    async fn mark_upgrade_failed(&self, upgrade: Held, error: String) -> Result<()> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { upgrades::mark_failed(tx, &me.id, upgrade, &error).await })
        })
        .await
    }

    async fn retry_upgrade(&self, id: i64) -> Result<Option<Retry>> {
        self.change(move |tx| Box::pin(upgrades::retry(tx, id)))
            .await
    }

    async fn upgrades(&self, query: RecordQuery) -> Result<Vec<StoredApplication>> {
        let client = self.reader().await?;
        upgrades::list(&client, &query).await.map_err(PgError::read)
    }

    async fn open_upgrade_request(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<Option<OpenRequest>> {
        let client = self.reader().await?;
        upgrades::open_request(&client, instance.as_str(), service_id)
            .await
            .map_err(PgError::read)
    }

    async fn reserve_upgrade_request(
        &self,
        request: NewRequest,
        now: jiff::Timestamp,
        stale_before_ms: i64,
    ) -> Result<Option<i64>> {
        self.change(move |tx| {
            Box::pin(
                async move { upgrades::reserve_request(tx, &request, now, stale_before_ms).await },
            )
        })
        .await
    }

    async fn upgrade_request_opened(
        &self,
        id: i64,
        ticket_id: u64,
        ticket_number: String,
    ) -> Result<()> {
        self.change(move |tx| {
            Box::pin(
                async move { upgrades::request_opened(tx, id, ticket_id, &ticket_number).await },
            )
        })
        .await
    }

    async fn upgrade_request_ended(
        &self,
        id: i64,
        status: &'static str,
        error: Option<String>,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |tx| {
            Box::pin(
                async move { upgrades::request_ended(tx, id, status, error.as_deref(), now).await },
            )
        })
        .await
    }

    async fn open_cancellations(&self) -> Result<Vec<OpenCancellation>> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| Box::pin(async move { cancellations::open(tx, &me.id).await }))
            .await
    }

    async fn cancellation_effective_date(&self, id: i64) -> Result<Option<Date>> {
        let client = self.reader().await?;
        cancellations::effective_date(&client, id)
            .await
            .map_err(PgError::read)
    }

    async fn mark_cancellation_scheduled(
        &self,
        cancellation: OpenCancellation,
        effective_date: Date,
        open_invoices: Vec<OpenInvoice>,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move {
                cancellations::mark_scheduled(
                    tx,
                    &me.id,
                    &cancellation,
                    effective_date,
                    &open_invoices,
                    now,
                )
                .await
            })
        })
        .await
    }

    async fn mark_cancellation_terminating(
        &self,
        cancellation: Held,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(
                async move { cancellations::mark_terminating(tx, &me.id, cancellation, now).await },
            )
        })
        .await
    }

    async fn mark_cancellation_terminated(
        &self,
        cancellation: OpenCancellation,
        on: Date,
        alert: bool,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move {
                cancellations::mark_terminated(tx, &me.id, &cancellation, on, alert, now).await
            })
        })
        .await
    }

    async fn mark_cancellation_retry(
        &self,
        cancellation: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move {
                cancellations::mark_retry(tx, &me.id, cancellation, &error, now).await
            })
        })
        .await
    }

    async fn mark_cancellation_failed(
        &self,
        cancellation: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move {
                cancellations::mark_failed(tx, &me.id, cancellation, &error, now).await
            })
        })
        .await
    }

    async fn mark_cancellation_withdrawn(
        &self,
        cancellation: Held,
        why: &'static str,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move {
                cancellations::mark_withdrawn(tx, &me.id, cancellation, why, now).await
            })
        })
        .await
    }

    async fn retry_cancellation(&self, id: i64, now: jiff::Timestamp) -> Result<Option<Retry>> {
        self.change(move |tx| Box::pin(cancellations::retry(tx, id, now)))
            .await
    }

    async fn current_cancellation(
        &self,
        instance: InstanceName,
        target: Target,
    ) -> Result<Option<StoredCancellation>> {
        let client = self.reader().await?;
        cancellations::current(&client, instance.as_str(), target)
            .await
            .map_err(PgError::read)
    }

    async fn latest_cancellation(
        &self,
        instance: InstanceName,
        target: Target,
    ) -> Result<Option<StoredCancellation>> {
        let client = self.reader().await?;
        cancellations::latest(&client, instance.as_str(), target)
            .await
            .map_err(PgError::read)
    }

    async fn cancellation_by_event(&self, event_id: EventId) -> Result<Option<StoredCancellation>> {
        let client = self.reader().await?;
        cancellations::by_event(&client, event_id.as_str())
            .await
            .map_err(PgError::read)
    }

    async fn holding_cancellation(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<Option<Pending>> {
        let client = self.reader().await?;
        cancellations::holding(&client, instance.as_str(), service_id)
            .await
            .map_err(PgError::read)
    }

    async fn cancellations(&self, query: RecordQuery) -> Result<Vec<StoredCancellation>> {
        let client = self.reader().await?;
        cancellations::list(&client, &query)
            .await
            .map_err(PgError::read)
    }

    async fn transfer(&self, instance: InstanceName, id: i64) -> Result<Option<StoredTransfer>> {
        let client = self.reader().await?;
        transfers::get(&client, instance.as_str(), id)
            .await
            .map_err(PgError::read)
    }

    async fn transfer_by_id(&self, id: i64) -> Result<Option<StoredTransfer>> {
        let client = self.reader().await?;
        transfers::by_id(&client, id).await.map_err(PgError::read)
    }

    async fn transfer_by_event(&self, event_id: EventId) -> Result<Option<StoredTransfer>> {
        let client = self.reader().await?;
        transfers::by_event(&client, event_id.as_str())
            .await
            .map_err(PgError::read)
    }

    async fn transfer_open_for_service(
        &self,
        instance: InstanceName,
        service_id: u64,
    ) -> Result<bool> {
        let client = self.reader().await?;
        transfers::open_for_service(&client, instance.as_str(), service_id)
            .await
            .map_err(PgError::read)
    }

    async fn open_transfers(&self) -> Result<Vec<StoredTransfer>> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| Box::pin(async move { transfers::open(tx, &me.id).await }))
            .await
    }

    async fn transfers_of_client(
        &self,
        instance: InstanceName,
        client_id: u64,
    ) -> Result<(Vec<StoredTransfer>, Vec<StoredTransfer>)> {
        let client = self.reader().await?;
        transfers::of_client(&client, instance.as_str(), client_id)
            .await
            .map_err(PgError::read)
    }

    async fn take_transfer_step(&self, step: TransferStep) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { transfers::take_step(tx, &me.id, &step).await })
        })
        .await
    }

    async fn note_transfer_move_failure(
        &self,
        transfer: Held,
        error: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move {
                transfers::note_move_failure(tx, &me.id, transfer, &error, now).await
            })
        })
        .await
    }

    async fn transfer_steps(&self, transfer_id: i64) -> Result<Vec<StoredStep>> {
        let client = self.reader().await?;
        transfers::steps(&client, transfer_id)
            .await
            .map_err(PgError::read)
    }

    async fn transfers(&self, query: RecordQuery) -> Result<Vec<StoredTransfer>> {
        let client = self.reader().await?;
        transfers::list(&client, &query)
            .await
            .map_err(PgError::read)
    }

    async fn apply_delivery_statuses(
        &self,
        body_sha256: Vec<u8>,
        reports: Vec<StatusReport>,
        inbound: Vec<InboundReport>,
        now: jiff::Timestamp,
    ) -> Result<Applied> {
        self.change(move |tx| {
            Box::pin(
                async move { whatsapp::apply(tx, &body_sha256, &reports, &inbound, now).await },
            )
        })
        .await
    }

    async fn inbound_messages(
        &self,
        instance: Option<InstanceName>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>> {
        let client = self.reader().await?;
        whatsapp::inbound(&client, instance.as_ref().map(InstanceName::as_str), limit)
            .await
            .map_err(PgError::read)
    }

    async fn due_inbound(&self, now: jiff::Timestamp, limit: u32) -> Result<Vec<DueInbound>> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| Box::pin(async move { whatsapp::due(tx, &me.id, now, limit).await }))
            .await
    }

    async fn settle_inbound(&self, held: Held, outcome: InboundOutcome) -> Result<bool> {
        let me = Arc::clone(&self.me);
        self.change(move |tx| {
            Box::pin(async move { whatsapp::settle(tx, &me.id, held, &outcome).await })
        })
        .await
    }

    async fn conversation_ticket(
        &self,
        instance: InstanceName,
        client_id: i64,
        from: String,
    ) -> Result<Option<i64>> {
        let client = self.reader().await?;
        whatsapp::conversation_ticket(&client, instance.as_str(), client_id, &from)
            .await
            .map_err(PgError::read)
    }

    async fn reconciled_since(&self, instance: InstanceName) -> Result<Option<jiff::Timestamp>> {
        let client = self.reader().await?;
        let since = super::reconcile::since(&client, instance.as_str())
            .await
            .map_err(PgError::read)?;
        Ok(since.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()))
    }

    async fn record_reconciliation(
        &self,
        instance: InstanceName,
        since: jiff::Timestamp,
        result: String,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.change(move |tx| {
            Box::pin(async move {
                super::reconcile::record(
                    &**tx,
                    instance.as_str(),
                    since.as_millisecond(),
                    &result,
                    now.as_millisecond(),
                )
                .await
            })
        })
        .await
    }

    async fn reconciliations(&self) -> Result<Vec<crate::store::Reconciliation>> {
        let client = self.reader().await?;
        super::reconcile::list(&client).await.map_err(PgError::read)
    }

    async fn planned_alert_keys(
        &self,
        instance: InstanceName,
        keys: Vec<String>,
    ) -> Result<Vec<String>> {
        let client = self.reader().await?;
        super::reconcile::planned_keys(&client, instance.as_str(), &keys)
            .await
            .map_err(PgError::read)
    }

    async fn keep_report(&self, report: NewReport) -> Result<()> {
        self.change(move |tx| Box::pin(async move { diagnostics::keep(tx, &report).await }))
            .await
    }

    async fn latest_reports(&self, instance: Option<InstanceName>) -> Result<Vec<StoredReport>> {
        let client = self.reader().await?;
        diagnostics::latest(&client, instance.as_ref().map(InstanceName::as_str))
            .await
            .map_err(PgError::read)
    }

    async fn hooks_seen(
        &self,
        instance: InstanceName,
        hooks: Vec<String>,
    ) -> Result<Vec<(String, Option<jiff::Timestamp>)>> {
        let client = self.reader().await?;
        diagnostics::hooks_seen(&client, instance.as_str(), &hooks)
            .await
            .map_err(PgError::read)
    }

    async fn overview(&self, instance: Option<InstanceName>) -> Result<Counts> {
        let client = self.reader().await?;
        dashboard::counts(&client, instance.as_ref())
            .await
            .map_err(PgError::read)
    }

    async fn gauges(&self, now: jiff::Timestamp) -> Result<Gauges> {
        let today = jiff::tz::TimeZone::UTC.to_datetime(now).date().to_string();
        let client = self.reader().await?;
        dashboard::gauges(&client, now.as_millisecond(), &today)
            .await
            .map_err(PgError::read)
    }

    async fn spend_credential(&self, token: String, expires: i64, now: i64) -> Result<bool> {
        self.change(move |tx| {
            Box::pin(async move { dashboard::spend(tx, &token, expires, now).await })
        })
        .await
    }

    async fn is_credential_spent(&self, token: String, now: i64) -> Result<bool> {
        let client = self.reader().await?;
        dashboard::is_spent(&client, &token, now)
            .await
            .map_err(PgError::read)
    }

    async fn retention_cutoff(&self, cutoff: jiff::Timestamp) -> Result<i64> {
        self.change(move |tx| Box::pin(retention::cutoff_seq(tx, cutoff)))
            .await
    }

    async fn next_instance_with_events(&self, after: String) -> Result<Option<String>> {
        self.change(move |tx| Box::pin(async move { retention::next_instance(tx, &after).await }))
            .await
    }

    async fn purge_events(
        &self,
        instance: String,
        after: i64,
        before: i64,
    ) -> Result<(Purged, Option<i64>)> {
        self.change(move |tx| {
            Box::pin(async move { retention::purge_batch(tx, &instance, after, before).await })
        })
        .await
    }

    async fn purge_notifications(&self, cutoff: jiff::Timestamp) -> Result<usize> {
        self.change(move |tx| Box::pin(retention::purge_notifications(tx, cutoff)))
            .await
    }
}
