//! Meta webhook deliveries on PostgreSQL: recorded once each, statuses
//! applied forward only.

use super::sql::PgResult;
use super::tx::Tx;
use crate::domain::delivery;
use crate::store::whatsapp::{Applied, StatusReport};

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
    Ok(Applied::Updated(updated))
}
