//! Cancellations as the store hands them out: what the worker carries out,
//! what the client page and the admin lists show.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::domain::alerts::{AlertKind, PlannedAlert, Recipient, Subject};
use crate::domain::cancel::CancelType;
pub use crate::domain::cancel::CancellationStatus as Status;
use crate::domain::templates::Parameter;

/// An open cancellation of a service, as the worker reads it.
#[derive(Debug, Clone)]
pub struct OpenCancellation {
    pub id: i64,
    /// The lease epoch this replica took it with (see [`crate::store::lease::Held`]).
    pub lease: i64,
    pub event_seq: i64,
    pub instance: String,
    pub service_id: u64,
    pub client_id: u64,
    pub kind: CancelType,
    /// `unconfirmed`, `requested`, `scheduled` or `terminating`.
    pub status: Status,
    pub requested_on: Date,
    pub effective_date: Option<Date>,
    pub attempts: u32,
    /// When puente recorded it (ms since the epoch).
    pub requested_at_ms: i64,
}

/// A cancellation as the admin API and the client page show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredCancellation {
    pub id: i64,
    /// The event that reported it (the hook, or the client's request).
    pub event_id: String,
    pub instance: String,
    /// `service` or `domain`.
    pub subject_kind: String,
    pub subject_id: i64,
    pub client_id: i64,
    /// `Immediate` or `End of Billing Period`; `null` for a domain.
    pub cancel_type: Option<String>,
    pub reason: String,
    /// `client_page` (re-authenticated on puente's page), `whmcs` (staff,
    /// the API) or `whmcs_client_form` (WHMCS's own form, unconfirmed).
    pub origin: String,
    pub reauthenticated: bool,
    pub requested_at: String,
    pub requested_on: String,
    pub effective_date: Option<String>,
    pub open_invoices: serde_json::Value,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub termination_date: Option<String>,
    pub backup_retention_end: Option<String>,
}

impl OpenCancellation {
    /// When puente recorded the request.
    pub fn recorded_at(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.requested_at_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// The dedupe key of a service's "cancellation requested" alert.
pub fn requested_alert_key(service_id: u64) -> String {
    format!("cancellation_requested:{service_id}")
}

impl OpenCancellation {
    /// This replica's hold on it.
    pub fn held(&self) -> crate::store::lease::Held {
        crate::store::lease::Held {
            id: self.id,
            epoch: self.lease,
        }
    }
}

/// An alert to the client about one of their services.
pub(crate) fn service_alert(
    kind: AlertKind,
    client_id: u64,
    service_id: u64,
    dedupe_key: String,
    details: BTreeMap<&'static str, String>,
) -> PlannedAlert {
    PlannedAlert {
        kind,
        client_id: Some(client_id),
        subject: Subject::Service(service_id),
        recipient: Recipient::Current,
        dedupe_key,
        coalesce: None,
        details,
    }
}

/// The "cancellation requested" alert of a service's cancellation, with its
/// type and date; one per cancellation ([`requested_alert_key`]).
pub(crate) fn requested_alert(
    client_id: u64,
    service_id: u64,
    kind: CancelType,
    effective_date: Date,
) -> PlannedAlert {
    let details = BTreeMap::from([
        (
            Parameter::CancellationType.as_str(),
            kind.as_str().to_owned(),
        ),
        (
            Parameter::EffectiveDate.as_str(),
            effective_date.to_string(),
        ),
    ]);
    service_alert(
        AlertKind::CancellationRequested,
        client_id,
        service_id,
        requested_alert_key(service_id),
        details,
    )
}
