//! Transfers of a service between clients as the store hands them out,
//! with their audit trail.

use std::collections::BTreeMap;

use crate::domain::alerts::{AlertKind, PlannedAlert, Recipient, Subject};
use crate::domain::templates::Parameter;
use crate::domain::transfer::{Approval, ClearedSubscription, Party, Status};

/// A transfer as puente keeps it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredTransfer {
    pub id: i64,
    /// The lease epoch the worker took it with (see [`crate::store::lease::Held`]);
    /// 0 where a list or a client read it.
    #[serde(skip)]
    pub lease: i64,
    #[serde(skip)]
    pub event_seq: i64,
    pub instance: String,
    pub service_id: i64,
    pub service_name: String,
    pub service_domain: String,
    pub domain_id: Option<i64>,
    pub owner_client_id: i64,
    pub recipient_client_id: i64,
    pub recipient_email: String,
    pub approval: String,
    pub status: String,
    pub requested_at: String,
    pub expires_at: String,
    #[serde(skip)]
    pub expires_at_ms: i64,
    pub move_attempts: i64,
    pub last_error: Option<String>,
    /// Every gateway subscription the move cleared: staff cancel each at
    /// the gateway.
    pub subscriptions_cleared: Vec<ClearedSubscription>,
}

/// Who took a step, for the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub party: Party,
    pub client_id: Option<u64>,
    pub user_id: Option<u64>,
}

/// An alert a step plans: its kind and recipients.
#[derive(Debug, Clone, Copy)]
pub struct StepAlert {
    pub kind: AlertKind,
    pub to_owner: bool,
    pub to_recipient: bool,
}

/// One step of the audit trail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredStep {
    pub from: Option<String>,
    pub to: String,
    pub party: String,
    pub actor_client_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub at: String,
    pub checks: serde_json::Value,
    pub note: Option<String>,
}

impl StoredTransfer {
    pub fn status(&self) -> Option<Status> {
        Status::parse(&self.status)
    }

    pub fn approval(&self) -> Approval {
        Approval::parse(&self.approval).unwrap_or(Approval::None)
    }

    pub fn expires(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.expires_at_ms).unwrap_or(jiff::Timestamp::MAX)
    }
}

impl Actor {
    pub fn system() -> Self {
        Self {
            party: Party::System,
            client_id: None,
            user_id: None,
        }
    }

    pub fn staff() -> Self {
        Self {
            party: Party::Staff,
            client_id: None,
            user_id: None,
        }
    }
}

impl StoredTransfer {
    /// This replica's hold on it.
    pub fn held(&self) -> crate::store::lease::Held {
        crate::store::lease::Held {
            id: self.id,
            epoch: self.lease,
        }
    }
}

/// The service's name and domain as a transfer's alerts carry them.
pub(crate) fn alert_names(name: &str, domain: &str) -> BTreeMap<&'static str, String> {
    let shown = if name.trim().is_empty() { "#" } else { name };
    BTreeMap::from([
        (Parameter::ServiceName.as_str(), shown.to_owned()),
        (
            Parameter::ServiceDomain.as_str(),
            if domain.trim().is_empty() {
                shown.to_owned()
            } else {
                domain.to_owned()
            },
        ),
    ])
}

/// An alert to a client of the transfer, about the client themselves (the
/// service may change hands between planning and sending).
pub(crate) fn client_alert(
    kind: AlertKind,
    client_id: u64,
    dedupe_key: String,
    details: BTreeMap<&'static str, String>,
) -> PlannedAlert {
    PlannedAlert {
        kind,
        client_id: Some(client_id),
        subject: Subject::Client,
        recipient: Recipient::Current,
        dedupe_key,
        coalesce: None,
        details,
    }
}
