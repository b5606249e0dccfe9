//! The `messages` table (the alert outbox): planned alerts are inserted by
//! the writer in the event's own transaction; queries for the admin API.

use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, params};

use super::sql::{Filter, sql_integer};
use super::tx::Tx;
use crate::store::Work;

use crate::domain::alerts::{AlertKind, Coalesce, PlannedAlert, Recipient};
use crate::domain::ids::InstanceName;
use crate::domain::status::MessageStatus;
use crate::store::messages::{
    Attempt, COALESCED, DueMessage, MessageQuery, Outcome, Retry, Settled, StoredMessage,
    details_column, details_of, subject_columns,
};

const RECENT_IN_GROUP: &str = "SELECT EXISTS (SELECT 1 FROM messages
                                WHERE instance = ?1 AND coalesce_group = ?2 AND planned_at_ms >= ?3)";
const INSERT: &str = "INSERT INTO messages (event_seq, instance, kind, client_id, subject_kind, subject_id,
                                           previous_phone, previous_country, dedupe_key, coalesce_group,
                                           status, reason, planned_at_ms, details)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                      ON CONFLICT (instance, dedupe_key) DO NOTHING";

/// Stores one alert planned by the event `event_seq`: `planned`, or
/// `skipped` when its group already had an alert within the window; a key
/// already stored adds nothing. The one place a message is planned: it
/// wakes the outbox when a `planned` row was added, and says so.
pub fn plan(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &str,
    alert: &PlannedAlert,
    now: jiff::Timestamp,
) -> rusqlite::Result<bool> {
    PlanStatements::prepare(tx)?.plan(tx, event_seq, instance, alert, now)
}

/// The statements of [`plan`], prepared once for a transaction that plans
/// many (the writer's batch of events).
pub(super) struct PlanStatements<'c> {
    recent_in_group: CachedStatement<'c>,
    insert: CachedStatement<'c>,
}

impl<'c> PlanStatements<'c> {
    pub(super) fn prepare(connection: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            recent_in_group: connection.prepare_cached(RECENT_IN_GROUP)?,
            insert: connection.prepare_cached(INSERT)?,
        })
    }

    /// See [`plan`].
    pub(super) fn plan(
        &mut self,
        tx: &Tx<'_>,
        event_seq: i64,
        instance: &str,
        alert: &PlannedAlert,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<bool> {
        let now_ms = now.as_millisecond();
        let group = alert
            .coalesce
            .as_ref()
            .map(|coalesce| coalesce.group.as_str());
        let coalesced = match &alert.coalesce {
            Some(Coalesce {
                group,
                skip_within: Some(window),
            }) => {
                let since =
                    now_ms.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
                self.recent_in_group
                    .query_row(params![instance, group, since], |row| row.get::<_, bool>(0))?
            }
            _ => false,
        };
        let (subject_kind, subject_id) = subject_columns(alert.subject);
        let (previous_phone, previous_country) = match &alert.recipient {
            Recipient::Current => (None, None),
            Recipient::Previous { phone, country } => {
                (Some(phone.as_str()), Some(country.as_str()))
            }
        };
        let status = if coalesced {
            MessageStatus::Skipped
        } else {
            MessageStatus::Planned
        };
        let added = self.insert.execute(params![
            event_seq,
            instance,
            alert.kind.as_str(),
            alert.client_id.map(sql_integer),
            subject_kind,
            subject_id.map(sql_integer),
            previous_phone,
            previous_country,
            alert.dedupe_key,
            group,
            status.as_str(),
            coalesced.then_some(COALESCED),
            now_ms,
            details_column(&alert.details),
        ])?;
        let planned = added == 1 && !coalesced;
        if planned {
            tx.wake(Work::Alerts);
        }
        Ok(planned)
    }
}

/// Plans a dead, failed or uncertain message again; `None` when there is
/// no such message.
pub fn retry(tx: &Tx<'_>, id: i64) -> rusqlite::Result<Option<Retry>> {
    let connection: &Connection = tx;
    let status: Option<String> = connection
        .query_row("SELECT status FROM messages WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    let Some(status) = status else {
        return Ok(None);
    };
    if !MessageStatus::parse(&status).is_some_and(MessageStatus::is_retryable) {
        return Ok(Some(Retry::NotRetryable(status)));
    }
    connection.execute(
        "UPDATE messages SET status = 'planned', attempts = 0, next_attempt_at_ms = NULL, wamid = NULL,
                             reason = 'retried by an operator'
          WHERE id = ?1",
        [id],
    )?;
    tx.wake(Work::Alerts);
    Ok(Some(Retry::Planned))
}

/// The planned messages due at `?1`, at most `?2`; see [`due`].
const DUE: &str = "SELECT * FROM (
        SELECT id, instance, kind, client_id, subject_kind, subject_id, previous_phone,
               previous_country, attempts, details
          FROM messages
         WHERE status = 'planned' AND next_attempt_at_ms IS NULL
         ORDER BY id LIMIT ?2)
    UNION ALL
    SELECT * FROM (
        SELECT id, instance, kind, client_id, subject_kind, subject_id, previous_phone,
               previous_country, attempts, details
          FROM messages
         WHERE status = 'planned' AND next_attempt_at_ms <= ?1
         ORDER BY next_attempt_at_ms, id LIMIT ?2)
    ORDER BY id LIMIT ?2";

/// The earliest retry or deferral after `?1`, in milliseconds; `NULL` when
/// none is planned. One read of the `messages_due` index. (New messages are
/// taken by the pass that follows their commit, or by the next one when a
/// pass was full.)
const NEXT_DUE: &str = "SELECT min(next_attempt_at_ms) FROM messages
     WHERE status = 'planned' AND next_attempt_at_ms > ?1";

/// At most `limit` planned messages due at `now`, oldest first: new ones
/// in id order, and retries that came due, earliest first. Rows naming an
/// instance or alert this version does not know are left alone.
///
/// Each half is a range of the `messages_due` index read in its own order,
/// so a pass reads at most two batches however many messages wait for a
/// later retry (one query with `IS NULL OR <=` read every planned row and
/// sorted them, on every pass, while WHMCS was unreachable).
pub fn due(
    connection: &Connection,
    now: jiff::Timestamp,
    limit: u32,
) -> rusqlite::Result<Vec<(InstanceName, DueMessage)>> {
    let mut statement = connection.prepare_cached(DUE)?;
    let id = |value: Option<i64>| value.and_then(|id| u64::try_from(id).ok());
    let rows = statement.query_map(params![now.as_millisecond(), limit], |row| {
        let instance: String = row.get(1)?;
        let kind: String = row.get(2)?;
        let known = InstanceName::parse(&instance).ok().zip(
            AlertKind::ALL
                .into_iter()
                .find(|known| known.as_str() == kind),
        );
        let Some((instance, kind)) = known else {
            return Ok(None);
        };
        let previous_phone: Option<String> = row.get(6)?;
        let previous_country: Option<String> = row.get(7)?;
        Ok(Some((
            instance,
            DueMessage {
                id: row.get(0)?,
                lease: 0,
                kind,
                client_id: id(row.get(3)?),
                subject_kind: row.get(4)?,
                subject_id: id(row.get(5)?),
                previous_phone: previous_phone
                    .map(|phone| (phone, previous_country.unwrap_or_default())),
                attempts: row.get(8)?,
                details: details_of(row.get::<_, Option<String>>(9)?.as_deref()),
            },
        )))
    })?;
    let mut due = Vec::new();
    for row in rows {
        due.extend(row?);
    }
    Ok(due)
}

/// When the earliest retry or deferral after `now` is due; `None` when
/// none is planned.
pub fn next_due_after(
    connection: &Connection,
    now: jiff::Timestamp,
) -> rusqlite::Result<Option<jiff::Timestamp>> {
    let at_ms: Option<i64> =
        connection.query_row(NEXT_DUE, [now.as_millisecond()], |row| row.get(0))?;
    Ok(at_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()))
}

/// At start: a message still `sending` was interrupted by a stop or a
/// crash, may have reached the client, and becomes `uncertain`. Returns how
/// many.
pub fn mark_interrupted(connection: &Connection) -> rusqlite::Result<usize> {
    connection.execute(
        "UPDATE messages SET status = 'uncertain',
                reason = 'the service stopped while sending it; it may have reached the client. Retry it from the admin API if it did not'
          WHERE status = 'sending'",
        [],
    )
}

/// Committed before the Cloud API call, with the exact request body;
/// false when the message is no longer planned (an operator or a webhook
/// moved it meanwhile): it is not sent.
pub fn mark_sending(connection: &Connection, id: i64, body: &str) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE messages SET status = 'sending', request_body = ?2 WHERE id = ?1 AND status = 'planned'",
        params![id, body],
    )?;
    Ok(changed == 1)
}

/// Writes each settled message's outcome (and its try). Only a message the
/// outbox took moves: never one an operator or a webhook moved meanwhile.
pub fn settle(connection: &Connection, settled: &[Settled]) -> rusqlite::Result<()> {
    for one in settled {
        settle_one(connection, one)?;
    }
    Ok(())
}

fn settle_one(connection: &Connection, settled: &Settled) -> rusqlite::Result<()> {
    let Settled {
        message,
        outcome,
        attempt,
        now,
    } = settled;
    let (id, attempt) = (message.id, attempt.as_ref());
    let now_ms = now.as_millisecond();
    match outcome {
        Outcome::Sent {
            body,
            language,
            wamid,
            to,
            client,
        } => connection.execute(
            "UPDATE messages SET status = 'sent', request_body = ?2, language = ?3, wamid = ?4,
                                 status_at_ms = ?5, attempts = attempts + 1, reason = NULL,
                                 to_number = ?6, to_client_id = ?7
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, body, language, wamid, now_ms, to, i64::try_from(*client).ok()],
        ),
        Outcome::Skipped(reason) => connection.execute(
            "UPDATE messages SET status = 'skipped', reason = ?2, status_at_ms = ?3 WHERE id = ?1 AND status = 'planned'",
            params![id, reason, now_ms],
        ),
        Outcome::Retry { reason, at } => connection.execute(
            "UPDATE messages SET status = 'planned', attempts = attempts + 1, reason = ?2, next_attempt_at_ms = ?3
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, reason, at.as_millisecond()],
        ),
        Outcome::Deferred { reason, at } => connection.execute(
            "UPDATE messages SET status = 'planned', reason = ?2, next_attempt_at_ms = ?3
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, reason, at.as_millisecond()],
        ),
        Outcome::Dead(reason) => connection.execute(
            "UPDATE messages SET status = 'dead', reason = ?2, status_at_ms = ?3, attempts = attempts + 1
              WHERE id = ?1 AND status IN ('planned', 'sending')",
            params![id, reason, now_ms],
        ),
        Outcome::Uncertain(reason) => connection.execute(
            "UPDATE messages SET status = 'uncertain', reason = ?2, status_at_ms = ?3, attempts = attempts + 1
              WHERE id = ?1 AND status = 'sending'",
            params![id, reason, now_ms],
        ),
    }?;
    if let Some(attempt) = attempt {
        connection.execute(
            "INSERT INTO message_attempts (message_id, at_ms, outcome, http_status, meta_code, fbtrace_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, now_ms, attempt.outcome, attempt.http_status, attempt.meta_code, attempt.fbtrace_id, attempt.detail],
        )?;
    }
    Ok(())
}

/// The statement [`list`] runs, and its parameters.
pub(crate) fn list_statement(query: &MessageQuery) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    let mut filter = Filter::default();
    if let Some(instance) = &query.instance {
        filter.push("m.instance =", instance.as_str().to_owned());
    }
    if let Some(status) = &query.status {
        filter.push("m.status =", status.clone());
    }
    if let Some(client) = query.client_id {
        filter.push("m.client_id =", sql_integer(client));
    }
    if let Some(event) = &query.event {
        filter.push("e.id =", event.as_str().to_owned());
    }
    if let Some(after) = query.after {
        filter.push("m.id >", after);
    }
    let (clause, limit, values) = filter.finish(query.limit);
    let sql = format!(
        "SELECT m.id, e.id, m.instance, m.kind, m.client_id, m.subject_kind, m.subject_id,
                m.previous_phone IS NOT NULL, m.status, m.reason, m.planned_at_ms,
                m.attempts, m.wamid, m.language, m.request_body
           FROM messages m JOIN events e ON e.seq = m.event_seq
           {clause} ORDER BY m.id LIMIT ?{limit}"
    );
    (sql, values)
}

/// Messages in planning order.
pub fn list(connection: &Connection, query: &MessageQuery) -> rusqlite::Result<Vec<StoredMessage>> {
    let (sql, values) = list_statement(query);
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(
        rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())),
        from_row,
    )?;
    rows.collect()
}

/// One message by its id.
pub fn get(connection: &Connection, id: i64) -> rusqlite::Result<Option<StoredMessage>> {
    let sql = "SELECT m.id, e.id, m.instance, m.kind, m.client_id, m.subject_kind, m.subject_id,
                      m.previous_phone IS NOT NULL, m.status, m.reason, m.planned_at_ms,
                      m.attempts, m.wamid, m.language, m.request_body
                 FROM messages m JOIN events e ON e.seq = m.event_seq
                WHERE m.id = ?1";
    connection.query_row(sql, [id], from_row).optional()
}

/// Every try to send message `id`, in order.
pub fn attempts(connection: &Connection, id: i64) -> rusqlite::Result<Vec<Attempt>> {
    let mut statement = connection.prepare(
        "SELECT at_ms, outcome, http_status, meta_code, fbtrace_id, detail
           FROM message_attempts WHERE message_id = ?1 ORDER BY id",
    )?;
    let rows = statement.query_map([id], |row| {
        Ok(Attempt {
            at: jiff::Timestamp::from_millisecond(row.get(0)?)
                .map(|at| at.to_string())
                .unwrap_or_default(),
            outcome: row.get(1)?,
            http_status: row.get(2)?,
            meta_code: row.get(3)?,
            fbtrace_id: row.get(4)?,
            detail: row.get(5)?,
        })
    })?;
    rows.collect()
}

/// Alerts waiting to be sent, by instance.
pub fn backlog(
    connection: &Connection,
) -> rusqlite::Result<std::collections::BTreeMap<String, u64>> {
    let mut statement = connection.prepare(
        "SELECT instance, count(*) FROM messages WHERE status = 'planned' GROUP BY instance",
    )?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)?)))?;
    rows.map(|row| row.map(|(instance, count)| (instance, u64::try_from(count).unwrap_or(0))))
        .collect()
}

/// Messages waiting to be sent (the outbox's due index holds them).
pub(crate) const COUNT_PLANNED: &str =
    "SELECT count(*) FROM messages WHERE status = 'planned' AND (?1 IS NULL OR instance = ?1)";

/// Dead letters (a partial index holds only those).
pub(crate) const COUNT_DEAD: &str =
    "SELECT count(*) FROM messages WHERE status = 'dead' AND (?1 IS NULL OR instance = ?1)";

/// Messages waiting to be sent and dead letters, of `instance` or all.
pub fn waiting_and_dead(
    connection: &Connection,
    instance: Option<&InstanceName>,
) -> rusqlite::Result<(i64, i64)> {
    let name = instance.map(InstanceName::as_str);
    let count = |sql| connection.query_row(sql, [name], |row| row.get(0));
    Ok((count(COUNT_PLANNED)?, count(COUNT_DEAD)?))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    let planned_ms: i64 = row.get(10)?;
    Ok(StoredMessage {
        id: row.get(0)?,
        event_id: row.get(1)?,
        instance: row.get(2)?,
        kind: row.get(3)?,
        client_id: row.get(4)?,
        subject_kind: row.get(5)?,
        subject_id: row.get(6)?,
        recipient: if row.get::<_, bool>(7)? {
            "previous"
        } else {
            "current"
        },
        status: row.get(8)?,
        reason: row.get(9)?,
        planned_at: jiff::Timestamp::from_millisecond(planned_ms)
            .map(|at| at.to_string())
            .unwrap_or_default(),
        attempts: row.get(11)?,
        wamid: row.get(12)?,
        language: row.get(13)?,
        request_body: row
            .get::<_, Option<String>>(14)?
            .and_then(|text| serde_json::value::RawValue::from_string(text).ok()),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::sqlite::Database;

    fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("o.db"), Duration::from_secs(1)).expect("database");
        (dir, database)
    }

    #[test]
    fn a_pass_takes_new_messages_and_due_retries_in_id_order_and_leaves_later_ones() {
        let (_dir, database) = database();
        let now = jiff::Timestamp::from_millisecond(1_000_000).expect("time");
        let connection = rusqlite::Connection::open(database.path()).expect("connect");
        connection
            .execute_batch(
                "INSERT INTO events (seq, id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES (1, 'evt_1', 'default', 'ClientAdd', 'system', 'cron', 0, 0,
                         'received', x'7b7d');",
            )
            .expect("event");
        // id, when to try again (NULL: as soon as possible), status
        for (id, next, status) in [
            (1, Some(999_000), "planned"),
            (2, None, "planned"),
            (3, Some(2_000_000), "planned"),
            (4, None, "sent"),
            (5, Some(1_000_000), "planned"),
        ] {
            connection
                .execute(
                    "INSERT INTO messages (id, event_seq, instance, kind, client_id, subject_kind,
                                           dedupe_key, status, planned_at_ms, next_attempt_at_ms)
                     VALUES (?1, 1, 'default', 'welcome', 7, 'client', ?2, ?3, 0, ?4)",
                    rusqlite::params![id, format!("welcome:{id}"), status, next],
                )
                .expect("message");
        }
        let ids: Vec<i64> = due(&database.reader().expect("reader"), now, 100)
            .expect("due")
            .into_iter()
            .map(|(_, message)| message.id)
            .collect();
        assert_eq!(ids, [1, 2, 5]);
    }

    #[test]
    fn the_next_due_time_is_one_index_read() {
        let (_dir, database) = database();
        let connection = database.reader().expect("reader");
        let plan: Vec<String> = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {NEXT_DUE}"))
            .expect("plan")
            .query_map([0], |row| row.get(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH messages USING COVERING INDEX messages_due")),
            "{plan:#?}"
        );
    }

    #[test]
    fn a_pass_reads_index_ranges_not_every_planned_message() {
        let (_dir, database) = database();
        let connection = database.reader().expect("reader");
        let mut statement = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {DUE}"))
            .expect("plan");
        let plan: Vec<String> = statement
            .query_map(params![0, 100], |row| row.get(3))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        let searches = plan
            .iter()
            .filter(|step| step.starts_with("SEARCH messages USING INDEX messages_due"))
            .count();
        assert_eq!(searches, 2, "{plan:#?}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN messages")),
            "{plan:#?}"
        );
    }
}
