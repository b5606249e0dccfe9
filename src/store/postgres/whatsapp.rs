//! Meta webhook deliveries on PostgreSQL: recorded once each, statuses
//! applied forward only.

use super::sql::PgResult;
use super::tx::Tx;
use crate::domain::delivery;
use crate::store::whatsapp::{Applied, InboundReport, StatusReport, StoredInbound, belonging};

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
    let insert = tx.prepare_cached(INSERT_INBOUND).await?;
    for report in inbound {
        let answered = match &report.context_wamid {
            Some(wamid) => match tx.query_opt(&answered_statement, &[wamid]).await? {
                Some(row) => Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)),
                None => None,
            },
            None => None,
        };
        let (instance, message_id, client_id) = belonging(report, answered);
        tx.execute(
            &insert,
            &[
                &report.wamid,
                &instance,
                &report.from,
                &report.profile_name,
                &report.sent_at.as_millisecond(),
                &now.as_millisecond(),
                &report.kind,
                &report.text,
                &report.context_wamid,
                &message_id,
                &client_id,
                &report.intent.as_str(),
            ],
        )
        .await?;
    }
    Ok(Applied::Updated(updated))
}

/// The alert an inbound message answers, by its wamid.
const ANSWERED: &str = "SELECT id, instance, client_id FROM messages WHERE wamid = $1";

const INSERT_INBOUND: &str = "INSERT INTO inbound_messages (wamid, instance, from_number,
         profile_name, sent_at_ms, received_at_ms, kind, text, context_wamid, message_id,
         client_id, intent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
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
                    message_id, client_id, intent
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
            })
        })
        .collect()
}
