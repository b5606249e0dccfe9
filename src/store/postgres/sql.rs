//! Pieces of PostgreSQL statements the rule files build theirs from, and
//! the error every one of them returns.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

pub(super) use crate::store::sql::{AnyStatus, sql_integer};
use crate::store::{RecordQuery, StoreError};

/// What a statement of this backend fails with: PostgreSQL's error, or a
/// stored value this version cannot read or a value it cannot store.
#[derive(Debug, thiserror::Error)]
pub(super) enum PgError {
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("{0}")]
    Data(String),
}

impl PgError {
    /// As a failed read.
    pub(super) fn read(self) -> StoreError {
        StoreError::Read(self.to_string())
    }

    /// As a failed write: nothing of it was kept.
    pub(super) fn write(self) -> StoreError {
        StoreError::Write(self.to_string())
    }
}

/// What a statement returns.
pub(super) type PgResult<T> = Result<T, PgError>;

/// A parameter of a statement built at run time.
pub(super) type Value = Box<dyn ToSql + Sync + Send>;

/// `WHERE` conditions with numbered parameters, for the admin lists.
#[derive(Default)]
pub(super) struct Filter {
    conditions: Vec<String>,
    values: Vec<Value>,
}

impl Filter {
    /// Adds `column op $N` with its value.
    pub(super) fn push(
        &mut self,
        column_and_operator: &str,
        value: impl ToSql + Sync + Send + 'static,
    ) {
        self.values.push(Box::new(value));
        self.conditions
            .push(format!("{column_and_operator} ${}", self.values.len()));
    }

    /// The `WHERE` clause (empty when unfiltered), the parameter number of
    /// `limit`, and every value in order.
    pub(super) fn finish(mut self, limit: u32) -> (String, usize, Vec<Value>) {
        self.values.push(Box::new(i64::from(limit)));
        let clause = if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        };
        (clause, self.values.len(), self.values)
    }
}

/// Where a record table's columns are: `alias` prefixes its columns (`c.`,
/// or empty), `service` is the condition a service id completes.
pub(super) struct RecordColumns {
    pub(super) alias: &'static str,
    pub(super) service: &'static str,
}

/// `select` (the statement up to its `WHERE`) with `query`'s conditions,
/// in id order, and its parameters.
pub(super) fn record_statement(
    query: &RecordQuery,
    select: &str,
    columns: &RecordColumns,
) -> (String, Vec<Value>) {
    let alias = columns.alias;
    let mut filter = Filter::default();
    if let Some(instance) = &query.instance {
        filter.push(&format!("{alias}instance ="), instance.as_str().to_owned());
    }
    if let Some(status) = &query.status {
        filter.push(&format!("{alias}status ="), status.clone());
    }
    if let Some(service) = query.service_id {
        filter.push(columns.service, sql_integer(service));
    }
    if let Some(after) = query.after {
        filter.push(&format!("{alias}id >"), after);
    }
    let (clause, limit, values) = filter.finish(query.limit);
    (
        format!("{select} {clause} ORDER BY {alias}id LIMIT ${limit}"),
        values,
    )
}

/// Runs a statement built at run time and reads each row with `read`.
pub(super) async fn list_rows<T>(
    client: &impl deadpool_postgres::GenericClient,
    (sql, values): (String, Vec<Value>),
    read: fn(&tokio_postgres::Row) -> PgResult<T>,
) -> PgResult<Vec<T>> {
    let parameters: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|value| value.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let rows = client.query(&sql, &parameters).await?;
    rows.iter().map(read).collect()
}

/// A stored time in ms as a timestamp (the epoch for one out of range).
pub(super) fn time(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The database's clock in ms since the epoch: leases and heartbeats are
/// read against this one clock, whatever each replica's own says.
pub(super) const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// How long a row a replica took stays its own without a transition that
/// renews it; longer than any one step of a worker (a WHMCS or Graph call
/// is bounded well below it).
pub(super) const LEASE_MS: i64 = 20_000;

/// `SET` items that release a row's lease (a final step, or one that hands
/// the row back for any replica to take).
pub(super) const RELEASE: &str = "lease_owner = NULL, lease_expires_at_ms = NULL";

/// The condition a worker's transition adds: the row is still held by
/// owner `$owner` with epoch `$epoch` (parameter numbers).
pub(super) fn holds(owner: usize, epoch: usize) -> String {
    format!("lease_owner = ${owner} AND lease_epoch = ${epoch}")
}

/// The `SET` item that renews a held row's lease.
pub(super) fn renew() -> String {
    format!("lease_expires_at_ms = {NOW_MS} + {LEASE_MS}")
}

/// Takes for `owner` the rows of `table` that match `condition` and no
/// other live replica holds (free, already `owner`'s, or lapsed), skipping
/// rows another transaction has locked, in `order`, at most `limit`; each
/// gets a new epoch. Returns `columns` (written with `t.` for the table) of
/// every row taken, in no particular order: the caller sorts them.
///
/// `condition` may use `$2`, `$3`… (`values`); `$1` is the owner.
#[allow(clippy::too_many_arguments)] // one statement's parts, each named
pub(super) async fn claim(
    tx: &impl GenericClient,
    table: &str,
    condition: &str,
    order: &str,
    limit: Option<i64>,
    columns: &str,
    owner: &str,
    values: &[&(dyn ToSql + Sync)],
) -> PgResult<Vec<tokio_postgres::Row>> {
    let limit = limit.map_or(String::new(), |limit| format!("LIMIT {limit}"));
    let sql = format!(
        "WITH taken AS (
             SELECT id FROM {table}
              WHERE ({condition})
                AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at_ms < {NOW_MS})
              ORDER BY {order} {limit}
                FOR UPDATE SKIP LOCKED)
         UPDATE {table} t
            SET lease_owner = $1, lease_expires_at_ms = {NOW_MS} + {LEASE_MS},
                lease_epoch = t.lease_epoch + 1
           FROM taken
          WHERE t.id = taken.id
         RETURNING {columns}"
    );
    let statement = tx.prepare_cached(&sql).await?;
    let mut parameters: Vec<&(dyn ToSql + Sync)> = vec![&owner];
    parameters.extend_from_slice(values);
    Ok(tx.query(&statement, &parameters).await?)
}

/// A replica silent this long is dead: its work is rescued.
pub(super) const DEAD_AFTER_MS: i64 = 10_000;

/// The condition (SQL) that the replica named by `column` is not alive:
/// unknown, stopped, or silent for [`DEAD_AFTER_MS`].
pub(super) fn dead(column: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM replicas r
                      WHERE r.id = {column} AND r.stopped_at_ms IS NULL
                        AND r.heartbeat_at_ms > {NOW_MS} - {DEAD_AFTER_MS})"
    )
}
