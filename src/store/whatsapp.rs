//! Delivery statuses from Meta as the store applies them, and the messages
//! clients send to an instance's number.

use crate::domain::delivery::DeliveryStatus;
use crate::domain::replies::Intent;
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

/// A message a client sent to a number instances send from.
#[derive(Debug, Clone)]
pub struct InboundReport {
    pub wamid: String,
    /// The sender's digits (Meta's `from`).
    pub from: String,
    pub profile_name: Option<String>,
    pub sent_at: jiff::Timestamp,
    /// Meta's type: `text`, `button`, `interactive`, `image`, …
    pub kind: String,
    /// What it says (a text's body, a button's label), if anything.
    pub text: Option<String>,
    /// The wamid of the message it answers (Meta's `context.id`).
    pub context_wamid: Option<String>,
    pub intent: Intent,
    /// The instances that send from the number it was sent to, sorted: the
    /// alert it answers says which; without one, the first.
    pub instances: Vec<String>,
}

/// An inbound message as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredInbound {
    pub id: i64,
    pub instance: String,
    pub from: String,
    pub profile_name: Option<String>,
    pub received_at: String,
    pub kind: String,
    pub text: Option<String>,
    /// The alert it answers, and that alert's client.
    pub message_id: Option<i64>,
    pub client_id: Option<i64>,
    pub intent: String,
}

/// Where an inbound message belongs: the instance and client of the alert
/// it answers, when it answers one of `instances`; else the first instance
/// and no client (never guessed from the number).
pub fn belonging(
    report: &InboundReport,
    answered: Option<(i64, String, Option<i64>)>,
) -> (String, Option<i64>, Option<i64>) {
    match answered {
        Some((message, instance, client)) if report.instances.contains(&instance) => {
            (instance, Some(message), client)
        }
        _ => (
            report.instances.first().cloned().unwrap_or_default(),
            None,
            None,
        ),
    }
}
