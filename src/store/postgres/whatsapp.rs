//! Meta webhook deliveries on PostgreSQL: recorded once each, statuses
//! applied forward only.

use super::sql::PgResult;
use super::sql::{RELEASE, holds};
use super::tx::Tx;
use crate::domain::delivery;
use crate::store::whatsapp::{
    Applied, DueInbound, InboundOutcome, InboundReport, StatusReport, StoredInbound, answers_one,
    belonging,
};
use crate::store::{Held, Work};

const RECORD: &str =
    "INSERT INTO whatsapp_notifications (body_sha256, received_at_ms) VALUES ($1, $2)
                      ON CONFLICT (body_sha256) DO NOTHING";
/// The message a report is about, locked: two replicas applying reports of
/// one message at once take turns, each comparing with the status the
/// other left (SQLite's single writer does so by itself).
const STORED: &str = "SELECT status, instance FROM messages WHERE wamid = $1 FOR UPDATE";
const ADVANCE: &str =
    "UPDATE messages SET status = $2, status_at_ms = $3, meta_error_code = $4 WHERE wamid = $1";

/// Records a delivery by its body hash and applies its reports, in one
/// transaction.
pub async fn apply(
    tx: &Tx<'_>,
    body_sha256: &[u8],
    reports: &[StatusReport],
    inbound: &[InboundReport],
    now: jiff::Timestamp,
) -> PgResult<Applied> {
    let record = tx.prepare_cached(RECORD).await?;
    let new = tx
        .execute(&record, &[&body_sha256, &now.as_millisecond()])
        .await?
        == 1;
    if !new {
        return Ok(Applied::Duplicate);
    }
    let stored_statement = tx.prepare_cached(STORED).await?;
    let advance = tx.prepare_cached(ADVANCE).await?;
    let mut updated = 0;
    for report in reports {
        let Some(row) = tx.query_opt(&stored_statement, &[&report.wamid]).await? else {
            tracing::debug!(wamid = %report.wamid, "status for a message puente did not send");
            continue;
        };
        let stored: String = row.try_get(0)?;
        let instance: String = row.try_get(1)?;
        if !report.instances.contains(&instance) {
            tracing::warn!(wamid = %report.wamid, "status from another instance's number; ignored");
            continue;
        }
        if delivery::advances(&stored, report.status) {
            let changed = tx
                .execute(
                    &advance,
                    &[
                        &report.wamid,
                        &report.status.as_str(),
                        &report.at.as_millisecond(),
                        &report.error_code,
                    ],
                )
                .await?;
            updated += usize::try_from(changed).unwrap_or(usize::MAX);
        }
    }
    let answered_statement = tx.prepare_cached(ANSWERED).await?;
    let recipients_statement = tx.prepare_cached(RECIPIENTS).await?;
    let insert = tx.prepare_cached(INSERT_INBOUND).await?;
    for report in inbound {
        let answered = match &report.context_wamid {
            Some(wamid) => match tx.query_opt(&answered_statement, &[wamid]).await? {
                Some(row) => Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)),
                None => None,
            },
            None => None,
        };
        // Who alerts went to at this number: only asked when the message
        // answers no alert of these instances.
        let recipients = if answers_one(report, answered.as_ref()) {
            Vec::new()
        } else {
            tx.query(&recipients_statement, &[&report.from])
                .await?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<PgResult<Vec<(String, i64)>>>()?
        };
        let belongs = belonging(report, answered, &recipients);
        let (handling, outcome) = belongs.handling();
        let inserted = tx
            .execute(
                &insert,
                &[
                    &report.wamid,
                    &belongs.instance,
                    &report.from,
                    &report.profile_name,
                    &report.sent_at.as_millisecond(),
                    &now.as_millisecond(),
                    &report.kind,
                    &report.text,
                    &report.context_wamid,
                    &belongs.message_id,
                    &belongs.client_id,
                    &report.intent.as_str(),
                    &belongs.matched_by,
                    &handling,
                    &outcome,
                ],
            )
            .await?;
        if inserted == 1 && handling == "due" {
            tx.wake(Work::Replies);
        }
    }
    Ok(Applied::Updated(updated))
}

/// The alert an inbound message answers, by its wamid.
const ANSWERED: &str =
    "SELECT id, instance, COALESCE(client_id, to_client_id) FROM messages WHERE wamid = $1";

/// The (instance, client) pairs alerts were sent to at a number.
const RECIPIENTS: &str = "SELECT DISTINCT instance, to_client_id FROM messages
  WHERE to_number = $1 AND to_client_id IS NOT NULL";

const INSERT_INBOUND: &str = "INSERT INTO inbound_messages (wamid, instance, from_number,
         profile_name, sent_at_ms, received_at_ms, kind, text, context_wamid, message_id,
         client_id, intent, matched_by, handling, outcome)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (wamid) DO NOTHING";

/// The newest inbound messages, of `instance` or all.
pub async fn inbound(
    client: &impl deadpool_postgres::GenericClient,
    instance: Option<&str>,
    limit: u32,
) -> PgResult<Vec<StoredInbound>> {
    let statement = client
        .prepare_cached(
            "SELECT id, instance, from_number, profile_name, received_at_ms, kind, text,
                    message_id, client_id, intent, matched_by, handling, outcome, ticket_id
               FROM inbound_messages
              WHERE $1::text IS NULL OR instance = $1
              ORDER BY id DESC LIMIT $2",
        )
        .await?;
    client
        .query(&statement, &[&instance, &i64::from(limit)])
        .await?
        .iter()
        .map(|row| {
            Ok(StoredInbound {
                id: row.try_get(0)?,
                instance: row.try_get(1)?,
                from: row.try_get(2)?,
                profile_name: row.try_get(3)?,
                received_at: crate::store::sql::time_text(row.try_get(4)?),
                kind: row.try_get(5)?,
                text: row.try_get(6)?,
                message_id: row.try_get(7)?,
                client_id: row.try_get(8)?,
                intent: row.try_get(9)?,
                matched_by: row.try_get(10)?,
                handling: row.try_get(11)?,
                outcome: row.try_get(12)?,
                ticket_id: row.try_get(13)?,
            })
        })
        .collect()
}

/// At most `limit` inbound messages due at `now` to be acted on, oldest
/// first, taken for `owner` (see [`super::sql::claim`]).
pub async fn due(
    tx: &Tx<'_>,
    owner: &str,
    now: jiff::Timestamp,
    limit: u32,
) -> PgResult<Vec<DueInbound>> {
    let rows = super::sql::claim(
        &**tx,
        "inbound_messages",
        "handling = 'due' AND client_id IS NOT NULL
         AND (next_attempt_at_ms IS NULL OR next_attempt_at_ms <= $2)",
        "id",
        Some(i64::from(limit)),
        "t.id, t.wamid, t.instance, t.from_number, t.profile_name, t.sent_at_ms, t.kind, t.text,
         t.client_id, t.intent, (SELECT m.kind FROM messages m WHERE m.id = t.message_id),
         t.attempts, t.lease_epoch",
        owner,
        &[&now.as_millisecond()],
    )
    .await?;
    let mut due = rows
        .iter()
        .map(|row| {
            let attempts: i32 = row.try_get(11)?;
            Ok(DueInbound {
                held: Held {
                    id: row.try_get(0)?,
                    epoch: row.try_get(12)?,
                },
                wamid: row.try_get(1)?,
                instance: row.try_get(2)?,
                from: row.try_get(3)?,
                profile_name: row.try_get(4)?,
                sent_at: jiff::Timestamp::from_millisecond(row.try_get(5)?).unwrap_or_default(),
                kind: row.try_get(6)?,
                text: row.try_get(7)?,
                client_id: row.try_get(8)?,
                intent: row.try_get(9)?,
                answered_kind: row.try_get(10)?,
                attempts: u32::try_from(attempts).unwrap_or_default(),
            })
        })
        .collect::<PgResult<Vec<_>>>()?;
    due.sort_by_key(|message| message.held.id);
    Ok(due)
}

/// Writes what was made of an inbound message `owner` holds, releasing it;
/// whether it was still held (nothing written otherwise).
pub async fn settle(
    tx: &Tx<'_>,
    owner: &str,
    held: Held,
    outcome: &InboundOutcome,
) -> PgResult<bool> {
    let (handling, said) = outcome.handling();
    let sql = format!(
        "UPDATE inbound_messages
            SET handling = $2, outcome = $3, ticket_id = COALESCE($4, ticket_id),
                next_attempt_at_ms = $5, attempts = attempts + 1, {RELEASE}
          WHERE id = $1 AND handling = 'due' AND {}",
        holds(6, 7)
    );
    let statement = tx.prepare_cached(&sql).await?;
    let changed = tx
        .execute(
            &statement,
            &[
                &held.id,
                &handling,
                &said,
                &outcome.ticket_id(),
                &outcome.next_attempt().map(jiff::Timestamp::as_millisecond),
                &owner,
                &held.epoch,
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// The WHMCS ticket of the latest message of this conversation that
/// opened or was added to one.
pub async fn conversation_ticket(
    client: &impl deadpool_postgres::GenericClient,
    instance: &str,
    client_id: i64,
    from: &str,
) -> PgResult<Option<i64>> {
    let statement = client
        .prepare_cached(
            "SELECT ticket_id FROM inbound_messages
              WHERE instance = $1 AND client_id = $2 AND from_number = $3 AND ticket_id IS NOT NULL
              ORDER BY id DESC LIMIT 1",
        )
        .await?;
    client
        .query_opt(&statement, &[&instance, &client_id, &from])
        .await?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(Into::into)
}
