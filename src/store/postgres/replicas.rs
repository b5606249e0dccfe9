//! Replicas on one PostgreSQL database: each one's heartbeat, the one
//! leader (a row with a time to live, renewed by the leader's heartbeat
//! and taken over once it lapses: not a session advisory lock, which a
//! connection pooler breaks), and the leader's rescue of a dead replica's
//! work.
//!
//! Every time is read on the database's clock (`NOW_MS`), so replicas
//! whose clocks disagree still agree on who is alive and who leads.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use deadpool_postgres::{GenericClient, Pool};

use super::sql::{DEAD_AFTER_MS, NOW_MS, PgResult, RELEASE, dead, time};
use super::tx::Tx;
use crate::metrics::Metrics;
use crate::store::replicas::Replica;
use crate::store::wake::{Signals, Work};

/// How often a replica says it is alive (and the leader renews its term).
pub(super) const HEARTBEAT: Duration = Duration::from_secs(3);
/// How long a leader's term lasts without a renewal.
pub(super) const LEADER_TTL_MS: i64 = 10_000;

/// This replica: its name, and until when its term as leader lasts.
pub(super) struct Me {
    pub(super) id: String,
    pub(super) host: String,
    /// The end of the term, by this process's clock, counted from before
    /// the heartbeat that renewed it and a second short: past it, this
    /// replica no longer takes itself for the leader, whether or not its
    /// next heartbeat came back (another may have taken the term by then).
    term_ends: Mutex<Option<Instant>>,
}

impl Me {
    pub(super) fn new() -> Self {
        let host = hostname();
        Self {
            id: format!("{host}-{}", ulid::Ulid::generate()),
            host,
            term_ends: Mutex::new(None),
        }
    }

    /// Whether this replica leads now.
    pub(super) fn leads(&self) -> bool {
        self.term_ends
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|end| Instant::now() < end)
    }

    /// The term was renewed by a heartbeat that began at `began` (or not).
    fn term(&self, renewed: bool, began: Instant) {
        let end = renewed.then(|| {
            began + Duration::from_millis(u64::try_from(LEADER_TTL_MS).unwrap_or(0))
                - Duration::from_secs(1)
        });
        *self
            .term_ends
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = end;
    }
}

/// The host's name, for the operator (the `HOSTNAME` setting a container
/// has, else the kernel's).
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "puente".to_owned())
}

/// Says `me` is alive (first call: registers it).
async fn beat(tx: &Tx<'_>, me: &Me) -> PgResult<()> {
    tx.execute(
        &format!(
            "INSERT INTO replicas (id, host, version, started_at_ms, heartbeat_at_ms)
             VALUES ($1, $2, $3, {NOW_MS}, {NOW_MS})
             ON CONFLICT (id) DO UPDATE SET heartbeat_at_ms = excluded.heartbeat_at_ms"
        ),
        &[&me.id, &me.host, &env!("CARGO_PKG_VERSION")],
    )
    .await?;
    Ok(())
}

/// Takes or renews the leader's term for `me`; whether `me` leads now.
async fn lead(tx: &Tx<'_>, me: &Me) -> PgResult<bool> {
    let changed = tx
        .execute(
            &format!(
                "UPDATE leadership
                    SET epoch = epoch + CASE WHEN replica = $1 THEN 0 ELSE 1 END,
                        replica = $1, expires_at_ms = {NOW_MS} + {LEADER_TTL_MS}
                  WHERE id = 1 AND (replica = $1 OR expires_at_ms < {NOW_MS})"
            ),
            &[&me.id],
        )
        .await?;
    Ok(changed == 1)
}

/// What a rescue took back, by the metric's kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rescued {
    pub(super) uncertain: u64,
    pub(super) messages: u64,
    pub(super) upgrades: u64,
    pub(super) cancellations: u64,
    pub(super) transfers: u64,
}

/// The leader's sweep: a dead replica's `sending` messages become
/// `uncertain` (they may have reached the client; only an operator sends
/// them again), and every other row it held is handed back, waking the
/// workers of every replica for it (the workers read WHMCS before they
/// act, so work it had begun is not done twice).
async fn rescue(tx: &Tx<'_>) -> PgResult<Rescued> {
    let owner_dead = dead("lease_owner");
    let released = |table: &str, statuses: &str| {
        format!(
            "UPDATE {table} SET {RELEASE}
              WHERE lease_owner IS NOT NULL AND ({statuses}) AND {owner_dead}"
        )
    };
    let uncertain = super::messages::mark_interrupted(tx).await?;
    let messages = tx
        .execute(&released("messages", "status = 'planned'"), &[])
        .await?;
    let upgrades = tx
        .execute(
            &released("upgrade_applications", "status IN ('planned', 'applying')"),
            &[],
        )
        .await?;
    let cancellations = tx
        .execute(
            &released(
                "cancellations",
                "status IN ('unconfirmed', 'requested', 'scheduled', 'terminating')",
            ),
            &[],
        )
        .await?;
    let transfers = tx
        .execute(
            &released(
                "transfers",
                "status IN ('requested', 'accepted', 'approved', 'moving')",
            ),
            &[],
        )
        .await?;
    let rescued = Rescued {
        uncertain: u64::try_from(uncertain).unwrap_or(u64::MAX),
        messages,
        upgrades,
        cancellations,
        transfers,
    };
    for (count, work) in [
        (rescued.messages, Work::Alerts),
        (rescued.upgrades, Work::Upgrades),
        (rescued.cancellations, Work::Cancellations),
        (rescued.transfers, Work::Transfers),
    ] {
        if count > 0 {
            tx.wake(work);
        }
    }
    Ok(rescued)
}

/// Every replica seen in the last day, newest heartbeat first, as `me`
/// sees them.
pub(super) async fn list(client: &impl GenericClient, me: &Me) -> PgResult<Vec<Replica>> {
    let rows = client
        .query(
            &format!(
                "SELECT r.id, r.host, r.version, r.started_at_ms,
                        greatest({NOW_MS} - r.heartbeat_at_ms, 0),
                        r.stopped_at_ms IS NULL AND r.heartbeat_at_ms > {NOW_MS} - {DEAD_AFTER_MS},
                        l.replica IS NOT NULL
                   FROM replicas r
                   LEFT JOIN leadership l ON l.replica = r.id AND l.expires_at_ms > {NOW_MS}
                  WHERE r.heartbeat_at_ms > {NOW_MS} - 86400000
                  ORDER BY r.heartbeat_at_ms DESC"
            ),
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get(0)?;
            let age: i64 = row.try_get(4)?;
            Ok(Replica {
                this: id == me.id,
                id,
                host: row.try_get(1)?,
                version: row.try_get(2)?,
                started_at: time(row.try_get(3)?).to_string(),
                heartbeat_age_ms: u64::try_from(age).unwrap_or(0),
                alive: row.try_get(5)?,
                leader: row.try_get(6)?,
            })
        })
        .collect()
}

/// One heartbeat: alive, leader's term, and the leader's rescue, in one
/// transaction; then the metrics.
pub(super) async fn once(
    pool: &Pool,
    me: &Me,
    signals: &Signals,
    metrics: &Metrics,
) -> PgResult<()> {
    let began = Instant::now();
    let mut client = pool.get().await?;
    let tx = Tx::begin(&mut client).await?;
    beat(&tx, me).await?;
    let leads = lead(&tx, me).await?;
    let rescued = if leads {
        rescue(&tx).await?
    } else {
        Rescued::default()
    };
    tx.commit(signals).await?;
    if leads != me.leads() {
        tracing::info!(replica = %me.id, leads, "leadership changed");
    }
    me.term(leads, began);
    if rescued != Rescued::default() {
        tracing::warn!(
            ?rescued,
            "took back the work of a replica that stopped beating"
        );
    }
    metrics.record_rescues("message_uncertain", rescued.uncertain);
    metrics.record_rescues("message", rescued.messages);
    metrics.record_rescues("upgrade", rescued.upgrades);
    metrics.record_rescues("cancellation", rescued.cancellations);
    metrics.record_rescues("transfer", rescued.transfers);
    let replicas = list(&client, me).await?;
    metrics.record_replicas(
        replicas
            .iter()
            .filter(|replica| replica.alive)
            .map(|replica| {
                (
                    replica.id.as_str(),
                    replica.heartbeat_age_ms,
                    replica.leader,
                )
            }),
    );
    Ok(())
}

/// Beats every [`HEARTBEAT`] until the task is aborted.
pub(super) async fn run(pool: Pool, me: Arc<Me>, signals: Signals, metrics: Arc<Metrics>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = once(&pool, &me, &signals, &metrics).await {
            // The term runs out by itself (`Me::leads`) if no beat renews it.
            tracing::warn!(%error, "heartbeat failed");
            // Its last reading of the replicas is no longer known to hold.
            metrics.record_replicas([]);
        }
    }
}

/// A graceful stop: `me` stopped, its term and its leases handed back now
/// rather than after they lapse.
pub(super) async fn stop(tx: &Tx<'_>, me: &Me) -> PgResult<()> {
    tx.execute(
        &format!("UPDATE replicas SET stopped_at_ms = {NOW_MS} WHERE id = $1"),
        &[&me.id],
    )
    .await?;
    tx.execute(
        "UPDATE leadership SET expires_at_ms = 0 WHERE id = 1 AND replica = $1",
        &[&me.id],
    )
    .await?;
    for table in [
        "messages",
        "upgrade_applications",
        "cancellations",
        "transfers",
    ] {
        let status = if table == "messages" {
            // A send in flight stays this replica's: the rescue decides.
            " AND status <> 'sending'"
        } else {
            ""
        };
        tx.execute(
            &format!("UPDATE {table} SET {RELEASE} WHERE lease_owner = $1{status}"),
            &[&me.id],
        )
        .await?;
    }
    Ok(())
}
