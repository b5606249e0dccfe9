//! Meta webhook deliveries: recorded once each, statuses applied forward only.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::delivery::{self, DeliveryStatus};

/// One status report of a Meta webhook.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub wamid: String,
    pub status: DeliveryStatus,
    pub at: jiff::Timestamp,
    pub error_code: Option<i64>,
    /// The instances that send from the number it is about: only their
    /// messages may be changed by it.
    pub instances: Vec<String>,
}

/// What a delivery changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// This exact body was applied before.
    Duplicate,
    /// Statuses that moved a message forward.
    Updated(usize),
}

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
