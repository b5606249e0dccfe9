//! The `messages` table (the alert outbox) on PostgreSQL; see its SQLite
//! twin for the rules each statement keeps.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::sql::{Filter, PgResult, RELEASE, dead, holds, renew, sql_integer};
use super::tx::Tx;
use crate::domain::alerts::{AlertKind, Coalesce, PlannedAlert, Recipient};
use crate::domain::ids::InstanceName;
use crate::domain::status::MessageStatus;
use crate::store::messages::{
    Attempt, COALESCED, DueMessage, MessageQuery, Outcome, Retry, Settled, StoredMessage,
    details_column, details_of, subject_columns,
};
use crate::store::{Held, Work};

/// One alert, `skipped` when its coalescing group (`$10`) had one planned
/// since `$14` (NULL: no window), in one statement: the check and the
/// insert cannot be parted, so the ingest may send a batch's alerts at once
/// (pipelined) and each still sees the ones before it.
const INSERT: &str = "INSERT INTO messages (event_seq, instance, kind, client_id, subject_kind, subject_id,
                                           previous_phone, previous_country, dedupe_key, coalesce_group,
                                           status, reason, planned_at_ms, details)
                      SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                             CASE WHEN recent THEN 'skipped' ELSE 'planned' END,
                             CASE WHEN recent THEN $11 END, $12, $13
                        FROM (SELECT $14::bigint IS NOT NULL AND EXISTS (
                                  SELECT 1 FROM messages
                                   WHERE instance = $2 AND coalesce_group = $10
                                     AND planned_at_ms >= $14) AS recent) AS coalescing
                      ON CONFLICT (instance, dedupe_key) DO NOTHING
                      RETURNING status = 'planned'";

/// Stores one alert planned by the event `event_seq`: `planned`, or
/// `skipped` when its group already had an alert within the window; a key
/// already stored adds nothing. Wakes the outbox when a `planned` row was
/// added, and says so.
///
/// Two replicas may plan alerts of one group at once: a transaction-scoped
/// advisory lock on the group makes the second wait for the first's commit
/// and see its row, as SQLite's single writer does by itself.
pub async fn plan(
    tx: &Tx<'_>,
    event_seq: i64,
    instance: &str,
    alert: &PlannedAlert,
    now: jiff::Timestamp,
) -> PgResult<bool> {
    let now_ms = now.as_millisecond();
    let group = alert
        .coalesce
        .as_ref()
        .map(|coalesce| coalesce.group.as_str());
    let since = match &alert.coalesce {
        Some(Coalesce {
            group,
            skip_within: Some(window),
        }) => {
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))",
                &[&instance, group],
            )
            .await?;
            Some(now_ms.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX)))
        }
        _ => None,
    };
    let (subject_kind, subject_id) = subject_columns(alert.subject);
    let (previous_phone, previous_country) = match &alert.recipient {
        Recipient::Current => (None, None),
        Recipient::Previous { phone, country } => (Some(phone.as_str()), Some(country.as_str())),
    };
    let statement = tx.prepare_cached(INSERT).await?;
    let added = tx
        .query_opt(
            &statement,
            &[
                &event_seq,
                &instance,
                &alert.kind.as_str(),
                &alert.client_id.map(sql_integer),
                &subject_kind,
                &subject_id.map(sql_integer),
                &previous_phone,
                &previous_country,
                &alert.dedupe_key,
                &group,
                &COALESCED,
                &now_ms,
                &details_column(&alert.details),
                &since,
            ],
        )
        .await?;
    let planned = match added {
        Some(row) => row.try_get::<_, bool>(0)?,
        None => false,
    };
    if planned {
        tx.wake(Work::Alerts);
    }
    Ok(planned)
}

/// Plans a dead, failed or uncertain message again; `None` when there is
/// no such message.
pub async fn retry(tx: &Tx<'_>, id: i64) -> PgResult<Option<Retry>> {
    let Some(row) = tx
        .query_opt(
            "SELECT status FROM messages WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get(0)?;
    if !MessageStatus::parse(&status).is_some_and(MessageStatus::is_retryable) {
        return Ok(Some(Retry::NotRetryable(status)));
    }
    tx.execute(
        "UPDATE messages SET status = 'planned', attempts = 0, next_attempt_at_ms = NULL, wamid = NULL,
                             reason = 'retried by an operator', lease_owner = NULL,
                             lease_expires_at_ms = NULL
          WHERE id = $1",
        &[&id],
    )
    .await?;
    tx.wake(Work::Alerts);
    Ok(Some(Retry::Planned))
}

/// At most `limit` planned messages due at `now`, oldest first, taken for
/// `owner`: another replica leaves them alone while the lease lasts. Rows
/// naming an instance or alert this version does not know are left alone.
pub async fn due(
    tx: &Tx<'_>,
    owner: &str,
    now: jiff::Timestamp,
    limit: u32,
) -> PgResult<Vec<(InstanceName, DueMessage)>> {
    // Two ranges of the `messages_due` index, each in its own order (new
    // ones, then retries that came due): however many wait for a later
    // retry, a pass reads at most two batches.
    const COLUMNS: &str = "t.id, t.instance, t.kind, t.client_id, t.subject_kind, t.subject_id,
         t.previous_phone, t.previous_country, t.attempts, t.details, t.lease_epoch";
    let mut rows = super::sql::claim(
        &**tx,
        "messages",
        "status = 'planned' AND next_attempt_at_ms IS NULL",
        "next_attempt_at_ms, id",
        Some(i64::from(limit)),
        COLUMNS,
        owner,
        &[],
    )
    .await?;
    let left = i64::from(limit) - i64::try_from(rows.len()).unwrap_or(i64::MAX);
    if left > 0 {
        rows.extend(
            super::sql::claim(
                &**tx,
                "messages",
                "status = 'planned' AND next_attempt_at_ms <= $2",
                "next_attempt_at_ms, id",
                Some(left),
                COLUMNS,
                owner,
                &[&now.as_millisecond()],
            )
            .await?,
        );
    }
    let id = |value: Option<i64>| value.and_then(|id| u64::try_from(id).ok());
    let mut due = Vec::with_capacity(rows.len());
    for row in rows {
        let instance: String = row.try_get(1)?;
        let kind: String = row.try_get(2)?;
        let known = InstanceName::parse(&instance).ok().zip(
            AlertKind::ALL
                .into_iter()
                .find(|known| known.as_str() == kind),
        );
        let Some((instance, kind)) = known else {
            continue;
        };
        let previous_phone: Option<String> = row.try_get(6)?;
        let previous_country: Option<String> = row.try_get(7)?;
        let attempts: i64 = row.try_get(8)?;
        due.push((
            instance,
            DueMessage {
                id: row.try_get(0)?,
                lease: row.try_get(10)?,
                kind,
                client_id: id(row.try_get(3)?),
                subject_kind: row.try_get(4)?,
                subject_id: id(row.try_get(5)?),
                previous_phone: previous_phone
                    .map(|phone| (phone, previous_country.unwrap_or_default())),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                details: details_of(row.try_get::<_, Option<String>>(9)?.as_deref()),
            },
        ));
    }
    due.sort_by_key(|(_, message)| message.id);
    Ok(due)
}

/// When the earliest retry or deferral after `now` is due; `None` when
/// none is planned.
pub async fn next_due_after(
    client: &impl GenericClient,
    now: jiff::Timestamp,
) -> PgResult<Option<jiff::Timestamp>> {
    let statement = client
        .prepare_cached(
            "SELECT min(next_attempt_at_ms) FROM messages
              WHERE status = 'planned' AND next_attempt_at_ms > $1",
        )
        .await?;
    let at_ms: Option<i64> = client
        .query_one(&statement, &[&now.as_millisecond()])
        .await?
        .try_get(0)?;
    Ok(at_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()))
}

/// A message still `sending` whose replica is gone (its heartbeat stopped,
/// see `sql::dead`) was interrupted by a stop or a crash, may have
/// reached the client, and becomes `uncertain`. Returns how many.
pub async fn mark_interrupted(tx: &Tx<'_>) -> PgResult<usize> {
    let changed = tx
        .execute(
            &format!(
                "UPDATE messages SET status = 'uncertain', {RELEASE},
                        reason = 'the service stopped while sending it; it may have reached the client. Retry it from the admin API if it did not'
                  WHERE status = 'sending' AND {}",
                dead("lease_owner")
            ),
            &[],
        )
        .await?;
    Ok(usize::try_from(changed).unwrap_or(usize::MAX))
}

/// Committed before the Cloud API call, with the exact request body, and
/// renewing `owner`'s lease; false when the message is no longer planned
/// or no longer `owner`'s: it is not sent.
pub async fn mark_sending(tx: &Tx<'_>, owner: &str, message: Held, body: &str) -> PgResult<bool> {
    let changed = tx
        .execute(
            &format!(
                "UPDATE messages SET status = 'sending', request_body = $2, {}
                  WHERE id = $1 AND status = 'planned' AND {}",
                renew(),
                holds(3, 4)
            ),
            &[&message.id, &body, &owner, &message.epoch],
        )
        .await?;
    Ok(changed == 1)
}

/// Writes each settled message's outcome (and its try), releasing its
/// lease. Only a message the outbox took moves: never one an operator or a
/// webhook moved meanwhile, nor one another replica took over.
pub async fn settle(tx: &Tx<'_>, owner: &str, settled: &[Settled]) -> PgResult<()> {
    for one in settled {
        settle_one(tx, owner, one).await?;
    }
    Ok(())
}

async fn settle_one(tx: &Tx<'_>, owner: &str, settled: &Settled) -> PgResult<()> {
    let Settled {
        message,
        outcome,
        attempt,
        now,
    } = settled;
    let (id, epoch) = (&message.id, &message.epoch);
    let now_ms = now.as_millisecond();
    let held = |owner: usize, epoch: usize| format!("{RELEASE} WHERE {} AND", holds(owner, epoch));
    match outcome {
        Outcome::Sent {
            body,
            language,
            wamid,
            to,
            client,
        } => tx.execute(
            &format!(
                "UPDATE messages SET status = 'sent', request_body = $2, language = $3, wamid = $4,
                                 status_at_ms = $5, attempts = attempts + 1, reason = NULL,
                                 to_number = $8, to_client_id = $9,
                        {held} id = $1 AND status IN ('planned', 'sending')",
                held = held(6, 7)
            ),
            &[id, body, language, wamid, &now_ms, &owner, epoch, to, &i64::try_from(*client).unwrap_or(i64::MAX)],
        )
        .await?,
        Outcome::Skipped(reason) => tx.execute(
            &format!(
                "UPDATE messages SET status = 'skipped', reason = $2, status_at_ms = $3,
                        {held} id = $1 AND status = 'planned'",
                held = held(4, 5)
            ),
            &[id, reason, &now_ms, &owner, epoch],
        )
        .await?,
        Outcome::Retry { reason, at } => tx.execute(
            &format!(
                "UPDATE messages SET status = 'planned', attempts = attempts + 1, reason = $2, next_attempt_at_ms = $3,
                        {held} id = $1 AND status IN ('planned', 'sending')",
                held = held(4, 5)
            ),
            &[id, reason, &at.as_millisecond(), &owner, epoch],
        )
        .await?,
        Outcome::Deferred { reason, at } => tx.execute(
            &format!(
                "UPDATE messages SET status = 'planned', reason = $2, next_attempt_at_ms = $3,
                        {held} id = $1 AND status IN ('planned', 'sending')",
                held = held(4, 5)
            ),
            &[id, reason, &at.as_millisecond(), &owner, epoch],
        )
        .await?,
        Outcome::Dead(reason) => tx.execute(
            &format!(
                "UPDATE messages SET status = 'dead', reason = $2, status_at_ms = $3, attempts = attempts + 1,
                        {held} id = $1 AND status IN ('planned', 'sending')",
                held = held(4, 5)
            ),
            &[id, reason, &now_ms, &owner, epoch],
        )
        .await?,
        Outcome::Uncertain(reason) => tx.execute(
            &format!(
                "UPDATE messages SET status = 'uncertain', reason = $2, status_at_ms = $3, attempts = attempts + 1,
                        {held} id = $1 AND status = 'sending'",
                held = held(4, 5)
            ),
            &[id, reason, &now_ms, &owner, epoch],
        )
        .await?,
    };
    if let Some(attempt) = attempt {
        tx.execute(
            "INSERT INTO message_attempts (message_id, at_ms, outcome, http_status, meta_code, fbtrace_id, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                id,
                &now_ms,
                &attempt.outcome,
                &attempt.http_status.map(i64::from),
                &attempt.meta_code,
                &attempt.fbtrace_id,
                &attempt.detail,
            ],
        )
        .await?;
    }
    Ok(())
}

const STORED: &str =
    "SELECT m.id, e.id, m.instance, m.kind, m.client_id, m.subject_kind, m.subject_id,
                             m.previous_phone IS NOT NULL, m.status, m.reason, m.planned_at_ms,
                             m.attempts, m.wamid, m.language, m.request_body
                        FROM messages m JOIN events e ON e.seq = m.event_seq";

/// Messages in planning order.
pub async fn list(
    client: &impl GenericClient,
    query: &MessageQuery,
) -> PgResult<Vec<StoredMessage>> {
    let mut filter = Filter::default();
    if let Some(instance) = &query.instance {
        filter.push("m.instance =", instance.as_str().to_owned());
    }
    if let Some(status) = &query.status {
        filter.push("m.status =", status.clone());
    }
    if let Some(client_id) = query.client_id {
        filter.push("m.client_id =", sql_integer(client_id));
    }
    if let Some(event) = &query.event {
        filter.push("e.id =", event.as_str().to_owned());
    }
    if let Some(after) = query.after {
        filter.push("m.id >", after);
    }
    let (clause, limit, values) = filter.finish(query.limit);
    let sql = format!("{STORED} {clause} ORDER BY m.id LIMIT ${limit}");
    super::sql::list_rows(client, (sql, values), from_row).await
}

/// One message by its id.
pub async fn get(client: &impl GenericClient, id: i64) -> PgResult<Option<StoredMessage>> {
    let statement = client
        .prepare_cached(&format!("{STORED} WHERE m.id = $1"))
        .await?;
    client
        .query_opt(&statement, &[&id])
        .await?
        .map(|row| from_row(&row))
        .transpose()
}

fn from_row(row: &Row) -> PgResult<StoredMessage> {
    let body: Option<String> = row.try_get(14)?;
    Ok(StoredMessage {
        id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        instance: row.try_get(2)?,
        kind: row.try_get(3)?,
        client_id: row.try_get(4)?,
        subject_kind: row.try_get(5)?,
        subject_id: row.try_get(6)?,
        recipient: if row.try_get::<_, bool>(7)? {
            "previous"
        } else {
            "current"
        },
        status: row.try_get(8)?,
        reason: row.try_get(9)?,
        planned_at: super::sql::time(row.try_get(10)?).to_string(),
        attempts: row.try_get(11)?,
        wamid: row.try_get(12)?,
        language: row.try_get(13)?,
        request_body: body.and_then(|text| serde_json::value::RawValue::from_string(text).ok()),
    })
}

/// Every try to send message `id`, in order.
pub async fn attempts(client: &impl GenericClient, id: i64) -> PgResult<Vec<Attempt>> {
    let statement = client
        .prepare_cached(
            "SELECT at_ms, outcome, http_status, meta_code, fbtrace_id, detail
               FROM message_attempts WHERE message_id = $1 ORDER BY id",
        )
        .await?;
    client
        .query(&statement, &[&id])
        .await?
        .iter()
        .map(|row| {
            Ok(Attempt {
                at: super::sql::time(row.try_get(0)?).to_string(),
                outcome: row.try_get(1)?,
                http_status: row.try_get(2)?,
                meta_code: row.try_get(3)?,
                fbtrace_id: row.try_get(4)?,
                detail: row.try_get(5)?,
            })
        })
        .collect()
}

/// Alerts waiting to be sent, by instance.
pub async fn backlog(
    client: &impl GenericClient,
) -> PgResult<std::collections::BTreeMap<String, u64>> {
    let statement = client
        .prepare_cached(
            "SELECT instance, count(*) FROM messages WHERE status = 'planned' GROUP BY instance",
        )
        .await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| {
            let count: i64 = row.try_get(1)?;
            Ok((row.try_get(0)?, u64::try_from(count).unwrap_or(0)))
        })
        .collect()
}
