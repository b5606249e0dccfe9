//! The `diagnostic_reports` table: each install's last diagnostics report,
//! kept for the dashboard.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::diagnostics::Verdict;
use crate::store::diagnostics::{NewReport, StoredReport};

/// Keeps an install's report in place of its previous one.
pub(super) fn keep(connection: &Connection, report: &NewReport) -> rusqlite::Result<()> {
    let count = |verdict: Verdict| {
        i64::try_from(
            report
                .rows
                .iter()
                .filter(|row| row.status == verdict)
                .count(),
        )
        .unwrap_or(i64::MAX)
    };
    let rows = serde_json::to_string(&report.rows)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    connection.execute(
        "INSERT INTO diagnostic_reports
                (instance, at_ms, addon_version, whmcs_version, php_version, passed, warned, failed, rows)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (instance) DO UPDATE SET
                at_ms = excluded.at_ms, addon_version = excluded.addon_version,
                whmcs_version = excluded.whmcs_version, php_version = excluded.php_version,
                passed = excluded.passed, warned = excluded.warned, failed = excluded.failed,
                rows = excluded.rows",
        params![
            report.instance,
            report.at.as_millisecond(),
            report.addon_version,
            report.whmcs_version,
            report.php_version,
            count(Verdict::Pass),
            count(Verdict::Warn),
            count(Verdict::Fail),
            rows,
        ],
    )?;
    Ok(())
}

/// Every install's last report (or one install's), by instance.
pub fn latest(
    connection: &Connection,
    instance: Option<&str>,
) -> rusqlite::Result<Vec<StoredReport>> {
    let mut statement = connection.prepare_cached(
        "SELECT instance, at_ms, addon_version, whmcs_version, php_version, passed, warned, failed, rows
           FROM diagnostic_reports WHERE ?1 IS NULL OR instance = ?1 ORDER BY instance",
    )?;
    let rows = statement.query_map([instance], |row| {
        let at: i64 = row.get(1)?;
        let rows: String = row.get(8)?;
        Ok(StoredReport {
            instance: row.get(0)?,
            at: jiff::Timestamp::from_millisecond(at)
                .map(|at| at.to_string())
                .unwrap_or_default(),
            addon_version: row.get(2)?,
            whmcs_version: row.get(3)?,
            php_version: row.get(4)?,
            passed: row.get(5)?,
            warned: row.get(6)?,
            failed: row.get(7)?,
            rows: serde_json::from_str(&rows).unwrap_or_default(),
        })
    })?;
    rows.collect()
}

/// When each hook type last reached the service from an instance.
pub fn hooks_seen(
    connection: &Connection,
    instance: &str,
    hooks: &[String],
) -> rusqlite::Result<Vec<(String, Option<jiff::Timestamp>)>> {
    let mut statement = connection.prepare_cached(
        "SELECT occurred_at_ms FROM events WHERE type = ?1 AND instance = ?2 ORDER BY seq DESC LIMIT 1",
    )?;
    hooks
        .iter()
        .map(|hook| {
            let at: Option<i64> = statement
                .query_row(params![hook, instance], |row| row.get(0))
                .optional()?;
            Ok((
                hook.clone(),
                at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
            ))
        })
        .collect()
}
