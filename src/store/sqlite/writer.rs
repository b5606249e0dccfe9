//! The single writer: every write goes through one thread that commits
//! whatever is queued in one transaction (group commit) and answers each
//! request only after its transaction is on disk.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::Context as _;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::database::{Database, ServiceLock};
use super::delivery::{self, Reply};
use super::events;
use super::plan::PlanRows;
use super::tx::Tx;
use crate::metrics::Metrics;
use crate::store::model::{Inserted, NewEvent, StoreError};
use crate::store::wake::{Signals, Wake};

/// Most commands committed by one transaction.
const MAX_BATCH: usize = 1024;
/// Commands waiting for the writer before senders are made to wait.
const QUEUE_DEPTH: usize = 8192;

enum Command {
    Insert(Box<NewEvent>, Reply),
    Probe(oneshot::Sender<Result<(), StoreError>>),
    Change(Box<dyn Change>),
    Stop,
}

/// A write of another kind than an event, run in the group transaction
/// inside its own savepoint: its failure undoes only itself.
trait Change: Send {
    /// The workers it leaves work for when it succeeded; a failure is kept
    /// for its caller.
    fn run(&mut self, connection: &Connection) -> Option<Wake>;
    /// Answers the caller once the transaction's fate is known.
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
}

struct PendingChange<T, F> {
    change: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Change for PendingChange<T, F>
where
    T: Send,
    F: FnOnce(&Tx<'_>) -> rusqlite::Result<T> + Send,
{
    fn run(&mut self, connection: &Connection) -> Option<Wake> {
        let change = self.change.take().expect("a change runs once");
        let tx = Tx::new(connection);
        let result = change(&tx).map_err(|error| StoreError::Write(error.to_string()));
        let woken = result.is_ok().then(|| tx.woken());
        self.outcome = Some(result);
        woken
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let answer = match committed {
            Ok(()) => self.outcome.unwrap_or(Err(StoreError::Stopped)),
            Err(error) => Err(error),
        };
        let _ = self.reply.send(answer);
    }
}

/// A cheap handle to the writer thread, shared by the HTTP workers.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Command>,
    /// Told of the work each commit left, and of the events it stored.
    signals: Signals,
}

impl Writer {
    /// What the writer tells the workers.
    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    /// Stores `event` unless its id is already stored; returns once the
    /// transaction holding it is durable.
    ///
    /// The event is boxed before the future is made, so the future carries
    /// a pointer rather than the event: actix boxes each request's handler
    /// future, and this keeps the hook route's under 1 KiB (680 bytes, from
    /// 1096), a small-object size for the allocator.
    pub fn insert(
        &self,
        event: NewEvent,
    ) -> impl Future<Output = Result<Inserted, StoreError>> + use<'_> {
        let (reply, answer) = Reply::new();
        let command = Command::Insert(Box::new(event), reply);
        async move {
            self.queue
                .send(command)
                .await
                .map_err(|_| StoreError::Stopped)?;
            answer.await.map_err(|_| StoreError::Stopped)?
        }
    }

    /// Commits a write that changes nothing of value: proof that the
    /// database accepts writes.
    pub async fn probe(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Probe(reply)).await?;
        answer.await.map_err(|_| StoreError::Stopped)?
    }

    /// Runs `change` in the next group transaction and returns its result
    /// once that transaction is durable; then wakes the workers it left
    /// work for ([`Tx::wake`]).
    pub async fn change<T, F>(&self, change: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let pending = PendingChange {
            change: Some(change),
            outcome: None,
            reply,
        };
        self.send(Command::Change(Box::new(pending))).await?;
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
    /// Starts the writer, which holds the database's [`ServiceLock`] until
    /// it stops; refused when another service holds it.
    pub fn start(database: &Database, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let lock = database.try_lock()?.with_context(|| {
            format!(
                "another puente is running on {} (it holds {}); stop it first",
                database.path().display(),
                ServiceLock::path_of(database.path()).display()
            )
        })?;
        let connection = database.writer_connection()?;
        let last_received =
            events::last_received_at(&connection).context("cannot read the newest event's time")?;
        let signals = Signals::default();
        let mut state = State {
            _lock: lock,
            signals: signals.clone(),
            connection,
            metrics,
            last_received,
        };
        let (queue, commands) = mpsc::channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("puente-writer".to_owned())
            .spawn(move || state.run(commands))
            .context("cannot start the writer thread")?;
        Ok(Self {
            writer: Writer { queue, signals },
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

/// What the writer thread owns.
struct State {
    /// Released when the thread ends.
    _lock: ServiceLock,
    connection: Connection,
    metrics: Arc<Metrics>,
    /// Receive time of the newest stored event: receive times never go
    /// backwards, even if the wall clock does.
    last_received: jiff::Timestamp,
    signals: Signals,
}

impl State {
    fn run(&mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            if self.commit(first, &mut commands) == Batch::EndedWithStop {
                // Anything sent after Stop is refused: its sender sees `Stopped`.
                commands.close();
                while let Some(command) = commands.blocking_recv() {
                    self.commit(command, &mut commands);
                }
                break;
            }
        }
        tracing::debug!("writer stopped");
    }

    /// Writes `first`, and every command that arrives until the queue is
    /// empty (at most [`MAX_BATCH`] in all), in one transaction, then
    /// answers each of them.
    fn commit(&mut self, first: Command, commands: &mut mpsc::Receiver<Command>) -> Batch {
        if matches!(first, Command::Stop) {
            return Batch::EndedWithStop;
        }
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        let started = Instant::now();
        let written = write(
            &mut self.connection,
            &mut batch,
            commands,
            self.last_received,
        );
        let ended = match batch.last() {
            Some(Command::Stop) => Batch::EndedWithStop,
            _ => Batch::Ended,
        };
        match written {
            Ok((inserted, wake, received)) => {
                self.last_received = received;
                self.signals.wake(wake);
                self.metrics
                    .record_commit(inserted.len(), started.elapsed().as_secs_f64());
                self.signals.committed(inserted.len());
                let mut inserted = inserted.into_iter();
                let mut answers = Vec::with_capacity(batch.len());
                for command in batch.drain(..) {
                    match command {
                        Command::Insert(event, reply) => {
                            let outcome = inserted.next().expect("one outcome per insert");
                            answers.push((reply, Ok(outcome), event));
                        }
                        Command::Probe(reply) => {
                            let _ = reply.send(Ok(()));
                        }
                        Command::Change(change) => change.finish(Ok(())),
                        Command::Stop => {}
                    }
                }
                delivery::deliver(answers);
            }
            Err(error) => {
                tracing::error!(%error, commands = batch.len(), "group commit failed; nothing in it was stored");
                let failure = StoreError::Write(error.to_string());
                let mut answers = Vec::with_capacity(batch.len());
                for command in batch.drain(..) {
                    match command {
                        Command::Insert(event, reply) => {
                            answers.push((reply, Err(failure.clone()), event));
                        }
                        Command::Probe(reply) => {
                            let _ = reply.send(Err(failure.clone()));
                        }
                        Command::Change(change) => change.finish(Err(failure.clone())),
                        Command::Stop => {}
                    }
                }
                delivery::deliver(answers);
            }
        }
        ended
    }
}

/// How a group transaction's batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Batch {
    /// The queue was empty or the batch full.
    Ended,
    /// A Stop was taken: nothing after it belongs to the batch.
    EndedWithStop,
}

/// Runs `batch`, and the commands that arrive while it runs, in one
/// transaction. Returns the outcome of each insert, in order, which workers
/// it left work for, and the receive time of its last command.
fn write(
    connection: &mut Connection,
    batch: &mut Vec<Command>,
    commands: &mut mpsc::Receiver<Command>,
    last_received: jiff::Timestamp,
) -> rusqlite::Result<(Vec<Inserted>, Wake, jiff::Timestamp)> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut inserted = Vec::with_capacity(MAX_BATCH);
    let mut wake = Wake::default();
    let mut received = last_received;
    {
        let mut insert = events::Insert::prepare(&transaction)?;
        // The events' planned rows: their wakes are the batch's.
        let planned = Tx::new(&transaction);
        let mut rows = PlanRows::new(&transaction);
        let mut next = 0;
        loop {
            if next == batch.len() {
                // Whatever arrived while the batch was written shares its
                // sync, instead of waiting for the next one.
                if batch.len() == MAX_BATCH || matches!(batch.last(), Some(Command::Stop)) {
                    break;
                }
                match commands.try_recv() {
                    Ok(command) => batch.push(command),
                    Err(_) => break,
                }
            }
            // Receive times never decrease along `seq`.
            received = jiff::Timestamp::now().max(received);
            let now = received;
            match &mut batch[next] {
                Command::Insert(event, _) => {
                    let outcome = insert.run(event, now)?;
                    // The event's own row id, before planned rows take the
                    // connection's last one.
                    let seq = transaction.last_insert_rowid();
                    if outcome == Inserted::Accepted && !event.plan.is_empty() {
                        rows.record(&planned, seq, &event.instance, &event.plan, now)?;
                    }
                    inserted.push(outcome);
                }
                Command::Probe(_) => {
                    transaction.execute(
                        "INSERT INTO readiness_probe (id, checked_at_ms) VALUES (1, ?1) \
                         ON CONFLICT (id) DO UPDATE SET checked_at_ms = excluded.checked_at_ms",
                        [now.as_millisecond()],
                    )?;
                }
                Command::Change(change) => {
                    transaction.execute_batch("SAVEPOINT change")?;
                    match change.run(&transaction) {
                        Some(woken) => wake |= woken,
                        None => transaction.execute_batch("ROLLBACK TO change")?,
                    }
                    transaction.execute_batch("RELEASE change")?;
                }
                Command::Stop => {}
            }
            next += 1;
        }
        wake |= planned.woken();
    }
    transaction.commit()?;
    Ok((inserted, wake, received))
}

#[cfg(test)]
mod tests {
    use std::future::Future as _;

    use rusqlite::OptionalExtension as _;

    use super::*;
    use crate::domain::envelope::{Actor, ActorKind, Source};
    use crate::domain::ids::{EventId, HookType, InstanceName};
    use crate::domain::plan::Plan;
    use crate::store::Work;
    use crate::store::events::EventStatus;

    fn event(id: &str) -> NewEvent {
        NewEvent {
            id: EventId::parse(id).expect("id"),
            instance: InstanceName::default_instance(),
            hook: HookType::parse("InvoicePaid").expect("type"),
            actor: Actor {
                kind: ActorKind::System,
                id: None,
                user_id: None,
            },
            source: Source::Cron,
            occurred_at: jiff::Timestamp::UNIX_EPOCH,
            status: EventStatus::Received,
            body: b"{}".to_vec(),
            plan: Plan::default(),
        }
    }

    #[test]
    fn receive_times_never_go_backwards_even_across_restarts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::open(&dir.path().join("w.db"), std::time::Duration::from_secs(1))
            .expect("open");
        let tomorrow = jiff::Timestamp::now().as_millisecond() + 86_400_000;
        rusqlite::Connection::open(database.path())
            .expect("connect")
            .execute(
                "INSERT INTO events (id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES ('evt_future', 'default', 'InvoicePaid', 'system', 'cron', 0, ?1,
                         'received', x'7b7d')",
                [tomorrow],
            )
            .expect("insert");

        let thread = WriterThread::start(&database, Metrics::new()).expect("writer");
        let writer = thread.writer();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let outcomes = runtime.block_on(async {
            [
                writer.insert(event("evt_now")).await,
                writer.insert(event("evt_now")).await,
            ]
        });
        thread.stop();
        assert!(matches!(outcomes[0], Ok(Inserted::Accepted)));
        assert!(matches!(outcomes[1], Ok(Inserted::Duplicate)));
        let reader = database.reader().expect("reader");
        let stored = events::get(&reader, &EventId::parse("evt_now").expect("id"))
            .expect("query")
            .expect("stored");
        assert_eq!(stored.received_at.as_millisecond(), tomorrow);
    }

    #[test]
    fn commands_that_arrive_while_a_batch_is_written_share_its_commit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::open(&dir.path().join("g.db"), std::time::Duration::from_secs(1))
            .expect("open");
        let metrics = Metrics::new();
        let thread = WriterThread::start(&database, Arc::clone(&metrics)).expect("writer");
        let writer = thread.writer();
        // Outside a runtime the reply goes straight to its receiver.
        let (reply, late_answer) = Reply::new();
        let late = Command::Insert(Box::new(event("evt_late")), reply);
        let queue = writer.queue.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let (first, late) = runtime.block_on(async {
            // The change queues an insert while its transaction is open.
            let first = writer
                .change(move |_| {
                    queue
                        .try_send(late)
                        .map_err(|_| rusqlite::Error::InvalidQuery)
                })
                .await;
            (first, late_answer.await)
        });
        thread.stop();
        assert!(first.is_ok(), "{first:?}");
        assert!(matches!(late, Ok(Ok(Inserted::Accepted))), "{late:?}");
        let metrics = metrics.render();
        assert!(
            metrics.contains("puente_commit_batch_size_count 1\n"),
            "one commit held both: {metrics}"
        );
    }

    /// Whether `work`'s worker has a wake-up waiting (used up by the look).
    fn woken_now(writer: &Writer, work: Work) -> bool {
        let waker = futures_util::task::noop_waker();
        let mut context = std::task::Context::from_waker(&waker);
        let wait = std::pin::pin!(writer.signals().woken(work));
        wait.poll(&mut context).is_ready()
    }

    #[test]
    fn a_change_wakes_the_workers_it_named_after_its_commit_and_a_failed_one_wakes_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::open(&dir.path().join("k.db"), std::time::Duration::from_secs(1))
            .expect("open");
        let thread = WriterThread::start(&database, Metrics::new()).expect("writer");
        let writer = thread.writer();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime
            .block_on(writer.change(|tx| {
                tx.wake(Work::Upgrades);
                tx.wake(Work::Transfers);
                Ok(())
            }))
            .expect("change");
        assert!(woken_now(&writer, Work::Upgrades));
        assert!(woken_now(&writer, Work::Transfers));
        assert!(!woken_now(&writer, Work::Alerts));
        assert!(
            !woken_now(&writer, Work::Upgrades),
            "one wake-up, used once"
        );
        let failed = runtime.block_on(writer.change(|tx| {
            tx.wake(Work::Alerts);
            Err::<(), _>(rusqlite::Error::InvalidQuery)
        }));
        assert!(failed.is_err());
        assert!(
            !woken_now(&writer, Work::Alerts),
            "a rolled-back change wakes nobody"
        );
        thread.stop();
    }

    #[test]
    fn a_failing_change_is_undone_alone_and_reported_to_its_caller() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::open(&dir.path().join("c.db"), std::time::Duration::from_secs(1))
            .expect("open");
        let thread = WriterThread::start(&database, Metrics::new()).expect("writer");
        let writer = thread.writer();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let (failed, stored) = runtime.block_on(async {
            let failed = writer
                .change(|connection| {
                    connection.execute(
                        "INSERT INTO readiness_probe (id, checked_at_ms) VALUES (1, 7)",
                        [],
                    )?;
                    connection.execute("INSERT INTO no_such_table VALUES (1)", [])
                })
                .await;
            let stored = writer.insert(event("evt_after_failure")).await;
            (failed, stored)
        });
        thread.stop();
        assert!(matches!(failed, Err(StoreError::Write(_))), "{failed:?}");
        assert!(matches!(stored, Ok(Inserted::Accepted)));
        let reader = database.reader().expect("reader");
        let probe: Option<i64> = reader
            .query_row(
                "SELECT checked_at_ms FROM readiness_probe WHERE checked_at_ms = 7",
                [],
                |row| row.get(0),
            )
            .optional()
            .expect("query");
        assert_eq!(probe, None, "the failed change's first write was undone");
    }
}
