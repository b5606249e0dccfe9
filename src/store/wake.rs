//! Which worker a write leaves work for, how the worker learns of it, and
//! how busy ingest is.
//!
//! A store function that makes a row due for a worker (an alert planned, an
//! upgrade or cancellation retried, a transfer accepted) says so in the
//! same breath as its SQL (SQLite's `Tx::wake`); the backend wakes those
//! workers through its [`Signals`] once the transaction is durable. Nobody
//! wakes a worker by hand, so none can be forgotten, and a change that
//! rolls back wakes nobody.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The work of one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// The outbox: messages to send.
    Alerts,
    /// Upgrades to apply in WHMCS.
    Upgrades,
    /// Cancellations to schedule or carry out.
    Cancellations,
    /// Transfers with a move to make.
    Transfers,
    /// Messages clients sent, to act on (opt-outs, replies to tickets).
    Replies,
}

impl Work {
    pub const ALL: [Work; 5] = [
        Work::Alerts,
        Work::Upgrades,
        Work::Cancellations,
        Work::Transfers,
        Work::Replies,
    ];

    /// Its place in [`Work::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Its name, as a `NOTIFY` between replicas carries it.
    pub const fn name(self) -> &'static str {
        match self {
            Work::Alerts => "alerts",
            Work::Upgrades => "upgrades",
            Work::Cancellations => "cancellations",
            Work::Transfers => "transfers",
            Work::Replies => "replies",
        }
    }
}

/// The workers a commit left work for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Wake(u8);

impl Wake {
    pub fn add(&mut self, work: Work) {
        self.0 |= 1 << work.index();
    }

    pub fn contains(self, work: Work) -> bool {
        self.0 & (1 << work.index()) != 0
    }

    /// Each worker to wake, in [`Work::ALL`] order.
    pub fn works(self) -> impl Iterator<Item = Work> {
        Work::ALL
            .into_iter()
            .filter(move |work| self.contains(*work))
    }
}

impl std::ops::BitOrAssign for Wake {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

/// What a backend tells the workers: which work its commits left, and how
/// many events it committed (for a worker that gives way to a flood).
#[derive(Clone, Default)]
pub struct Signals {
    /// One per kind of [`Work`], in [`Work::ALL`] order.
    wakers: Arc<[tokio::sync::Notify; Work::ALL.len()]>,
    committed: Arc<AtomicU64>,
}

impl Signals {
    /// Wakes the worker of each work in `wake`: called once the commit that
    /// left it is durable.
    pub fn wake(&self, wake: Wake) {
        for work in wake.works() {
            self.wakers[work.index()].notify_one();
        }
    }

    /// Resolves once a commit left `work` for its worker (at once if one
    /// did since the last wait). One waiter per kind of work.
    pub async fn woken(&self, work: Work) {
        self.wakers[work.index()].notified().await;
    }

    /// Counts `events` more committed events.
    pub fn committed(&self, events: usize) {
        self.committed
            .fetch_add(u64::try_from(events).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Events committed since start (new and duplicate).
    pub fn events_committed(&self) -> u64 {
        self.committed.load(Ordering::Relaxed)
    }

    /// A watch of ingest for a worker that gives way to floods of hooks.
    pub fn flood_watch(&self) -> FloodWatch {
        FloodWatch {
            signals: self.clone(),
            last: Arc::new(std::sync::Mutex::new(IngestWatch {
                at: std::time::Instant::now(),
                committed: self.events_committed(),
            })),
        }
    }
}

/// Ingest, in events per second, from which workers give way: far above
/// what a WHMCS install sends (a busy one sends a few per second), reached
/// by a flood of hooks, a replay of a long outage or a benchmark.
pub const BUSY_INGEST_PER_S: u64 = 2_000;

/// How long a worker (the outbox, the upgrade and cancellation workers)
/// rests before it looks again while ingest is that busy, so the hooks WHMCS
/// waits on keep the CPU; the backlog is worked off once the flood ends.
pub const GIVE_WAY: std::time::Duration = std::time::Duration::from_millis(100);

/// A worker's view of ingest: whether hooks flooded in since it last
/// looked (see [`BUSY_INGEST_PER_S`]). Made by [`Signals::flood_watch`].
#[derive(Clone)]
pub struct FloodWatch {
    signals: Signals,
    last: Arc<std::sync::Mutex<IngestWatch>>,
}

impl FloodWatch {
    /// Whether ingest ran at [`BUSY_INGEST_PER_S`] or more since the last
    /// look; remembers this look.
    pub fn flooded(&self) -> bool {
        let committed = self.signals.events_committed();
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .busy(committed, std::time::Instant::now())
    }
}

/// Events committed when a worker last looked, and when.
#[derive(Debug, Clone, Copy)]
struct IngestWatch {
    at: std::time::Instant,
    committed: u64,
}

impl IngestWatch {
    /// Whether ingest since the last look ran at [`BUSY_INGEST_PER_S`] or
    /// more; remembers this look.
    fn busy(&mut self, committed: u64, now: std::time::Instant) -> bool {
        let events = committed.saturating_sub(self.committed);
        // Over at least 100 ms, so that two hooks of one WHMCS action
        // arriving together are not a flood.
        let elapsed_ms = u64::try_from(now.saturating_duration_since(self.at).as_millis())
            .unwrap_or(u64::MAX)
            .max(100);
        *self = Self { at: now, committed };
        events.saturating_mul(1000) >= BUSY_INGEST_PER_S.saturating_mul(elapsed_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_gives_way_from_two_thousand_events_a_second() {
        let start = std::time::Instant::now();
        let mut watch = IngestWatch {
            at: start,
            committed: 0,
        };
        let later = |ms| start + std::time::Duration::from_millis(ms);
        // 199 events in 100 ms: 1990/s.
        assert!(!watch.busy(199, later(100)));
        // 200 more in the next 100 ms: 2000/s.
        assert!(watch.busy(399, later(200)));
        // Quiet again: nothing for a second.
        assert!(!watch.busy(399, later(1200)));
        // A few events at once are no flood; 200 within 10 ms are.
        assert!(!watch.busy(405, later(1201)));
        assert!(watch.busy(605, later(1211)));
    }
}
