//! Retention: an instance's events older than its `retention_days` are
//! deleted with their messages and the messages' attempts, in batches run by
//! the writer. An event stays while one of its messages is still open
//! (`planned`, `sending`) or an upgrade, cancellation or transfer record
//! points at it: those records are the audit trail of money and ownership
//! and keep the event that caused them.

use rusqlite::{Connection, OptionalExtension, params};

use super::events::first_seq_received_since;
use super::plan::RECORD_TABLES;
use crate::store::retention::{BATCH, Purged};

const NEXT_INSTANCE: &str =
    "SELECT instance FROM events WHERE instance > ?1 ORDER BY instance LIMIT 1";
const CANDIDATES: &str = "SELECT seq FROM events WHERE instance = ?1 AND seq > ?2 AND seq < ?3
                           ORDER BY seq LIMIT ?4";
/// Whether event `?1` must stay: an alert of it still to send, or a rule's
/// record of it (every table of [`RECORD_TABLES`]).
static NEEDED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let records = RECORD_TABLES
        .iter()
        .map(|table| format!(" OR EXISTS (SELECT 1 FROM {table} WHERE event_seq = ?1)"))
        .collect::<String>();
    format!(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE event_seq = ?1
                          AND (status = 'planned' OR status = 'sending')){records}"
    )
});
const DELETE_ATTEMPTS: &str = "DELETE FROM message_attempts
                                WHERE message_id IN (SELECT id FROM messages WHERE event_seq = ?1)";
const DELETE_MESSAGES: &str = "DELETE FROM messages WHERE event_seq = ?1";
const DELETE_EVENT: &str = "DELETE FROM events WHERE seq = ?1";
const DELETE_NOTIFICATIONS: &str = "DELETE FROM whatsapp_notifications WHERE body_sha256 IN (
                                        SELECT body_sha256 FROM whatsapp_notifications
                                         WHERE received_at_ms < ?1 ORDER BY received_at_ms LIMIT ?2)";

const DELETE_INBOUND: &str = "DELETE FROM inbound_messages WHERE id IN (
                                  SELECT id FROM inbound_messages
                                   WHERE received_at_ms < ?1 ORDER BY received_at_ms LIMIT ?2)";

/// The first `seq` received at or after `cutoff`: every event before it is
/// older (events arrive in receive-time order). When none is that recent,
/// the one after the newest: an event stored while the pass runs is not
/// old, whatever its number.
pub fn cutoff_seq(connection: &Connection, cutoff: jiff::Timestamp) -> rusqlite::Result<i64> {
    match first_seq_received_since(connection, cutoff)? {
        Some(seq) => Ok(seq),
        None => Ok(connection
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |row| {
                row.get::<_, i64>(0)
            })?
            .saturating_add(1)),
    }
}

/// The instance names that have events, in order, after `after` (one
/// index seek each, not a scan of the events).
pub fn next_instance(connection: &Connection, after: &str) -> rusqlite::Result<Option<String>> {
    connection
        .prepare_cached(NEXT_INSTANCE)?
        .query_row([after], |row| row.get(0))
        .optional()
}

/// Deletes what can go among `instance`'s next [`BATCH`] events with `seq`
/// in `(after, before)`; returns what it did and the last `seq` examined
/// (`None`: nothing left in the range).
pub fn purge_batch(
    connection: &Connection,
    instance: &str,
    after: i64,
    before: i64,
) -> rusqlite::Result<(Purged, Option<i64>)> {
    let candidates: Vec<i64> = connection
        .prepare_cached(CANDIDATES)?
        .query_map(
            params![
                instance,
                after,
                before,
                i64::try_from(BATCH).unwrap_or(i64::MAX)
            ],
            |row| row.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut purged = Purged::default();
    for &seq in &candidates {
        let needed: bool = connection
            .prepare_cached(&NEEDED)?
            .query_row([seq], |row| row.get(0))?;
        if needed {
            purged.kept += 1;
            continue;
        }
        purged.attempts += connection.prepare_cached(DELETE_ATTEMPTS)?.execute([seq])?;
        purged.messages += connection.prepare_cached(DELETE_MESSAGES)?.execute([seq])?;
        purged.events += connection.prepare_cached(DELETE_EVENT)?.execute([seq])?;
    }
    Ok((purged, candidates.last().copied()))
}

/// Deletes up to [`BATCH`] hashes of Meta notifications received before
/// `cutoff` (kept only to apply a redelivered body once), and up to as many
/// messages clients sent before it; the larger of the two numbers deleted
/// (a full batch means more may be left).
pub fn purge_notifications(
    connection: &Connection,
    cutoff: jiff::Timestamp,
) -> rusqlite::Result<usize> {
    let bound = params![
        cutoff.as_millisecond(),
        i64::try_from(BATCH).unwrap_or(i64::MAX)
    ];
    let notifications = connection
        .prepare_cached(DELETE_NOTIFICATIONS)?
        .execute(bound)?;
    let inbound = connection.prepare_cached(DELETE_INBOUND)?.execute(bound)?;
    Ok(notifications.max(inbound))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Database;
    use super::*;

    /// Every statement of a pass reads index ranges or rows by key, never
    /// a whole table, however large the tables grow.
    #[test]
    fn a_pass_never_scans_a_table() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("r.db"), Duration::from_secs(1)).expect("open");
        let connection = database.reader().expect("reader");
        for sql in [
            NEXT_INSTANCE,
            CANDIDATES,
            &NEEDED,
            DELETE_ATTEMPTS,
            DELETE_MESSAGES,
            DELETE_EVENT,
            DELETE_NOTIFICATIONS,
        ] {
            let mut statement = connection
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let unbound = std::iter::repeat_n(rusqlite::types::Null, statement.parameter_count());
            let plan: Vec<String> = statement
                .query_map(rusqlite::params_from_iter(unbound), |row| row.get(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            assert!(
                !plan
                    .iter()
                    .any(|step| step.starts_with("SCAN") && step != "SCAN CONSTANT ROW"),
                "{sql}\n{plan:#?}"
            );
        }
    }
}
