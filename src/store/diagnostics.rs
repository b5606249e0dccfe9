//! Diagnostic reports as the store keeps them.

use crate::domain::diagnostics::Row;

/// A kept report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredReport {
    pub instance: String,
    pub at: String,
    pub addon_version: String,
    pub whmcs_version: String,
    pub php_version: String,
    pub passed: i64,
    pub warned: i64,
    pub failed: i64,
    pub rows: Vec<Row>,
}

/// What a report is made of when it is kept.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub instance: String,
    pub at: jiff::Timestamp,
    pub addon_version: String,
    pub whmcs_version: String,
    pub php_version: String,
    pub rows: Vec<Row>,
}
