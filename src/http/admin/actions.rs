//! What an administrator does to a record, as plain functions: retry a
//! message, an upgrade or a cancellation, approve a transfer. The admin
//! API's routes answer with their result, the dashboard's forms redirect
//! after them; both pass the [`Admin`] whose scope bounds the action.

use super::Admin;
use crate::domain::texts::Language;
use crate::domain::transfer::{self, Party, Status, Step, StepRefusal};
use crate::http::client::transfers::step_refused;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::messages::Retry;
use crate::store::transfers::Actor;
use crate::store::{InstanceOwned, TransferStep};

/// A record planned again: its row id.
#[derive(Debug, Clone, Copy)]
pub struct Retried {
    pub id: i64,
}

/// A transfer staff approved: its id and the status it moved to.
#[derive(Debug, Clone, Copy)]
pub struct Approved {
    pub transfer_id: i64,
    pub status: Status,
}

/// Sends a dead, failed or uncertain message again, from scratch (an
/// uncertain one may reach the client twice: the operator decides).
pub async fn retry_message(state: &AppState, admin: &Admin, id: &str) -> Result<Retried, ApiError> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(ApiError::NotFound(format!("no message has the id `{id}`")));
    };
    admin.may_act_on(state, InstanceOwned::Messages, id).await?;
    let status = state.store.retry_message(id).await?;
    match status {
        None => Err(ApiError::NotFound(format!("no message has the id `{id}`"))),
        Some(Retry::Planned) => Ok(Retried { id }),
        Some(Retry::NotRetryable(status)) => Err(ApiError::NotRetryable(format!(
            "message {id} is {status}; only dead, failed and uncertain messages can be retried"
        ))),
    }
}

/// Plans a failed upgrade again, once the administrator has fixed what
/// WHMCS refused; the worker takes it at once.
pub async fn retry_upgrade(state: &AppState, admin: &Admin, id: &str) -> Result<Retried, ApiError> {
    let not_found = || ApiError::NotFound(format!("no recorded upgrade has the id `{id}`"));
    let Ok(row) = id.parse::<i64>() else {
        return Err(not_found());
    };
    admin
        .may_act_on(state, InstanceOwned::Upgrades, row)
        .await?;
    match state.store.retry_upgrade(row).await? {
        None => Err(not_found()),
        Some(Retry::Planned) => Ok(Retried { id: row }),
        Some(Retry::NotRetryable(status)) => Err(ApiError::NotRetryable(format!(
            "upgrade {row} is {status}; only failed upgrades can be retried"
        ))),
    }
}

/// Tries a failed termination again, once the administrator fixed what
/// WHMCS refused.
pub async fn retry_cancellation(
    state: &AppState,
    admin: &Admin,
    id: &str,
) -> Result<Retried, ApiError> {
    let not_found = || ApiError::NotFound(format!("no cancellation has the id `{id}`"));
    let Ok(row) = id.parse::<i64>() else {
        return Err(not_found());
    };
    admin
        .may_act_on(state, InstanceOwned::Cancellations, row)
        .await?;
    let now = jiff::Timestamp::now();
    match state.store.retry_cancellation(row, now).await? {
        None => Err(not_found()),
        Some(Retry::Planned) => Ok(Retried { id: row }),
        Some(Retry::NotRetryable(status)) => Err(ApiError::NotRetryable(format!(
            "cancellation {row} is {status}; only failed cancellations can be retried"
        ))),
    }
}

/// Staff's step on a transfer when `PUENTE_TRANSFER_APPROVAL=staff`; the
/// move follows. Refusals are in English (staff read English).
pub async fn approve_transfer(
    state: &AppState,
    admin: &Admin,
    id: &str,
) -> Result<Approved, ApiError> {
    let not_found = || ApiError::NotFound(format!("no transfer has the id `{id}`"));
    let transfer_id = id.parse::<i64>().map_err(|_| not_found())?;
    let transfer = state
        .store
        .transfer_by_id(transfer_id)
        .await?
        .ok_or_else(not_found)?;
    admin.may_see(&transfer.instance)?;
    let from = transfer.status().ok_or(ApiError::Internal)?;
    let now = jiff::Timestamp::now();
    let to = transfer::step(
        from,
        Step::Approve,
        Party::Staff,
        transfer.approval(),
        transfer.expires(),
        now,
    )
    .map_err(|refusal| step_refused(refusal, Language::English))?;
    let taken = state
        .store
        .take_transfer_step(TransferStep {
            transfer: transfer.clone(),
            held: None,
            from,
            to,
            actor: Actor::staff(),
            checks: Vec::new(),
            note: None,
            alert: None,
            subscriptions_cleared: Vec::new(),
            now,
        })
        .await?;
    if !taken {
        return Err(step_refused(
            StepRefusal::InvalidTransition,
            Language::English,
        ));
    }
    state
        .metrics
        .record_transfer("approved", &transfer.instance);
    Ok(Approved {
        transfer_id: transfer.id,
        status: to,
    })
}
