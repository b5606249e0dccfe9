//! The single writer: every write goes through one thread that commits
//! whatever is queued in one transaction (group commit) and answers each
//! request only after its transaction is on disk.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::Context as _;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::Database;
use super::events::{self, EventStatus};
use crate::domain::envelope::{Actor, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::metrics::Metrics;

/// Most commands committed by one transaction.
const MAX_BATCH: usize = 1024;
/// Commands waiting for the writer before senders are made to wait.
const QUEUE_DEPTH: usize = 8192;

/// A verified event, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub instance: InstanceName,
    pub hook: HookType,
    pub actor: Actor,
    pub source: Source,
    pub occurred_at: jiff::Timestamp,
    pub status: EventStatus,
    /// The exact bytes the signature covered.
    pub body: Vec<u8>,
}

/// Whether an insert stored a new event or found its id already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Accepted,
    Duplicate,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the database write failed: {0}")]
    Write(String),
    #[error("the writer has stopped")]
    Stopped,
}

enum Command {
    Insert(Box<NewEvent>, oneshot::Sender<Result<Inserted, StoreError>>),
    Probe(oneshot::Sender<Result<(), StoreError>>),
    Stop,
}

/// A cheap handle to the writer thread, shared by the HTTP workers.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Command>,
}

impl Writer {
    /// Stores `event` unless its id is already stored; returns once the
    /// transaction holding it is durable.
    pub async fn insert(&self, event: NewEvent) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Insert(Box::new(event), reply)).await?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }

    /// Commits a write that changes nothing of value: proof that the
    /// database accepts writes.
    pub async fn probe(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Probe(reply)).await?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }

    async fn send(&self, command: Command) -> Result<(), StoreError> {
        self.queue
            .send(command)
            .await
            .map_err(|_| StoreError::Stopped)
    }
}

/// The running writer thread.
pub struct WriterThread {
    writer: Writer,
    thread: JoinHandle<()>,
}

impl WriterThread {
    pub fn start(database: &Database, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let connection = database.writer_connection()?;
        let (queue, commands) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("puente-writer".to_owned())
            .spawn(move || run(connection, commands, &metrics))
            .context("cannot start the writer thread")?;
        Ok(Self {
            writer: Writer { queue },
            thread,
        })
    }

    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// Commits everything queued so far, then stops the thread.
    pub fn stop(self) {
        if self.writer.queue.blocking_send(Command::Stop).is_ok() {
            // A panic on the writer thread was already reported by the hook.
            let _ = self.thread.join();
        }
    }
}

fn run(mut connection: Connection, mut commands: mpsc::Receiver<Command>, metrics: &Metrics) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = commands.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match commands.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        let stop = batch.iter().any(|command| matches!(command, Command::Stop));
        commit(&mut connection, std::mem::take(&mut batch), metrics);
        if stop {
            // Anything sent after Stop is refused: its sender sees `Stopped`.
            commands.close();
            while let Ok(command) = commands.try_recv() {
                batch.push(command);
            }
            commit(&mut connection, std::mem::take(&mut batch), metrics);
            break;
        }
    }
    tracing::debug!("writer stopped");
}

/// Writes one batch in one transaction and answers every command in it.
fn commit(connection: &mut Connection, batch: Vec<Command>, metrics: &Metrics) {
    if batch.iter().all(|command| matches!(command, Command::Stop)) {
        return;
    }
    let started = Instant::now();
    match write(connection, &batch, jiff::Timestamp::now()) {
        Ok(inserted) => {
            metrics.record_commit(inserted.len(), started.elapsed().as_secs_f64());
            let mut inserted = inserted.into_iter();
            for command in batch {
                match command {
                    Command::Insert(_, reply) => {
                        let outcome = inserted.next().expect("one outcome per insert");
                        let _ = reply.send(Ok(outcome));
                    }
                    Command::Probe(reply) => {
                        let _ = reply.send(Ok(()));
                    }
                    Command::Stop => {}
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, commands = batch.len(), "group commit failed; nothing in it was stored");
            let failure = StoreError::Write(error.to_string());
            for command in batch {
                match command {
                    Command::Insert(_, reply) => {
                        let _ = reply.send(Err(failure.clone()));
                    }
                    Command::Probe(reply) => {
                        let _ = reply.send(Err(failure.clone()));
                    }
                    Command::Stop => {}
                }
            }
        }
    }
}

/// Runs a batch in one transaction; returns the outcome of each insert, in
/// order.
fn write(
    connection: &mut Connection,
    batch: &[Command],
    now: jiff::Timestamp,
) -> rusqlite::Result<Vec<Inserted>> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut inserted = Vec::with_capacity(batch.len());
    {
        let mut insert = events::Insert::prepare(&transaction)?;
        for command in batch {
            match command {
                Command::Insert(event, _) => inserted.push(insert.run(event, now)?),
                Command::Probe(_) => {
                    transaction.execute(
                        "INSERT INTO readiness_probe (id, checked_at_ms) VALUES (1, ?1) \
                         ON CONFLICT (id) DO UPDATE SET checked_at_ms = excluded.checked_at_ms",
                        [now.as_millisecond()],
                    )?;
                }
                Command::Stop => {}
            }
        }
    }
    transaction.commit()?;
    Ok(inserted)
}
