//! Where each install's reconciliation stands, and which alert keys exist.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::Reconciliation;

pub fn since(connection: &Connection, instance: &str) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached("SELECT since_ms FROM reconciliations WHERE instance = ?1")?
        .query_row([instance], |row| row.get(0))
        .optional()
}

pub fn record(
    connection: &Connection,
    instance: &str,
    since_ms: i64,
    result: &str,
    now_ms: i64,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO reconciliations (instance, since_ms, passed_at_ms, last_result)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (instance) DO UPDATE
                SET since_ms = excluded.since_ms, passed_at_ms = excluded.passed_at_ms,
                    last_result = excluded.last_result",
        )?
        .execute(params![instance, since_ms, now_ms, result])?;
    Ok(())
}

pub fn list(connection: &Connection) -> rusqlite::Result<Vec<Reconciliation>> {
    let mut statement = connection.prepare_cached(
        "SELECT instance, since_ms, passed_at_ms, last_result FROM reconciliations ORDER BY instance",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(Reconciliation {
            instance: row.get(0)?,
            since_ms: row.get(1)?,
            passed_at_ms: row.get(2)?,
            last_result: row.get(3)?,
        })
    })?;
    rows.collect()
}

/// Which of `keys` an alert of `instance` was planned under (the
/// `UNIQUE (instance, dedupe_key)` index answers each).
pub fn planned_keys(
    connection: &Connection,
    instance: &str,
    keys: &[String],
) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection
        .prepare_cached("SELECT 1 FROM messages WHERE instance = ?1 AND dedupe_key = ?2")?;
    let mut found = Vec::new();
    for key in keys {
        if statement.exists(params![instance, key])? {
            found.push(key.clone());
        }
    }
    Ok(found)
}
