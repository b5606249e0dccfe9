//! What the dashboard keeps and reads beside the other tables' lists: the
//! overview's figures, and credentials spent before their expiry (used
//! sign-in links and signed-out sessions, table `dashboard_spent`).

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::domain::ids::InstanceName;
use crate::domain::transfer::Status as TransferStatus;
use crate::store::dashboard::{Counts, DueWork, Gauges, WorkerKind, count};

/// Records `token` as spent until `expires` (Unix seconds); false when it
/// already was. Forgets whatever expired by `now` on the way.
pub fn spend(
    connection: &Connection,
    token: &str,
    expires: i64,
    now: i64,
) -> rusqlite::Result<bool> {
    connection.execute("DELETE FROM dashboard_spent WHERE expires <= ?1", [now])?;
    let inserted = connection.execute(
        "INSERT OR IGNORE INTO dashboard_spent (token, expires) VALUES (?1, ?2)",
        params![token, expires],
    )?;
    Ok(inserted == 1)
}

/// Whether `token` was spent and has not expired by `now`.
pub fn is_spent(connection: &Connection, token: &str, now: i64) -> rusqlite::Result<bool> {
    connection
        .query_row(
            "SELECT 1 FROM dashboard_spent WHERE token = ?1 AND expires > ?2",
            params![token, now],
            |_| Ok(()),
        )
        .optional()
        .map(|found| found.is_some())
}

/// The overview's figures, of `instance` or all, read in one go.
pub fn counts(
    connection: &Connection,
    instance: Option<&InstanceName>,
) -> rusqlite::Result<Counts> {
    {
        let name = instance.map(InstanceName::as_str);
        let count = |sql: &str| -> rusqlite::Result<i64> {
            connection.query_row(sql, [name], |row| row.get(0))
        };
        let (backlog, dead) = super::messages::waiting_and_dead(connection, instance)?;
        Ok(Counts {
            backlog,
            dead,
            failed_upgrades: count(
                "SELECT count(*) FROM upgrade_applications
                  WHERE status = 'failed' AND (?1 IS NULL OR instance = ?1)",
            )?,
            failed_cancellations: count(
                "SELECT count(*) FROM cancellations
                  WHERE status = 'failed' AND (?1 IS NULL OR instance = ?1)",
            )?,
            unconfirmed_cancellations: count(
                "SELECT count(*) FROM cancellations
                  WHERE status = 'unconfirmed' AND (?1 IS NULL OR instance = ?1)",
            )?,
            open_transfers: count(&format!(
                "SELECT count(*) FROM transfers
                  WHERE ({}) AND (?1 IS NULL OR instance = ?1)",
                super::sql::AnyStatus(TransferStatus::OPEN)
            ))?,
        })
    }
}

/// Each worker's due work by instance: the count and since when the oldest
/// has been due (`store::dashboard::DueWork` says what due means). `:now`
/// is now in Unix milliseconds, `:today` today's UTC date.
const DUE_WORK: [(WorkerKind, &str); 5] = [
    (
        WorkerKind::Outbox,
        "SELECT instance, count(*), min(coalesce(next_attempt_at_ms, planned_at_ms))
           FROM messages
          WHERE status = 'planned' AND coalesce(next_attempt_at_ms, planned_at_ms) <= :now
          GROUP BY instance",
    ),
    (
        WorkerKind::Upgrades,
        "SELECT instance, count(*), min(planned_at_ms)
           FROM upgrade_applications
          WHERE status = 'planned' OR status = 'applying'
          GROUP BY instance",
    ),
    (
        WorkerKind::Cancellations,
        "SELECT instance, count(*),
                min(CASE WHEN status = 'scheduled'
                         THEN unixepoch(effective_date, '+1 day') * 1000
                         ELSE requested_at_ms END)
           FROM cancellations
          WHERE subject_kind = 'service'
            AND (status = 'requested' OR status = 'terminating'
                 OR (status = 'scheduled' AND effective_date < :today))
          GROUP BY instance",
    ),
    (
        WorkerKind::Transfers,
        "SELECT instance, count(*),
                min(CASE WHEN status = 'requested' OR (status = 'accepted' AND approval = 'staff')
                         THEN expires_at_ms ELSE updated_at_ms END)
           FROM transfers
          WHERE ((status = 'accepted' AND approval = 'none') OR status = 'approved'
                 OR status = 'moving'
                 OR ((status = 'requested' OR (status = 'accepted' AND approval = 'staff'))
                     AND expires_at_ms <= :now))
          GROUP BY instance",
    ),
    (
        WorkerKind::Replies,
        "SELECT instance, count(*), min(coalesce(next_attempt_at_ms, received_at_ms))
           FROM inbound_messages
          WHERE handling = 'due' AND coalesce(next_attempt_at_ms, received_at_ms) <= :now
          GROUP BY instance",
    ),
];

/// What alerts read at each scrape: due work and dead letters.
pub fn gauges(connection: &Connection, now_ms: i64, today: &str) -> rusqlite::Result<Gauges> {
    let mut gauges = Gauges::default();
    for (worker, sql) in DUE_WORK {
        let mut statement = connection.prepare_cached(sql)?;
        for index in 1..=statement.parameter_count() {
            match statement.parameter_name(index) {
                Some(":now") => statement.raw_bind_parameter(index, now_ms)?,
                Some(":today") => statement.raw_bind_parameter(index, today)?,
                other => {
                    return Err(rusqlite::Error::InvalidParameterName(
                        other.unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next()? {
            gauges.due.push(DueWork {
                worker,
                instance: row.get(0)?,
                count: count(row.get(1)?),
                oldest_due_ms: row.get(2)?,
            });
        }
    }
    let mut statement = connection.prepare_cached(
        "SELECT instance, count(*) FROM messages WHERE status = 'dead' GROUP BY instance",
    )?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, count(row.get(1)?))))?;
    for row in rows {
        let (instance, dead) = row?;
        gauges.dead_letters.insert(instance, dead);
    }
    Ok(gauges)
}
