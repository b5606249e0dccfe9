//! Meta webhook deliveries: recorded once each, statuses applied forward only.

use rusqlite::{Connection, OptionalExtension, params};

use super::tx::Tx;
use crate::domain::delivery;
use crate::store::Held;
use crate::store::Work;
use crate::store::whatsapp::{
    Applied, DueInbound, InboundOutcome, InboundReport, StatusReport, StoredInbound, answers_one,
    belonging,
};

/// Records a delivery by its body hash and applies its reports; run by the
/// writer, in one transaction.
pub fn apply(
    connection: &Tx<'_>,
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
                .prepare_cached(
                    "SELECT id, instance, COALESCE(client_id, to_client_id) FROM messages WHERE wamid = ?1",
                )?
                .query_row([wamid], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?,
            None => None,
        };
        // Who alerts went to at this number: only asked when the message
        // answers no alert of these instances.
        let recipients = if answers_one(report, answered.as_ref()) {
            Vec::new()
        } else {
            connection
                .prepare_cached(
                    "SELECT DISTINCT instance, to_client_id FROM messages
                      WHERE to_number = ?1 AND to_client_id IS NOT NULL",
                )?
                .query_map([&report.from], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, i64)>>>()?
        };
        let belongs = belonging(report, answered, &recipients);
        let (handling, outcome) = belongs.handling();
        let inserted = connection
            .prepare_cached(
                "INSERT INTO inbound_messages (wamid, instance, from_number, profile_name,
                     sent_at_ms, received_at_ms, kind, text, context_wamid, message_id,
                     client_id, intent, matched_by, handling, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (wamid) DO NOTHING",
            )?
            .execute(params![
                report.wamid,
                belongs.instance,
                report.from,
                report.profile_name,
                report.sent_at.as_millisecond(),
                now.as_millisecond(),
                report.kind,
                report.text,
                report.context_wamid,
                belongs.message_id,
                belongs.client_id,
                report.intent.as_str(),
                belongs.matched_by,
                handling,
                outcome,
            ])?;
        if inserted == 1 && handling == "due" {
            connection.wake(Work::Replies);
        }
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
                client_id, intent, matched_by, handling, outcome, ticket_id
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
            matched_by: row.get(10)?,
            handling: row.get(11)?,
            outcome: row.get(12)?,
            ticket_id: row.get(13)?,
        })
    })?;
    rows.collect()
}

/// At most `limit` inbound messages due at `now` to be acted on, oldest
/// first.
pub fn due(
    connection: &Connection,
    now: jiff::Timestamp,
    limit: u32,
) -> rusqlite::Result<Vec<DueInbound>> {
    let mut statement = connection.prepare_cached(
        "SELECT i.id, i.wamid, i.instance, i.from_number, i.profile_name, i.sent_at_ms, i.kind,
                i.text, i.client_id, i.intent, m.kind, i.attempts
           FROM inbound_messages i LEFT JOIN messages m ON m.id = i.message_id
          WHERE i.handling = 'due' AND i.client_id IS NOT NULL
            AND (i.next_attempt_at_ms IS NULL OR i.next_attempt_at_ms <= ?1)
          ORDER BY i.id LIMIT ?2",
    )?;
    let rows = statement.query_map(params![now.as_millisecond(), limit], |row| {
        let sent_at: i64 = row.get(5)?;
        Ok(DueInbound {
            held: Held {
                id: row.get(0)?,
                epoch: 0,
            },
            wamid: row.get(1)?,
            instance: row.get(2)?,
            from: row.get(3)?,
            profile_name: row.get(4)?,
            sent_at: jiff::Timestamp::from_millisecond(sent_at).unwrap_or_default(),
            kind: row.get(6)?,
            text: row.get(7)?,
            client_id: row.get(8)?,
            intent: row.get(9)?,
            answered_kind: row.get(10)?,
            attempts: row.get(11)?,
        })
    })?;
    rows.collect()
}

/// Writes what was made of an inbound message the worker took; whether it
/// was still due (nothing else settled it meanwhile).
pub fn settle(
    connection: &Connection,
    held: Held,
    outcome: &InboundOutcome,
) -> rusqlite::Result<bool> {
    let (handling, said) = outcome.handling();
    let changed = connection
        .prepare_cached(
            "UPDATE inbound_messages
                SET handling = ?2, outcome = ?3, ticket_id = COALESCE(?4, ticket_id),
                    next_attempt_at_ms = ?5, attempts = attempts + 1
              WHERE id = ?1 AND handling = 'due'",
        )?
        .execute(params![
            held.id,
            handling,
            said,
            outcome.ticket_id(),
            outcome.next_attempt().map(jiff::Timestamp::as_millisecond),
        ])?;
    Ok(changed == 1)
}

/// The WHMCS ticket of the latest message of this conversation (an
/// install, a client and the number they write from) that opened or was
/// added to one.
pub fn conversation_ticket(
    connection: &Connection,
    instance: &str,
    client_id: i64,
    from: &str,
) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached(
            "SELECT ticket_id FROM inbound_messages
              WHERE instance = ?1 AND client_id = ?2 AND from_number = ?3 AND ticket_id IS NOT NULL
              ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![instance, client_id, from], |row| row.get(0))
        .optional()
}
