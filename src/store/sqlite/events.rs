//! The `events` table: inserts for the writer, queries for the admin API.

use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Transaction, params};

use super::sql::{Filter, sql_integer};

use crate::domain::envelope::{Actor, ActorKind, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::store::model::{Inserted, NewEvent};

use crate::store::events::{EventQuery, EventStatus, StoredEvent};

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

const COLUMNS: &str = "seq, id, instance, type, actor_kind, actor_id, actor_user_id, source, \
                       occurred_at_ms, received_at_ms, status";

/// The statement [`list`] runs, and its parameters; `after` is the later
/// of the cursor and the start of `since`.
pub(crate) fn list_statement(
    query: &EventQuery,
    after: Option<i64>,
) -> (String, Vec<Box<dyn rusqlite::ToSql>>) {
    let mut filter = Filter::default();
    if let Some(hook) = &query.hook {
        filter.push("type =", hook.as_str().to_owned());
    }
    if let Some(instance) = &query.instance {
        filter.push("instance =", instance.as_str().to_owned());
    }
    if let Some(after) = after {
        filter.push("seq >", after);
    }
    let (clause, limit, values) = filter.finish(query.limit);
    let sql = format!("SELECT {COLUMNS} FROM events {clause} ORDER BY seq LIMIT ?{limit}");
    (sql, values)
}

/// Events in arrival order, without their bodies.
pub fn list(connection: &Connection, query: &EventQuery) -> rusqlite::Result<Vec<StoredEvent>> {
    let from_since = match query.since {
        Some(since) => match first_seq_received_since(connection, since)? {
            Some(seq) => Some(seq - 1),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let (sql, values) = list_statement(query, query.after.max(from_since));
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(
        rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())),
        |row| from_row(row, false),
    )?;
    rows.collect()
}

/// The first event received at or after `since`, found by binary search
/// over `seq`: receive times never decrease as `seq` grows, so no index on
/// them is needed (and none slows down the writer).
pub(crate) fn first_seq_received_since(
    connection: &Connection,
    since: jiff::Timestamp,
) -> rusqlite::Result<Option<i64>> {
    let since = since.as_millisecond();
    let first_from = |seq: i64| -> rusqlite::Result<Option<(i64, i64)>> {
        connection
            .prepare_cached(
                "SELECT seq, received_at_ms FROM events WHERE seq >= ?1 ORDER BY seq LIMIT 1",
            )?
            .query_row([seq], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
    };
    let (Some((oldest, _)), Some((newest, newest_at))) =
        (first_from(i64::MIN)?, newest_event(connection)?)
    else {
        return Ok(None);
    };
    if newest_at < since {
        return Ok(None);
    }
    // Invariants: events before `low` came before `since`; `found` is the
    // first event from `high` on that came at or after it.
    let (mut low, mut high, mut found) = (oldest, newest, newest);
    while low < high {
        let middle = low.midpoint(high);
        match first_from(middle)? {
            Some((seq, at)) if seq < high && at >= since => (high, found) = (middle, seq),
            Some((seq, _)) if seq < high => low = seq + 1,
            // No event in [middle, high).
            _ => high = middle,
        }
    }
    Ok(Some(found))
}

/// `seq` and receive time of the newest event, if any.
fn newest_event(connection: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    connection
        .prepare_cached("SELECT seq, received_at_ms FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

/// Receive time of the newest event (the epoch for an empty table).
pub(super) fn last_received_at(connection: &Connection) -> rusqlite::Result<jiff::Timestamp> {
    Ok(newest_event(connection)?
        .and_then(|(_, ms)| jiff::Timestamp::from_millisecond(ms).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_finds_the_same_first_event_as_a_scan_despite_gaps_and_ties() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = super::super::Database::open(
            &dir.path().join("since.db"),
            std::time::Duration::from_secs(1),
        )
        .expect("open");
        let connection = rusqlite::Connection::open(database.path()).expect("connect");
        let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).expect("valid");
        assert_eq!(
            first_seq_received_since(&connection, at(0)).expect("query"),
            None
        );

        // seq with gaps (deleted rows), receive times with ties.
        let rows: Vec<(i64, i64)> = [1, 2, 3, 7, 8, 20, 21, 22, 40, 41, 90]
            .into_iter()
            .zip([100, 100, 105, 105, 105, 110, 200, 200, 201, 300, 300])
            .collect();
        for (seq, received) in &rows {
            connection
                .execute(
                    "INSERT INTO events (seq, id, instance, type, actor_kind, source,
                                         occurred_at_ms, received_at_ms, status, body)
                     VALUES (?1, 'evt_' || ?1, 'default', 'InvoicePaid', 'system', 'cron',
                             0, ?2, 'received', x'7b7d')",
                    [seq, received],
                )
                .expect("insert");
        }
        for since in 90..=310 {
            let expected = rows
                .iter()
                .find(|(_, received)| *received >= since)
                .map(|(seq, _)| *seq);
            assert_eq!(
                first_seq_received_since(&connection, at(since)).expect("query"),
                expected,
                "since {since}"
            );
        }
        let listed = list(
            &connection,
            &EventQuery {
                since: Some(at(200)),
                limit: 10,
                ..EventQuery::default()
            },
        )
        .expect("list");
        let seqs: Vec<i64> = listed.iter().map(|event| event.seq).collect();
        assert_eq!(seqs, [21, 22, 40, 41, 90]);
    }
}
