//! The retention worker: once an hour, each instance's events older than
//! its `retention_days` go, with their messages and attempts (see
//! [`crate::store::retention`] for what is kept), and so do Meta
//! notification hashes older than the longest retention.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::config::Config;
use crate::domain::ids::InstanceName;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::retention::{BATCH, Purged};

/// What a failed batch failed to do.
const BATCH_FAILED: &str = "a retention batch was not written";

/// How often a pass runs.
const EVERY: Duration = Duration::from_secs(3600);
/// Rest between two full batches, so retention takes a fraction of the
/// writer while events keep coming (a large backlog is deleted at a few
/// thousand events a second; a day's worth in well under a second).
const BETWEEN_BATCHES: Duration = Duration::from_millis(10);

#[derive(Clone)]
pub struct RetentionWorker {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl RetentionWorker {
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Self {
            config,
            store,
            metrics,
        }
    }

    /// One pass as of `now`; every batch is its own short transaction.
    pub async fn purge_at(&self, now: jiff::Timestamp) -> anyhow::Result<Purged> {
        let mut total = Purged::default();
        let mut previous = String::new();
        loop {
            let after = previous.clone();
            let Some(instance) = self
                .store
                .next_instance_with_events(after)
                .await
                .context(BATCH_FAILED)?
            else {
                break;
            };
            // A name this version cannot parse keeps the global retention.
            let days = match InstanceName::parse(&instance) {
                Ok(name) => self.config.for_instance(&name).retention_days,
                Err(_) => self.config.default_instance().rules.retention_days,
            };
            let cutoff = days_before(now, days);
            let before = self
                .store
                .retention_cutoff(cutoff)
                .await
                .context(BATCH_FAILED)?;
            let mut after_seq = i64::MIN;
            loop {
                let (purged, last) = self
                    .store
                    .purge_events(instance.clone(), after_seq, before)
                    .await
                    .context(BATCH_FAILED)?;
                for (table, count) in purged.by_table() {
                    self.metrics.record_purged(&instance, table, count);
                }
                total += purged;
                match last {
                    Some(last) => after_seq = last,
                    None => break,
                }
                tokio::time::sleep(BETWEEN_BATCHES).await;
            }
            previous = instance;
        }
        let longest = self
            .config
            .instances
            .values()
            .map(|instance| instance.rules.retention_days)
            .max()
            .unwrap_or(90);
        let cutoff = days_before(now, longest);
        while self
            .store
            .purge_notifications(cutoff)
            .await
            .context(BATCH_FAILED)?
            == BATCH
        {
            tokio::time::sleep(BETWEEN_BATCHES).await;
        }
        if total.events > 0 || total.kept > 0 {
            tracing::info!(
                events = total.events,
                messages = total.messages,
                attempts = total.attempts,
                kept = total.kept,
                "retention pass"
            );
        }
        Ok(total)
    }
}

fn days_before(now: jiff::Timestamp, days: u16) -> jiff::Timestamp {
    now - jiff::SignedDuration::from_hours(24 * i64::from(days))
}

impl super::Worker for RetentionWorker {
    const NAME: &'static str = "retention";
    const WORK: Option<crate::store::Work> = None;

    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Deletes what is past retention now, then rests an hour; on a
    /// replica that does not lead, looks again in a minute (one replica
    /// purges; several would only wait on each other's locks).
    async fn pass(&self) -> anyhow::Result<super::Pass> {
        if !self.store.is_leader() {
            return Ok(super::Pass::done(false));
        }
        self.purge_at(jiff::Timestamp::now()).await?;
        Ok(super::Pass {
            more: false,
            rest: EVERY,
        })
    }
}
