//! Where each install's reconciliation stands, and which alert keys exist,
//! on PostgreSQL.

use deadpool_postgres::GenericClient;

use super::sql::PgResult;
use crate::store::Reconciliation;

pub async fn since(client: &impl GenericClient, instance: &str) -> PgResult<Option<i64>> {
    let statement = client
        .prepare_cached("SELECT since_ms FROM reconciliations WHERE instance = $1")
        .await?;
    Ok(match client.query_opt(&statement, &[&instance]).await? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

pub async fn record(
    client: &impl GenericClient,
    instance: &str,
    since_ms: i64,
    result: &str,
    now_ms: i64,
) -> PgResult<()> {
    let statement = client
        .prepare_cached(
            "INSERT INTO reconciliations (instance, since_ms, passed_at_ms, last_result)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (instance) DO UPDATE
                SET since_ms = GREATEST(reconciliations.since_ms, excluded.since_ms),
                    passed_at_ms = excluded.passed_at_ms, last_result = excluded.last_result",
        )
        .await?;
    client
        .execute(&statement, &[&instance, &since_ms, &now_ms, &result])
        .await?;
    Ok(())
}

pub async fn list(client: &impl GenericClient) -> PgResult<Vec<Reconciliation>> {
    let statement = client
        .prepare_cached(
            "SELECT instance, since_ms, passed_at_ms, last_result FROM reconciliations ORDER BY instance",
        )
        .await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| {
            Ok(Reconciliation {
                instance: row.try_get(0)?,
                since_ms: row.try_get(1)?,
                passed_at_ms: row.try_get(2)?,
                last_result: row.try_get(3)?,
            })
        })
        .collect()
}

pub async fn planned_keys(
    client: &impl GenericClient,
    instance: &str,
    keys: &[String],
) -> PgResult<Vec<String>> {
    let statement = client
        .prepare_cached(
            "SELECT dedupe_key FROM messages WHERE instance = $1 AND dedupe_key = ANY($2)",
        )
        .await?;
    client
        .query(&statement, &[&instance, &keys])
        .await?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
}
