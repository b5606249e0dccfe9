//! Paid upgrades (`upgrade_applications`) and manual-upgrade tickets
//! (`manual_upgrade_requests`) as the store hands them out.

use crate::domain::alerts::{AlertKind, PlannedAlert, Recipient, Subject};

/// A recorded upgrade not yet carried out.
#[derive(Debug, Clone)]
pub struct PendingApplication {
    pub id: i64,
    /// The lease epoch this replica took it with (see [`crate::store::lease::Held`]).
    pub lease: i64,
    pub event_seq: i64,
    pub instance: String,
    pub upgrade_id: u64,
    pub service_id: u64,
    pub client_id: u64,
    pub billing_cycle: String,
    pub next_due_date: Option<String>,
    pub recurring_amount: Option<String>,
    pub attempts: u32,
    /// `applying`: a call was interrupted and may have reached WHMCS.
    pub interrupted: bool,
}

/// A recorded upgrade as the admin API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredApplication {
    pub id: i64,
    pub event_id: String,
    pub instance: String,
    pub upgrade_id: i64,
    /// `package`, `service`, `configoptions` or `addon`, as WHMCS wrote it.
    pub upgrade_type: String,
    pub service_id: i64,
    pub client_id: i64,
    /// `null` when puente never applies the upgrade or the row named none.
    pub product_id: Option<i64>,
    pub billing_cycle: Option<String>,
    pub policy: String,
    pub enable_date: String,
    /// `null` when the policy kept WHMCS's due date.
    pub next_due_date: Option<String>,
    pub recurring_amount: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub planned_at: String,
    pub applied_at: Option<String>,
}

/// A manual upgrade request being opened or open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub id: i64,
    pub status: String,
    pub ticket_id: Option<u64>,
    pub ticket_number: Option<String>,
    pub requested_at_ms: i64,
}

/// What the client asked for.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub instance: String,
    pub service_id: u64,
    pub client_id: u64,
    pub product_id: u64,
    pub billing_cycle: String,
}

impl PendingApplication {
    /// This replica's hold on it.
    pub fn held(&self) -> crate::store::lease::Held {
        crate::store::lease::Held {
            id: self.id,
            epoch: self.lease,
        }
    }
}

impl PendingApplication {
    /// The client's "upgrade applied" alert: one per WHMCS upgrade.
    pub(crate) fn applied_alert(&self) -> PlannedAlert {
        PlannedAlert {
            kind: AlertKind::UpgradeApplied,
            client_id: Some(self.client_id),
            subject: Subject::Service(self.service_id),
            recipient: Recipient::Current,
            dedupe_key: format!("upgrade_applied:{}", self.upgrade_id),
            coalesce: None,
            details: std::collections::BTreeMap::new(),
        }
    }
}
