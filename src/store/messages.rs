//! The alert outbox (`messages`) as the store hands it out: what the
//! outbox reads, what it records, what the admin pages list.

use std::collections::{BTreeMap, HashMap};

use crate::domain::alerts::{AlertKind, Subject};
use crate::domain::ids::{EventId, InstanceName};
use crate::domain::templates::Parameter;

/// Why an alert was recorded but will not be sent.
pub const COALESCED: &str = "the same change was already alerted (coalesced)";

/// What an operator's retry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    Planned,
    NotRetryable(String),
}

/// A planned message as the outbox reads it.
#[derive(Debug, Clone)]
pub struct DueMessage {
    pub id: i64,
    /// The lease epoch this replica took it with (see [`crate::store::lease::Held`]).
    pub lease: i64,
    pub kind: AlertKind,
    pub client_id: Option<u64>,
    pub subject_kind: String,
    pub subject_id: Option<u64>,
    pub previous_phone: Option<(String, String)>,
    pub attempts: u32,
    /// Template values stored when the alert was planned.
    pub details: HashMap<&'static str, String>,
}

/// What became of a message the outbox took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        body: String,
        language: String,
        wamid: String,
        /// Who it went to: the number's digits and the client (so that a
        /// reply without a quoted alert is matched to its client).
        to: String,
        client: u64,
    },
    Skipped(String),
    Retry {
        reason: String,
        at: jiff::Timestamp,
    },
    /// Not tried now; no attempt counted.
    Deferred {
        reason: String,
        at: jiff::Timestamp,
    },
    Dead(String),
    Uncertain(String),
}

/// One Cloud API try, for `message_attempts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAttempt {
    /// `accepted`, `refused`, `not_sent` or `unknown`.
    pub outcome: &'static str,
    pub http_status: Option<u16>,
    pub meta_code: Option<i64>,
    pub fbtrace_id: Option<String>,
    pub detail: String,
}

/// A message's outcome, waiting to be written.
#[derive(Debug, Clone)]
pub struct Settled {
    pub message: crate::store::lease::Held,
    pub outcome: Outcome,
    pub attempt: Option<SendAttempt>,
    pub now: jiff::Timestamp,
}

/// A message as the admin API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub event_id: String,
    pub instance: String,
    pub kind: String,
    pub client_id: Option<i64>,
    pub subject_kind: String,
    pub subject_id: Option<i64>,
    /// `current`, or `previous` for the number the client replaced.
    pub recipient: &'static str,
    pub status: String,
    /// Why it is in that status: the last error, a skip or a retry reason.
    pub reason: Option<String>,
    pub planned_at: String,
    pub attempts: i64,
    pub wamid: Option<String>,
    pub language: Option<String>,
    /// The exact Cloud API request body, once prepared.
    pub request_body: Option<Box<serde_json::value::RawValue>>,
}

/// Filters and paging for [`list`].
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub instance: Option<InstanceName>,
    pub status: Option<String>,
    pub client_id: Option<u64>,
    pub event: Option<EventId>,
    /// Only messages after this id (the previous page's cursor).
    pub after: Option<i64>,
    pub limit: u32,
}

/// One try to send a message, as the Cloud API answered it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attempt {
    pub at: String,
    /// `accepted`, `refused`, `not_sent` or `unknown`.
    pub outcome: String,
    pub http_status: Option<i64>,
    pub meta_code: Option<i64>,
    pub fbtrace_id: Option<String>,
    pub detail: Option<String>,
}

impl Outcome {
    /// Its name in the metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sent { .. } => "sent",
            Self::Skipped(_) => "skipped",
            Self::Retry { .. } => "retried",
            Self::Deferred { .. } => "deferred",
            Self::Dead(_) => "dead",
            Self::Uncertain(_) => "uncertain",
        }
    }
}

/// An alert's planned template values as stored: a JSON object, or NULL.
pub fn details_column(details: &BTreeMap<&'static str, String>) -> Option<String> {
    (!details.is_empty()).then(|| serde_json::json!(details).to_string())
}

pub fn subject_columns(subject: Subject) -> (&'static str, Option<u64>) {
    match subject {
        Subject::Client => ("client", None),
        Subject::Invoice(id) => ("invoice", Some(id)),
        Subject::Service(id) => ("service", Some(id)),
        Subject::Domain(id) => ("domain", Some(id)),
        Subject::Quote(id) => ("quote", Some(id)),
    }
}

/// The stored template values of a message (a JSON object of parameter
/// name -> text); names this version does not know are left out.
pub fn details_of(column: Option<&str>) -> HashMap<&'static str, String> {
    let object: serde_json::Map<String, serde_json::Value> = column
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    object
        .into_iter()
        .filter_map(|(name, value)| {
            let parameter = Parameter::parse(&name)?;
            Some((parameter.as_str(), value.as_str()?.to_owned()))
        })
        .collect()
}

impl DueMessage {
    /// This replica's hold on it.
    pub fn held(&self) -> crate::store::lease::Held {
        crate::store::lease::Held {
            id: self.id,
            epoch: self.lease,
        }
    }
}
