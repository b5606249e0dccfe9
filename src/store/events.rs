//! The `events` table: inserts for the writer, queries for the admin API.

use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, ToSql, Transaction, params};

use super::writer::{Inserted, NewEvent};
use crate::domain::envelope::{Actor, ActorKind, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};

/// Where an event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Stored; a rule of puente's consumes this type.
    Received,
    /// Stored for the record; no rule consumes this type (yet).
    Unhandled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Unhandled => "unhandled",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Received, Self::Unhandled]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// The insert statement, prepared once per transaction.
pub(super) struct Insert<'t> {
    statement: CachedStatement<'t>,
}

impl<'t> Insert<'t> {
    pub(super) fn prepare(transaction: &'t Transaction<'_>) -> rusqlite::Result<Self> {
        let statement = transaction.prepare_cached(
            "INSERT INTO events (id, instance, type, actor_kind, actor_id, actor_user_id, source,
                                 occurred_at_ms, received_at_ms, status, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id) DO NOTHING",
        )?;
        Ok(Self { statement })
    }

    /// Stores `event` unless its id is already stored.
    pub(super) fn run(
        &mut self,
        event: &NewEvent,
        now: jiff::Timestamp,
    ) -> rusqlite::Result<Inserted> {
        let changed = self.statement.execute(params![
            event.id.as_str(),
            event.instance.as_str(),
            event.hook.as_str(),
            event.actor.kind.as_str(),
            event.actor.id.map(sql_integer),
            event.actor.user_id.map(sql_integer),
            event.source.as_str(),
            event.occurred_at.as_millisecond(),
            now.as_millisecond(),
            event.status.as_str(),
            event.body,
        ])?;
        Ok(if changed == 1 {
            Inserted::Accepted
        } else {
            Inserted::Duplicate
        })
    }
}

/// WHMCS ids fit in SQLite's signed 64-bit integers; larger ones are clamped
/// rather than wrapped into negatives.
fn sql_integer(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A stored event as the admin API shows it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Position in arrival order; the paging cursor.
    pub seq: i64,
    pub id: EventId,
    pub instance: InstanceName,
    pub hook: HookType,
    pub actor: Actor,
    pub source: Source,
    pub occurred_at: jiff::Timestamp,
    pub received_at: jiff::Timestamp,
    pub status: EventStatus,
    /// The signed body; only loaded for single-event reads.
    pub body: Option<Vec<u8>>,
}

/// Filters and paging for [`list`].
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub hook: Option<HookType>,
    pub instance: Option<InstanceName>,
    /// Received at or after this instant.
    pub since: Option<jiff::Timestamp>,
    /// Only events after this `seq` (the previous page's cursor).
    pub after: Option<i64>,
    pub limit: u32,
}

const COLUMNS: &str = "seq, id, instance, type, actor_kind, actor_id, actor_user_id, source, \
                       occurred_at_ms, received_at_ms, status";

/// Events in arrival order, without their bodies.
pub fn list(connection: &Connection, query: &EventQuery) -> rusqlite::Result<Vec<StoredEvent>> {
    let mut conditions = Vec::new();
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(hook) = &query.hook {
        values.push(Box::new(hook.as_str().to_owned()));
        conditions.push(format!("type = ?{}", values.len()));
    }
    if let Some(instance) = &query.instance {
        values.push(Box::new(instance.as_str().to_owned()));
        conditions.push(format!("instance = ?{}", values.len()));
    }
    if let Some(since) = query.since {
        values.push(Box::new(since.as_millisecond()));
        conditions.push(format!("received_at_ms >= ?{}", values.len()));
    }
    if let Some(after) = query.after {
        values.push(Box::new(after));
        conditions.push(format!("seq > ?{}", values.len()));
    }
    values.push(Box::new(query.limit));
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM events {filter} ORDER BY seq LIMIT ?{}",
        values.len()
    );
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(
        rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())),
        |row| from_row(row, false),
    )?;
    rows.collect()
}

/// One event with its body, by webhook-id.
pub fn get(connection: &Connection, id: &EventId) -> rusqlite::Result<Option<StoredEvent>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS}, body FROM events WHERE id = ?1"),
            [id.as_str()],
            |row| from_row(row, true),
        )
        .optional()
}

fn from_row(row: &Row<'_>, with_body: bool) -> rusqlite::Result<StoredEvent> {
    let text = |index: usize| row.get::<_, String>(index);
    let invalid = |index: usize, problem: String| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            problem.into(),
        )
    };
    let timestamp = |index: usize| {
        let millis: i64 = row.get(index)?;
        jiff::Timestamp::from_millisecond(millis).map_err(|e| invalid(index, e.to_string()))
    };
    let id = |index: usize| {
        row.get::<_, Option<i64>>(index)
            .map(|v| v.map(|n| n.unsigned_abs()))
    };
    Ok(StoredEvent {
        seq: row.get(0)?,
        id: EventId::parse(&text(1)?).map_err(|p| invalid(1, p))?,
        instance: InstanceName::parse(&text(2)?).map_err(|p| invalid(2, p))?,
        hook: HookType::parse(&text(3)?).map_err(|p| invalid(3, p))?,
        actor: Actor {
            kind: ActorKind::parse(&text(4)?)
                .ok_or_else(|| invalid(4, "unknown actor kind".into()))?,
            id: id(5)?,
            user_id: id(6)?,
        },
        source: Source::parse(&text(7)?).ok_or_else(|| invalid(7, "unknown source".into()))?,
        occurred_at: timestamp(8)?,
        received_at: timestamp(9)?,
        status: EventStatus::parse(&text(10)?)
            .ok_or_else(|| invalid(10, "unknown status".into()))?,
        body: if with_body { Some(row.get(11)?) } else { None },
    })
}
