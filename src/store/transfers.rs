//! Transfers of a service between clients as the store hands them out,
//! with their audit trail.

use crate::domain::alerts::AlertKind;
use crate::domain::transfer::{Approval, ClearedSubscription, Party, Status};

/// A transfer as puente keeps it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredTransfer {
    pub id: i64,
    /// The lease epoch the worker took it with (see [`crate::store::Held`]);
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
    pub fn held(&self) -> crate::store::Held {
        crate::store::Held {
            id: self.id,
            epoch: self.lease,
        }
    }
}
