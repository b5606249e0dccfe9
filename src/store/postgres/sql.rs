//! Pieces of PostgreSQL statements the rule files build theirs from, and
//! the error every one of them returns.

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
