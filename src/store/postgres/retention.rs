//! Retention on PostgreSQL: an instance's events older than its
//! `retention_days` are deleted with their messages and the messages'
//! attempts, in batches run by the writer. An event stays while one of its
//! messages is still open (`planned`, `sending`) or an upgrade,
//! cancellation or transfer record points at it: those records are the
//! audit trail of money and ownership and keep the event that caused them.

use super::plan::RECORD_TABLES;
use super::sql::PgResult;
use super::tx::Tx;
use crate::store::retention::{BATCH, Purged};

const CUTOFF: &str = "SELECT min(seq) FROM events WHERE received_at_ms >= $1";
const NEXT_INSTANCE: &str =
    "SELECT instance FROM events WHERE instance > $1 ORDER BY instance LIMIT 1";
const CANDIDATES: &str = "SELECT seq FROM events WHERE instance = $1 AND seq > $2 AND seq < $3
                           ORDER BY seq LIMIT $4";
/// Locks the messages of the candidates (`$1`, an array of `seq`), so none
/// of them is put back to `planned` (a retry) between [`NEEDED`] and the
/// deletion: a retry waits for the batch, then finds its message gone.
const LOCK_MESSAGES: &str =
    "SELECT id FROM messages WHERE event_seq = ANY($1) ORDER BY id FOR UPDATE";
/// Whether event `$1` must stay: an alert of it still to send, or a rule's
/// record of it (every table of [`RECORD_TABLES`]).
static NEEDED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let records = RECORD_TABLES
        .iter()
        .map(|table| format!(" OR EXISTS (SELECT 1 FROM {table} WHERE event_seq = $1)"))
        .collect::<String>();
    format!(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE event_seq = $1
                          AND (status = 'planned' OR status = 'sending')){records}"
    )
});
const DELETE_ATTEMPTS: &str = "DELETE FROM message_attempts
                                WHERE message_id IN (SELECT id FROM messages WHERE event_seq = $1)";
const DELETE_MESSAGES: &str = "DELETE FROM messages WHERE event_seq = $1";
const DELETE_EVENT: &str = "DELETE FROM events WHERE seq = $1";
const DELETE_NOTIFICATIONS: &str = "DELETE FROM whatsapp_notifications WHERE body_sha256 IN (
                                        SELECT body_sha256 FROM whatsapp_notifications
                                         WHERE received_at_ms < $1 ORDER BY received_at_ms LIMIT $2)";

/// [`BATCH`] as a `LIMIT`.
fn batch_limit() -> i64 {
    i64::try_from(BATCH).unwrap_or(i64::MAX)
}

/// Rows a statement changed, as the counts of [`Purged`] keep them.
fn count(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}

/// The smallest `seq` among the events received at or after `cutoff`
/// (the one after the newest when there is none): every event before it is older.
/// Several replicas insert at once, so `seq` order is not receive-time
/// order here: the index on receive times finds it, where SQLite searches
/// `seq`. An older event after it waits for a later pass.
pub async fn cutoff_seq(tx: &Tx<'_>, cutoff: jiff::Timestamp) -> PgResult<i64> {
    let statement = tx.prepare_cached(CUTOFF).await?;
    let first: Option<i64> = tx
        .query_one(&statement, &[&cutoff.as_millisecond()])
        .await?
        .try_get(0)?;
    match first {
        Some(seq) => Ok(seq),
        // None that recent: the one after the newest, so an event stored
        // while the pass runs is never taken for an old one.
        None => {
            let newest: i64 = tx
                .query_one("SELECT coalesce(max(seq), 0) FROM events", &[])
                .await?
                .try_get(0)?;
            Ok(newest.saturating_add(1))
        }
    }
}

/// The instance names that have events, in order, after `after` (one
/// index seek each, not a scan of the events).
pub async fn next_instance(tx: &Tx<'_>, after: &str) -> PgResult<Option<String>> {
    let statement = tx.prepare_cached(NEXT_INSTANCE).await?;
    Ok(tx
        .query_opt(&statement, &[&after])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?)
}

/// Deletes what can go among `instance`'s next [`BATCH`] events with `seq`
/// in `(after, before)`; returns what it did and the last `seq` examined
/// (`None`: nothing left in the range).
pub async fn purge_batch(
    tx: &Tx<'_>,
    instance: &str,
    after: i64,
    before: i64,
) -> PgResult<(Purged, Option<i64>)> {
    let statement = tx.prepare_cached(CANDIDATES).await?;
    let candidates = tx
        .query(&statement, &[&instance, &after, &before, &batch_limit()])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
    let mut purged = Purged::default();
    if candidates.is_empty() {
        return Ok((purged, None));
    }
    let lock = tx.prepare_cached(LOCK_MESSAGES).await?;
    tx.execute(&lock, &[&candidates]).await?;
    let needed = tx.prepare_cached(&NEEDED).await?;
    let delete_attempts = tx.prepare_cached(DELETE_ATTEMPTS).await?;
    let delete_messages = tx.prepare_cached(DELETE_MESSAGES).await?;
    let delete_event = tx.prepare_cached(DELETE_EVENT).await?;
    for seq in &candidates {
        if tx.query_one(&needed, &[seq]).await?.try_get::<_, bool>(0)? {
            purged.kept += 1;
            continue;
        }
        purged.attempts += count(tx.execute(&delete_attempts, &[seq]).await?);
        purged.messages += count(tx.execute(&delete_messages, &[seq]).await?);
        purged.events += count(tx.execute(&delete_event, &[seq]).await?);
    }
    Ok((purged, candidates.last().copied()))
}

/// Deletes up to [`BATCH`] hashes of Meta notifications received before
/// `cutoff` (kept only to apply a redelivered body once), and up to as many
/// messages clients sent before it; the larger of the two numbers deleted.
pub async fn purge_notifications(tx: &Tx<'_>, cutoff: jiff::Timestamp) -> PgResult<usize> {
    let bound: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
        [&cutoff.as_millisecond(), &batch_limit()];
    let statement = tx.prepare_cached(DELETE_NOTIFICATIONS).await?;
    let notifications = count(tx.execute(&statement, &bound).await?);
    let statement = tx.prepare_cached(DELETE_INBOUND).await?;
    let inbound = count(tx.execute(&statement, &bound).await?);
    Ok(notifications.max(inbound))
}

const DELETE_INBOUND: &str = "DELETE FROM inbound_messages WHERE id IN (
                                  SELECT id FROM inbound_messages
                                   WHERE received_at_ms < $1 ORDER BY received_at_ms LIMIT $2)";
