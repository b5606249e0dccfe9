//! The `events` table on PostgreSQL: the ingest's batched insert, queries
//! for the admin API.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::sql::{Filter, PgError, PgResult, sql_integer, time};
use super::tx::Tx;
use crate::domain::envelope::{Actor, ActorKind, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::store::events::{EventQuery, EventStatus, StoredEvent};
use crate::store::model::{Inserted, NewEvent};

/// Stores a batch of events in one statement, each unless its id is
/// already stored (by an earlier batch, or by another replica: the id is
/// the primary key's twin, `UNIQUE`). Returns each event's outcome in
/// order, and the `seq` of each new one.
///
/// One `INSERT … SELECT FROM unnest(…)` of column arrays: one round trip
/// and one plan for the whole batch. An id twice in one batch (a retry
/// that arrived before the first try was answered) is new once.
pub(super) async fn insert_batch(
    tx: &Tx<'_>,
    events: &[&NewEvent],
    now: jiff::Timestamp,
) -> PgResult<Vec<(Inserted, Option<i64>)>> {
    let mut ids = Vec::with_capacity(events.len());
    let mut instances = Vec::with_capacity(events.len());
    let mut types = Vec::with_capacity(events.len());
    let mut actor_kinds = Vec::with_capacity(events.len());
    let mut actor_ids = Vec::with_capacity(events.len());
    let mut actor_user_ids = Vec::with_capacity(events.len());
    let mut sources = Vec::with_capacity(events.len());
    let mut occurred = Vec::with_capacity(events.len());
    let mut statuses = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        ids.push(event.id.as_str());
        instances.push(event.instance.as_str());
        types.push(event.hook.as_str());
        actor_kinds.push(event.actor.kind.as_str());
        actor_ids.push(event.actor.id.map(sql_integer));
        actor_user_ids.push(event.actor.user_id.map(sql_integer));
        sources.push(event.source.as_str());
        occurred.push(event.occurred_at.as_millisecond());
        statuses.push(event.status.as_str());
        bodies.push(event.body.as_slice());
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO events (id, instance, type, actor_kind, actor_id, actor_user_id, source,
                                 occurred_at_ms, received_at_ms, status, body)
             SELECT id, instance, type, actor_kind, actor_id, actor_user_id, source,
                    occurred_at_ms, $9, status, body
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                           $6::bigint[], $7::text[], $8::bigint[], $10::text[], $11::bytea[])
                    WITH ORDINALITY
                    AS batch (id, instance, type, actor_kind, actor_id, actor_user_id, source,
                              occurred_at_ms, status, body, position)
              ORDER BY position
             ON CONFLICT (id) DO NOTHING
             RETURNING id, seq",
        )
        .await?;
    let rows = tx
        .query(
            &statement,
            &[
                &ids,
                &instances,
                &types,
                &actor_kinds,
                &actor_ids,
                &actor_user_ids,
                &sources,
                &occurred,
                &now.as_millisecond(),
                &statuses,
                &bodies,
            ],
        )
        .await?;
    let mut new: std::collections::HashMap<String, i64> = rows
        .iter()
        .map(|row| Ok((row.try_get::<_, String>(0)?, row.try_get::<_, i64>(1)?)))
        .collect::<PgResult<_>>()?;
    Ok(events
        .iter()
        .map(|event| match new.remove(event.id.as_str()) {
            Some(seq) => (Inserted::Accepted, Some(seq)),
            None => (Inserted::Duplicate, None),
        })
        .collect())
}

const COLUMNS: &str = "seq, id, instance, type, actor_kind, actor_id, actor_user_id, source, \
                       occurred_at_ms, received_at_ms, status";

/// Events in arrival order, without their bodies. `since` reads the
/// receive-time index: with several replicas inserting at once, `seq`
/// order is not receive-time order here.
pub async fn list(client: &impl GenericClient, query: &EventQuery) -> PgResult<Vec<StoredEvent>> {
    let mut filter = Filter::default();
    if let Some(hook) = &query.hook {
        filter.push("type =", hook.as_str().to_owned());
    }
    if let Some(instance) = &query.instance {
        filter.push("instance =", instance.as_str().to_owned());
    }
    if let Some(since) = query.since {
        filter.push("received_at_ms >=", since.as_millisecond());
    }
    if let Some(after) = query.after {
        filter.push("seq >", after);
    }
    let (clause, limit, values) = filter.finish(query.limit);
    let sql = format!("SELECT {COLUMNS} FROM events {clause} ORDER BY seq LIMIT ${limit}");
    super::sql::list_rows(client, (sql, values), |row| from_row(row, false)).await
}

/// One event with its body, by webhook-id.
pub async fn get(client: &impl GenericClient, id: &EventId) -> PgResult<Option<StoredEvent>> {
    let statement = client
        .prepare_cached(&format!("SELECT {COLUMNS}, body FROM events WHERE id = $1"))
        .await?;
    client
        .query_opt(&statement, &[&id.as_str()])
        .await?
        .map(|row| from_row(&row, true))
        .transpose()
}

fn from_row(row: &Row, with_body: bool) -> PgResult<StoredEvent> {
    let text = |index: usize| row.try_get::<_, String>(index);
    let invalid = |what: &str, problem: String| PgError::Data(format!("stored {what}: {problem}"));
    let id = |index: usize| {
        row.try_get::<_, Option<i64>>(index)
            .map(|value| value.map(i64::unsigned_abs))
    };
    Ok(StoredEvent {
        seq: row.try_get(0)?,
        id: EventId::parse(&text(1)?).map_err(|problem| invalid("id", problem))?,
        instance: InstanceName::parse(&text(2)?).map_err(|problem| invalid("instance", problem))?,
        hook: HookType::parse(&text(3)?).map_err(|problem| invalid("type", problem))?,
        actor: Actor {
            kind: ActorKind::parse(&text(4)?)
                .ok_or_else(|| invalid("actor kind", "unknown".into()))?,
            id: id(5)?,
            user_id: id(6)?,
        },
        source: Source::parse(&text(7)?).ok_or_else(|| invalid("source", "unknown".into()))?,
        occurred_at: time(row.try_get(8)?),
        received_at: time(row.try_get(9)?),
        status: EventStatus::parse(&text(10)?)
            .ok_or_else(|| invalid("status", "unknown".into()))?,
        body: if with_body {
            Some(row.try_get(11)?)
        } else {
            None
        },
    })
}
