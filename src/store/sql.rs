//! Pieces of SQL the store's modules build their statements from.

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

/// `status = 'a' OR status = 'b' …` for a set of statuses, written into
/// SQL with `{}`: an OR list, not IN, as the tables' CHECKs and partial
/// indexes are written.
pub(super) struct AnyStatus<S: 'static>(pub(super) &'static [S]);

impl<S: crate::domain::status::Named> std::fmt::Display for AnyStatus<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (at, status) in self.0.iter().enumerate() {
            if at > 0 {
                f.write_str(" OR ")?;
            }
            write!(f, "status = '{}'", status.name())?;
        }
        Ok(())
    }
}
