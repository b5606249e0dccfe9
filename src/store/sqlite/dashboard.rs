//! What the dashboard keeps and reads beside the other tables' lists: the
//! overview's figures, and credentials spent before their expiry (used
//! sign-in links and signed-out sessions, table `dashboard_spent`).

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::domain::ids::InstanceName;
use crate::domain::transfer::Status as TransferStatus;
use crate::store::dashboard::Counts;

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
