//! Pieces of SQL the store's modules build their statements from.

use rusqlite::{Connection, Row, ToSql};

use crate::store::RecordQuery;
pub(super) use crate::store::sql::{AnyStatus, sql_integer};

/// `WHERE` conditions with numbered parameters, for the admin lists.
#[derive(Default)]
pub(super) struct Filter {
    conditions: Vec<String>,
    values: Vec<Box<dyn rusqlite::ToSql>>,
}

impl Filter {
    /// Adds `column op ?N` with its value.
    pub(super) fn push(
        &mut self,
        column_and_operator: &str,
        value: impl rusqlite::ToSql + 'static,
    ) {
        self.values.push(Box::new(value));
        self.conditions
            .push(format!("{column_and_operator} ?{}", self.values.len()));
    }

    /// The `WHERE` clause (empty when unfiltered), the parameter number of
    /// `limit`, and every value in order.
    pub(super) fn finish(mut self, limit: u32) -> (String, usize, Vec<Box<dyn rusqlite::ToSql>>) {
        self.values.push(Box::new(limit));
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

impl RecordQuery {
    /// `select` (the statement up to its `WHERE`) with this query's
    /// conditions, in id order, and its parameters.
    pub(super) fn statement(
        &self,
        select: &str,
        columns: &RecordColumns,
    ) -> (String, Vec<Box<dyn ToSql>>) {
        let alias = columns.alias;
        let mut filter = Filter::default();
        if let Some(instance) = &self.instance {
            filter.push(&format!("{alias}instance ="), instance.as_str().to_owned());
        }
        if let Some(status) = &self.status {
            filter.push(&format!("{alias}status ="), status.clone());
        }
        if let Some(service) = self.service_id {
            filter.push(columns.service, sql_integer(service));
        }
        if let Some(after) = self.after {
            filter.push(&format!("{alias}id >"), after);
        }
        let (clause, limit, values) = filter.finish(self.limit);
        (
            format!("{select} {clause} ORDER BY {alias}id LIMIT ?{limit}"),
            values,
        )
    }
}

/// Runs a list statement and reads each row with `read`.
pub(super) fn list_rows<T>(
    connection: &Connection,
    (sql, values): (String, Vec<Box<dyn ToSql>>),
    read: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map(
        rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())),
        read,
    )?;
    rows.collect()
}
