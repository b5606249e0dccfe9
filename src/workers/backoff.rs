//! When a worker tries again a record WHMCS could not take yet.
//!
//! The upgrade, cancellation and transfer workers go over their open
//! records on every commit that adds one and every minute. Without a wait, a WHMCS outage
//! made each new record retry every waiting one (a write each): work that
//! grew with the square of the backlog. Each record that had to wait is now
//! left alone for 30 s after its first failure, doubling to 15 minutes.
//! Kept in memory: after a restart each is tried once more at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

const FIRST: SignedDuration = SignedDuration::from_secs(30);
const LONGEST: SignedDuration = SignedDuration::from_secs(15 * 60);

/// Records waiting for WHMCS, by row id: when each may be tried again and
/// how often it waited in a row.
#[derive(Debug, Clone, Default)]
pub struct Backoff(Arc<Mutex<HashMap<i64, (Timestamp, u32)>>>);

impl Backoff {
    /// Whether row `id` may be tried at `now`.
    pub fn due(&self, id: i64, now: Timestamp) -> bool {
        self.lock().get(&id).is_none_or(|(at, _)| *at <= now)
    }

    /// Row `id` had to wait at `now`: it is left alone a while.
    pub fn wait(&self, id: i64, now: Timestamp) {
        let mut waiting = self.lock();
        let failures = waiting.get(&id).map_or(0, |(_, failures)| *failures);
        let delay = FIRST
            .checked_mul(1 << failures.min(5))
            .unwrap_or(LONGEST)
            .min(LONGEST);
        waiting.insert(id, (now + delay, failures.saturating_add(1)));
    }

    /// Row `id` was carried out, or left the worker's hands.
    pub fn done(&self, id: i64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Timestamp, u32)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_record_is_left_alone_30_s_then_twice_as_long_up_to_15_min() {
        let backoff = Backoff::default();
        let start = Timestamp::from_second(1_000_000).unwrap();
        let at = |seconds: i64| start + SignedDuration::from_secs(seconds);
        assert!(backoff.due(7, start));
        backoff.wait(7, start);
        assert!(!backoff.due(7, at(29)));
        assert!(backoff.due(7, at(30)));
        assert!(backoff.due(8, start), "other rows are not held");
        backoff.wait(7, at(30));
        assert!(!backoff.due(7, at(89)));
        assert!(backoff.due(7, at(90)));
        let mut now = at(90);
        for _ in 0..10 {
            backoff.wait(7, now);
            now += SignedDuration::from_secs(15 * 60);
            assert!(backoff.due(7, now), "never more than 15 minutes");
        }
        backoff.done(7);
        assert!(backoff.due(7, start));
    }
}
