//! Pieces of SQL both dialects write the same way.

/// `status = 'a' OR status = 'b' …` for a set of statuses, written into
/// SQL with `{}`: an OR list, not IN, as the tables' CHECKs and partial
/// indexes are written.
pub struct AnyStatus<S: 'static>(pub &'static [S]);

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

/// A WHMCS id as both databases store it (a signed 64-bit integer).
pub fn sql_integer(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A stored time in ms as the lists show it (empty when out of range).
pub fn time_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|at| at.to_string())
        .unwrap_or_default()
}
