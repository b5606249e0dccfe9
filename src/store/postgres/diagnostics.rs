//! The `diagnostic_reports` table on PostgreSQL: each install's last
//! diagnostics report, kept for the dashboard.

use deadpool_postgres::GenericClient;

use super::sql::{PgError, PgResult};
use super::tx::Tx;
use crate::domain::diagnostics::Verdict;
use crate::store::diagnostics::{NewReport, StoredReport};

const KEEP: &str = "INSERT INTO diagnostic_reports
                           (instance, at_ms, addon_version, whmcs_version, php_version, passed, warned,
                            failed, rows)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (instance) DO UPDATE SET
                           at_ms = excluded.at_ms, addon_version = excluded.addon_version,
                           whmcs_version = excluded.whmcs_version, php_version = excluded.php_version,
                           passed = excluded.passed, warned = excluded.warned, failed = excluded.failed,
                           rows = excluded.rows";

/// Keeps an install's report in place of its previous one.
pub(super) async fn keep(tx: &Tx<'_>, report: &NewReport) -> PgResult<()> {
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
        .map_err(|error| PgError::Data(format!("the rows of a diagnostics report: {error}")))?;
    let statement = tx.prepare_cached(KEEP).await?;
    tx.execute(
        &statement,
        &[
            &report.instance,
            &report.at.as_millisecond(),
            &report.addon_version,
            &report.whmcs_version,
            &report.php_version,
            &count(Verdict::Pass),
            &count(Verdict::Warn),
            &count(Verdict::Fail),
            &rows,
        ],
    )
    .await?;
    Ok(())
}

/// Every install's last report (or one install's), by instance.
pub async fn latest(
    client: &impl GenericClient,
    instance: Option<&str>,
) -> PgResult<Vec<StoredReport>> {
    let statement = client
        .prepare_cached(
            "SELECT instance, at_ms, addon_version, whmcs_version, php_version, passed, warned,
                    failed, rows
               FROM diagnostic_reports WHERE $1::text IS NULL OR instance = $1 ORDER BY instance",
        )
        .await?;
    client
        .query(&statement, &[&instance])
        .await?
        .iter()
        .map(|row| -> PgResult<StoredReport> {
            let at: i64 = row.try_get(1)?;
            let rows: String = row.try_get(8)?;
            Ok(StoredReport {
                instance: row.try_get(0)?,
                at: jiff::Timestamp::from_millisecond(at)
                    .map(|at| at.to_string())
                    .unwrap_or_default(),
                addon_version: row.try_get(2)?,
                whmcs_version: row.try_get(3)?,
                php_version: row.try_get(4)?,
                passed: row.try_get(5)?,
                warned: row.try_get(6)?,
                failed: row.try_get(7)?,
                rows: serde_json::from_str(&rows).unwrap_or_default(),
            })
        })
        .collect()
}

/// When each hook type last reached the service from an instance.
pub async fn hooks_seen(
    client: &impl GenericClient,
    instance: &str,
    hooks: &[String],
) -> PgResult<Vec<(String, Option<jiff::Timestamp>)>> {
    let statement = client
        .prepare_cached(
            "SELECT occurred_at_ms FROM events WHERE type = $1 AND instance = $2
              ORDER BY seq DESC LIMIT 1",
        )
        .await?;
    let mut seen = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let at: Option<i64> = client
            .query_opt(&statement, &[hook, &instance])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        seen.push((
            hook.clone(),
            at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
        ));
    }
    Ok(seen)
}
