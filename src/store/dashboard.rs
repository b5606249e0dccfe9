//! Dashboard credentials spent before their expiry: used sign-in links and
//! signed-out sessions (table `dashboard_spent`).

use rusqlite::{Connection, OptionalExtension as _, params};

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
