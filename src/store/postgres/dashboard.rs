//! What the dashboard keeps and reads beside the other tables' lists, on
//! PostgreSQL: the overview's figures, and credentials spent before their
//! expiry (used sign-in links and signed-out sessions, table
//! `dashboard_spent`).

use deadpool_postgres::GenericClient;

use super::sql::{AnyStatus, PgResult};
use super::tx::Tx;
use crate::domain::ids::InstanceName;
use crate::domain::transfer::Status as TransferStatus;
use crate::store::dashboard::{Counts, DueWork, Gauges, WorkerKind, count};

/// Records `token` as spent until `expires` (Unix seconds); false when it
/// already was. Forgets whatever expired by `now` on the way.
pub async fn spend(tx: &Tx<'_>, token: &str, expires: i64, now: i64) -> PgResult<bool> {
    let forget = tx
        .prepare_cached("DELETE FROM dashboard_spent WHERE expires <= $1")
        .await?;
    tx.execute(&forget, &[&now]).await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO dashboard_spent (token, expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await?;
    let inserted = tx.execute(&insert, &[&token, &expires]).await?;
    Ok(inserted == 1)
}

/// Whether `token` was spent and has not expired by `now`.
pub async fn is_spent(client: &impl GenericClient, token: &str, now: i64) -> PgResult<bool> {
    let statement = client
        .prepare_cached("SELECT 1 FROM dashboard_spent WHERE token = $1 AND expires > $2")
        .await?;
    Ok(client
        .query_opt(&statement, &[&token, &now])
        .await?
        .is_some())
}

/// Messages waiting to be sent (the outbox's due index holds them) and
/// dead letters (a partial index holds only those), of instance `$1` or
/// all; SQLite's `messages::waiting_and_dead`.
const WAITING_AND_DEAD: &str = "SELECT
        (SELECT count(*) FROM messages
          WHERE status = 'planned' AND ($1::text IS NULL OR instance = $1)),
        (SELECT count(*) FROM messages
          WHERE status = 'dead' AND ($1::text IS NULL OR instance = $1))";

/// Messages waiting to be sent and dead letters, of `instance` or all.
async fn waiting_and_dead(
    client: &impl GenericClient,
    instance: Option<&str>,
) -> PgResult<(i64, i64)> {
    let statement = client.prepare_cached(WAITING_AND_DEAD).await?;
    let row = client.query_one(&statement, &[&instance]).await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// The rules' figures of instance `$1` or all: failed upgrades, failed and
/// unconfirmed cancellations, open transfers.
static RECORDS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT
            (SELECT count(*) FROM upgrade_applications
              WHERE status = 'failed' AND ($1::text IS NULL OR instance = $1)),
            (SELECT count(*) FROM cancellations
              WHERE status = 'failed' AND ($1::text IS NULL OR instance = $1)),
            (SELECT count(*) FROM cancellations
              WHERE status = 'unconfirmed' AND ($1::text IS NULL OR instance = $1)),
            (SELECT count(*) FROM transfers
              WHERE ({}) AND ($1::text IS NULL OR instance = $1))",
        AnyStatus(TransferStatus::OPEN)
    )
});

/// The overview's figures, of `instance` or all, read in one go.
pub async fn counts(
    client: &impl GenericClient,
    instance: Option<&InstanceName>,
) -> PgResult<Counts> {
    let name = instance.map(InstanceName::as_str);
    let (backlog, dead) = waiting_and_dead(client, name).await?;
    let statement = client.prepare_cached(&RECORDS).await?;
    let row = client.query_one(&statement, &[&name]).await?;
    Ok(Counts {
        backlog,
        dead,
        failed_upgrades: row.try_get(0)?,
        failed_cancellations: row.try_get(1)?,
        unconfirmed_cancellations: row.try_get(2)?,
        open_transfers: row.try_get(3)?,
    })
}

/// Alerts planned and past their next try (`$1`: now, Unix milliseconds).
const OUTBOX_DUE: &str =
    "SELECT instance, count(*), min(coalesce(next_attempt_at_ms, planned_at_ms))
       FROM messages
      WHERE status = 'planned' AND coalesce(next_attempt_at_ms, planned_at_ms) <= $1
      GROUP BY instance";

/// Upgrades planned or interrupted.
const UPGRADES_DUE: &str = "SELECT instance, count(*), min(planned_at_ms)
       FROM upgrade_applications
      WHERE status = 'planned' OR status = 'applying'
      GROUP BY instance";

/// Cancellations requested, being carried out, or scheduled for a day
/// that has ended (`$1`: today's UTC date).
const CANCELLATIONS_DUE: &str = "SELECT instance, count(*),
            min(CASE WHEN status = 'scheduled'
                     THEN (extract(epoch FROM effective_date::date + 1) * 1000)::bigint
                     ELSE requested_at_ms END)
       FROM cancellations
      WHERE subject_kind = 'service'
        AND (status = 'requested' OR status = 'terminating'
             OR (status = 'scheduled' AND effective_date < $1))
      GROUP BY instance";

/// Transfers to move, and unanswered ones past their expiry (`$1`: now).
const TRANSFERS_DUE: &str = "SELECT instance, count(*),
            min(CASE WHEN status = 'requested' OR (status = 'accepted' AND approval = 'staff')
                     THEN expires_at_ms ELSE updated_at_ms END)
       FROM transfers
      WHERE (status = 'accepted' AND approval = 'none') OR status = 'approved'
            OR status = 'moving'
            OR ((status = 'requested' OR (status = 'accepted' AND approval = 'staff'))
                AND expires_at_ms <= $1)
      GROUP BY instance";

const REPLIES_DUE: &str =
    "SELECT instance, count(*), min(coalesce(next_attempt_at_ms, received_at_ms))
       FROM inbound_messages
      WHERE handling = 'due' AND coalesce(next_attempt_at_ms, received_at_ms) <= $1
      GROUP BY instance";

/// What alerts read at each scrape: due work and dead letters.
pub async fn gauges(client: &impl GenericClient, now_ms: i64, today: &str) -> PgResult<Gauges> {
    let mut gauges = Gauges::default();
    let due: [(
        WorkerKind,
        &str,
        &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ); 5] = [
        (WorkerKind::Outbox, OUTBOX_DUE, &[&now_ms]),
        (WorkerKind::Upgrades, UPGRADES_DUE, &[]),
        (WorkerKind::Cancellations, CANCELLATIONS_DUE, &[&today]),
        (WorkerKind::Transfers, TRANSFERS_DUE, &[&now_ms]),
        (WorkerKind::Replies, REPLIES_DUE, &[&now_ms]),
    ];
    for (worker, sql, params) in due {
        let statement = client.prepare_cached(sql).await?;
        for row in client.query(&statement, params).await? {
            gauges.due.push(DueWork {
                worker,
                instance: row.try_get(0)?,
                count: count(row.try_get(1)?),
                oldest_due_ms: row.try_get(2)?,
            });
        }
    }
    let statement = client
        .prepare_cached(
            "SELECT instance, count(*) FROM messages WHERE status = 'dead' GROUP BY instance",
        )
        .await?;
    for row in client.query(&statement, &[]).await? {
        gauges
            .dead_letters
            .insert(row.try_get(0)?, count(row.try_get(1)?));
    }
    Ok(gauges)
}
