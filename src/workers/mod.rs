//! The background workers, and the one loop they all run in.
//!
//! Each worker is a [`Worker`]: one pass over what is due now, at most a
//! pass limit of it. [`run`] gives way while hooks flood in, runs passes
//! back to back while one stops at its limit, rests after a failed pass,
//! and otherwise waits for its [`Work`] to be woken by a commit or for the
//! pause the pass asked for, whichever comes first. Tests drive the
//! workers' passes themselves and never start the loop.

pub mod backoff;
pub mod cancellations;
pub mod outbox;
pub mod reconcile;
pub mod replies;
pub mod retention;
pub mod templates;
pub mod transfers;
pub mod upgrades;

use std::future::Future;
use std::time::Duration;

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::store::{FloodWatch, GIVE_WAY, Store, Work};

/// How long a worker rests when nothing wakes it, and after a failed pass.
pub const IDLE_PASS: Duration = Duration::from_secs(60);

/// What a pass tells the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// The pass stopped at its limit: more is due now.
    pub more: bool,
    /// How long to rest before the next pass when nothing wakes the worker.
    pub rest: Duration,
}

impl Pass {
    /// A pass of a worker woken only by commits: it rests [`IDLE_PASS`]
    /// unless it stopped at its limit (`more`).
    pub fn done(more: bool) -> Self {
        Self {
            more,
            rest: IDLE_PASS,
        }
    }
}

/// What a pass does with its next record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    /// It is waiting out its back-off: skip it (counted as waiting).
    Skip,
    /// The pass tried as many as it may: stop, more are due.
    Stop,
    Go,
}

/// One pass's budget: a record waiting out its back-off is skipped, and at
/// most `limit` records are tried before the worker looks up (at a flood of
/// hooks) again.
pub(crate) struct Budget<'a> {
    backoff: &'a backoff::Backoff,
    now: jiff::Timestamp,
    limit: usize,
    tried: usize,
    /// Records skipped while waiting out their back-off.
    pub(crate) skipped: usize,
    /// The pass stopped at its limit: more are due now.
    pub(crate) more: bool,
}

impl<'a> Budget<'a> {
    pub(crate) fn new(backoff: &'a backoff::Backoff, now: jiff::Timestamp, limit: usize) -> Self {
        Self {
            backoff,
            now,
            limit,
            tried: 0,
            skipped: 0,
            more: false,
        }
    }

    /// What the pass does with record `id`.
    pub(crate) fn turn(&mut self, id: i64) -> Turn {
        if !self.backoff.due(id, self.now) {
            self.skipped += 1;
            Turn::Skip
        } else if self.tried >= self.limit {
            self.more = true;
            Turn::Stop
        } else {
            Turn::Go
        }
    }

    /// A record was tried.
    pub(crate) fn spend(&mut self) {
        self.tried += 1;
    }
}

/// One background worker.
pub trait Worker: Send + Sync + 'static {
    /// For the log.
    const NAME: &'static str;
    /// The work a commit wakes it for; `None`: it only runs on its rest.
    const WORK: Option<Work>;

    /// The store whose commits wake it and whose ingest it gives way to.
    fn store(&self) -> &dyn Store;

    /// Once, before the first pass (the outbox marks interrupted sends).
    fn start(&self) -> impl Future<Output = anyhow::Result<()>> + Send {
        async { Ok(()) }
    }

    /// One pass over what is due now.
    fn pass(&self) -> impl Future<Output = anyhow::Result<Pass>> + Send;

    /// Resolves once a commit left this worker work (at once if one did
    /// since the last wait); never for a worker without [`Worker::WORK`].
    fn woken(&self) -> impl Future<Output = ()> + Send {
        async {
            match Self::WORK {
                Some(work) => self.store().signals().woken(work).await,
                None => std::future::pending().await,
            }
        }
    }
}

/// Runs one pass of `worker` and says how long to rest before the next
/// when nothing wakes it (`Duration::ZERO`: go on at once). A failed pass
/// is logged, counted in `puente_worker_pass_failures_total` and rests
/// [`IDLE_PASS`].
pub async fn step<W: Worker>(worker: &W, metrics: &Metrics) -> Duration {
    match worker.pass().await {
        Ok(Pass { more: true, .. }) => Duration::ZERO,
        Ok(pass) => pass.rest,
        Err(error) => {
            tracing::error!(worker = W::NAME, error = %format!("{error:#}"), "worker pass failed");
            metrics.record_pass_failure(W::NAME);
            IDLE_PASS
        }
    }
}

/// Runs `worker` until the task is aborted.
pub async fn run<W: Worker>(worker: W, metrics: Arc<Metrics>) {
    if let Err(error) = worker.start().await {
        tracing::error!(worker = W::NAME, error = %format!("{error:#}"), "worker start failed");
    }
    let flood: FloodWatch = worker.store().signals().flood_watch();
    loop {
        // While hooks flood in, the work waits: nothing here is urgent to
        // the second, and WHMCS is waiting on every hook.
        if flood.flooded() {
            tokio::time::sleep(GIVE_WAY).await;
            continue;
        }
        let rest = step(&worker, &metrics).await;
        if rest.is_zero() {
            continue;
        }
        tokio::select! {
            () = worker.woken() => {}
            () = tokio::time::sleep(rest) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker whose passes give what it was told.
    struct Scripted(fn() -> anyhow::Result<Pass>);

    impl Worker for Scripted {
        // A real worker's name: the metrics know only those.
        const NAME: &'static str = "outbox";
        const WORK: Option<Work> = None;

        fn store(&self) -> &dyn Store {
            unreachable!("a step never asks for the store")
        }

        async fn pass(&self) -> anyhow::Result<Pass> {
            (self.0)()
        }
    }

    fn failures(metrics: &Metrics) -> Option<String> {
        metrics
            .render()
            .lines()
            .find(|line| line.starts_with("puente_worker_pass_failures_total{"))
            .map(str::to_owned)
    }

    #[tokio::test]
    async fn a_failed_pass_is_counted_and_rests_a_minute() {
        let metrics = Metrics::new();
        let failing = Scripted(|| Err(anyhow::anyhow!("WHMCS unreachable")));
        assert_eq!(step(&failing, &metrics).await, IDLE_PASS);
        assert_eq!(step(&failing, &metrics).await, IDLE_PASS);
        assert_eq!(
            failures(&metrics).as_deref(),
            Some("puente_worker_pass_failures_total{worker=\"outbox\"} 2")
        );
    }

    #[tokio::test]
    async fn a_pass_at_its_limit_goes_on_at_once_and_a_done_one_rests_as_asked() {
        let metrics = Metrics::new();
        let more = Scripted(|| Ok(Pass::done(true)));
        assert_eq!(step(&more, &metrics).await, Duration::ZERO);
        let done = Scripted(|| {
            Ok(Pass {
                more: false,
                rest: Duration::from_secs(7),
            })
        });
        assert_eq!(step(&done, &metrics).await, Duration::from_secs(7));
        assert_eq!(failures(&metrics), None, "nothing failed");
    }
}
