//! Meta webhook deliveries: recorded once each, statuses applied forward only.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::delivery;
use crate::store::whatsapp::{Applied, InboundReport, StatusReport, StoredInbound, belonging};

/// Records a delivery by its body hash and applies its reports; run by the
/// writer, in one transaction.
pub fn apply(
    connection: &Connection,
    body_sha256: &[u8],
    reports: &[StatusReport],
    inbound: &[InboundReport],
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
    for report in inbound {
        let answered = match &report.context_wamid {
            Some(wamid) => connection
                .prepare_cached("SELECT id, instance, client_id FROM messages WHERE wamid = ?1")?
                .query_row([wamid], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?,
            None => None,
        };
        let (instance, message_id, client_id) = belonging(report, answered);
        connection
            .prepare_cached(
                "INSERT INTO inbound_messages (wamid, instance, from_number, profile_name,
                     sent_at_ms, received_at_ms, kind, text, context_wamid, message_id,
                     client_id, intent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (wamid) DO NOTHING",
            )?
            .execute(params![
                report.wamid,
                instance,
                report.from,
                report.profile_name,
                report.sent_at.as_millisecond(),
                now.as_millisecond(),
                report.kind,
                report.text,
                report.context_wamid,
                message_id,
                client_id,
                report.intent.as_str(),
            ])?;
    }
    Ok(Applied::Updated(updated))
}

/// The newest inbound messages, of `instance` or all.
pub fn inbound(
    connection: &Connection,
    instance: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<StoredInbound>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, instance, from_number, profile_name, received_at_ms, kind, text, message_id,
                client_id, intent
           FROM inbound_messages
          WHERE ?1 IS NULL OR instance = ?1
          ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(params![instance, limit], |row| {
        let at: i64 = row.get(4)?;
        Ok(StoredInbound {
            id: row.get(0)?,
            instance: row.get(1)?,
            from: row.get(2)?,
            profile_name: row.get(3)?,
            received_at: crate::store::sql::time_text(at),
            kind: row.get(5)?,
            text: row.get(6)?,
            message_id: row.get(7)?,
            client_id: row.get(8)?,
            intent: row.get(9)?,
        })
    })?;
    rows.collect()
}
