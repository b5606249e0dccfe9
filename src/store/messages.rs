//! The `messages` table (the alert outbox): planned alerts are inserted by
//! the writer in the event's own transaction; queries for the admin API.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Filter;
use super::wake::{Tx, Work};

use crate::domain::alerts::{Coalesce, PlannedAlert, Recipient, Subject};
use crate::domain::delivery::MessageStatus;
use crate::domain::ids::{EventId, InstanceName};

/// Why an alert was recorded but will not be sent.
pub const COALESCED: &str = "the same change was already alerted (coalesced)";

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
            tx.prepare_cached(RECENT_IN_GROUP)?
                .query_row(params![instance, group, since], |row| row.get::<_, bool>(0))?
        }
        _ => false,
    };
    let (subject_kind, subject_id) = subject_columns(alert.subject);
    let (previous_phone, previous_country) = match &alert.recipient {
        Recipient::Current => (None, None),
        Recipient::Previous { phone, country } => (Some(phone.as_str()), Some(country.as_str())),
    };
    let status = if coalesced {
        MessageStatus::Skipped
    } else {
        MessageStatus::Planned
    };
    let added = tx.prepare_cached(INSERT)?.execute(params![
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

/// An alert's planned template values as stored: a JSON object, or NULL.
fn details_column(details: &BTreeMap<&'static str, String>) -> Option<String> {
    (!details.is_empty()).then(|| serde_json::json!(details).to_string())
}

pub(super) fn subject_columns(subject: Subject) -> (&'static str, Option<u64>) {
    match subject {
        Subject::Client => ("client", None),
        Subject::Invoice(id) => ("invoice", Some(id)),
        Subject::Service(id) => ("service", Some(id)),
        Subject::Domain(id) => ("domain", Some(id)),
        Subject::Quote(id) => ("quote", Some(id)),
    }
}

fn sql_integer(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// What an operator's retry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    Planned,
    NotRetryable(String),
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

/// A message as the admin API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub event_id: String,
    pub instance: String,
    pub kind: String,
    pub client_id: Option<i64>,
    pub subject_kind: String,
    pub subject_id: Option<i64>,
    /// `current`, or `previous` for the number the client replaced.
    pub recipient: &'static str,
    pub status: String,
    /// Why it is in that status: the last error, a skip or a retry reason.
    pub reason: Option<String>,
    pub planned_at: String,
    pub attempts: i64,
    pub wamid: Option<String>,
    pub language: Option<String>,
    /// The exact Cloud API request body, once prepared.
    pub request_body: Option<Box<serde_json::value::RawValue>>,
}

/// Filters and paging for [`list`].
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub instance: Option<InstanceName>,
    pub status: Option<String>,
    pub client_id: Option<u64>,
    pub event: Option<EventId>,
    /// Only messages after this id (the previous page's cursor).
    pub after: Option<i64>,
    pub limit: u32,
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

/// One try to send a message, as the Cloud API answered it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attempt {
    pub at: String,
    /// `accepted`, `refused`, `not_sent` or `unknown`.
    pub outcome: String,
    pub http_status: Option<i64>,
    pub meta_code: Option<i64>,
    pub fbtrace_id: Option<String>,
    pub detail: Option<String>,
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
