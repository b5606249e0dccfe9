//! Meta webhook deliveries: recorded once each, statuses applied forward only.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::delivery;
use crate::store::whatsapp::{Applied, StatusReport};

/// Records a delivery by its body hash and applies its reports; run by the
/// writer, in one transaction.
pub fn apply(
    connection: &Connection,
    body_sha256: &[u8],
    reports: &[StatusReport],
    now: jiff::Timestamp,
) -> rusqlite::Result<Applied> {
    let new = connection.execute(
        "INSERT INTO whatsapp_notifications (body_sha256, received_at_ms) VALUES (?1, ?2)
         ON CONFLICT (body_sha256) DO NOTHING",
        params![body_sha256, now.as_millisecond()],
    )? == 1;
    if !new {
        return Ok(Applied::Duplicate);
    }
    let mut updated = 0;
    for report in reports {
        let stored: Option<(String, String)> = connection
            .prepare_cached("SELECT status, instance FROM messages WHERE wamid = ?1")?
            .query_row([&report.wamid], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((stored, instance)) = stored else {
            tracing::debug!(wamid = %report.wamid, "status for a message puente did not send");
            continue;
        };
        if !report.instances.contains(&instance) {
            tracing::warn!(wamid = %report.wamid, "status from another instance's number; ignored");
            continue;
        }
        if delivery::advances(&stored, report.status) {
            updated += connection.execute(
                "UPDATE messages SET status = ?2, status_at_ms = ?3, meta_error_code = ?4 WHERE wamid = ?1",
                params![report.wamid, report.status.as_str(), report.at.as_millisecond(), report.error_code],
            )?;
        }
    }
    Ok(Applied::Updated(updated))
}
