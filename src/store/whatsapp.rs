//! Delivery statuses from Meta as the store applies them.

use crate::domain::delivery::DeliveryStatus;
/// One status report of a Meta webhook.
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub wamid: String,
    pub status: DeliveryStatus,
    pub at: jiff::Timestamp,
    pub error_code: Option<i64>,
    /// The instances that send from the number it is about: only their
    /// messages may be changed by it.
    pub instances: Vec<String>,
}

/// What a delivery changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// This exact body was applied before.
    Duplicate,
    /// Statuses that moved a message forward.
    Updated(usize),
}
