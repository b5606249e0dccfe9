//! Transfers through the addon's client pages (SPEC §2.4, §3.3): the owner
//! asks, the recipient accepts or declines, the owner may withdraw, each
//! from their own session as the owner user of their account (staff
//! approve through the admin API, when the installation asks for it). The
//! preconditions are read from WHMCS's API at request and at acceptance;
//! the move itself is the transfer worker's. Every step is recorded with
//! who took it.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ClientAction;
use crate::domain::alerts::AlertKind;
use crate::domain::ids::whmcs_id;
use crate::domain::plan::Plan;
use crate::domain::texts::{Language, Text};
use crate::domain::transfer::{self, NewTransfer, Party, Refusal, Status, Step, StepRefusal};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::TransferStep;
use crate::store::transfers::{Actor, StepAlert, StoredTransfer};
use crate::whmcs::facts::{Question, transfer_facts};

fn refused(refusal: &Refusal, language: Language) -> ApiError {
    if refusal.is_who_may() {
        ApiError::forbidden(refusal.code(), refusal.message(language))
    } else {
        ApiError::conflict(refusal.code(), refusal.message(language))
    }
}

/// A step refused, in the language of the client's page (staff read
/// English: the admin API's approval refuses with these texts too).
pub(crate) fn step_refused(refusal: StepRefusal, language: Language) -> ApiError {
    let message = match refusal {
        StepRefusal::NotOwner => Text::TransferStepNotOwner,
        StepRefusal::NotRecipient => Text::TransferStepNotRecipient,
        StepRefusal::NotAllowed => Text::TransferStepNotAllowed,
        StepRefusal::InvalidTransition => Text::TransferStepInvalid,
        StepRefusal::Expired => Text::TransferStepExpired,
    }
    .get(language);
    match refusal {
        StepRefusal::NotOwner | StepRefusal::NotRecipient | StepRefusal::NotAllowed => {
            ApiError::forbidden(refusal.code(), message)
        }
        StepRefusal::InvalidTransition | StepRefusal::Expired => {
            ApiError::conflict(refusal.code(), message)
        }
    }
}

/// The JSON a client sees of a transfer.
fn shown(transfer: &StoredTransfer) -> Value {
    json!({
        "transfer_id": transfer.id,
        "status": transfer.status,
        "service_id": transfer.service_id,
        "service_name": transfer.service_name,
        "service_domain": transfer.service_domain,
        "domain_id": transfer.domain_id,
        "owner_client_id": transfer.owner_client_id,
        "recipient_email": transfer.recipient_email,
        "requested_at": transfer.requested_at,
        "expires_at": transfer.expires_at,
        "approval": transfer.approval,
    })
}

#[derive(Deserialize)]
struct RequestData {
    service_id: Value,
    recipient_email: String,
    #[serde(default)]
    domain_id: Option<Value>,
}

/// `POST /v1/client/transfers`: the owner asks to move a service to the
/// client with that email. 201 `{transfer_id, status, expires_at}`.
pub async fn request(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let action = ClientAction::verify(&request, payload, &state).await?;
    let data: RequestData = action.data("data needs service_id and recipient_email")?;
    let service_id = whmcs_id(&data.service_id)
        .ok_or_else(|| ApiError::InvalidEnvelope("data.service_id is not a service id".into()))?;
    let domain_id = match &data.domain_id {
        None | Some(Value::Null) => None,
        Some(value) => Some(whmcs_id(value).ok_or_else(|| {
            ApiError::InvalidEnvelope("data.domain_id is not a domain id".into())
        })?),
    };
    let email = data.recipient_email.trim().to_owned();
    if email.is_empty() || !email.contains('@') || email.chars().count() > 254 {
        return Err(ApiError::InvalidEnvelope(
            "data.recipient_email is not an email address".into(),
        ));
    }
    if let Some(stored) = state
        .store
        .transfer_by_event(action.event.id.clone())
        .await?
    {
        return Ok(HttpResponse::Created().json(shown(&stored)));
    }
    let language = action.language();
    let (whmcs, addon) = state.whmcs_of(&action.event.instance)?;
    let upgrades = addon
        .upgrades(service_id)
        .await
        .map_err(ApiError::addon_unavailable)?;
    let instance = action.event.instance.clone();
    let open = state
        .store
        .transfer_open_for_service(instance.clone(), service_id)
        .await?;
    let question = Question {
        service_id,
        owner_client_id: action.client_id,
        recipient_email: &email,
        expected_recipient: None,
        acting_client_id: action.client_id,
        acting_user_id: action.user_id,
        domain_id,
        other_transfer_open: open,
        upgrades: &upgrades,
    };
    let (facts, names) = transfer_facts(whmcs, &question)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::NotFound(format!("WHMCS has no service {service_id}")))?;
    let (passed, checks) = transfer::check(&facts);
    passed.map_err(|refusal| refused(&refusal, language))?;
    let transfer::Recipient::Found(recipient) = &facts.recipient else {
        return Err(ApiError::Internal);
    };
    let config = &state.config;
    let now = jiff::Timestamp::now();
    let new = NewTransfer {
        service_id,
        service_name: names.name,
        service_domain: names.domain,
        domain_id,
        owner_client_id: action.client_id,
        owner_user_id: action.user_id,
        recipient_client_id: recipient.id,
        recipient_email: email,
        approval: config.for_instance(&instance).transfers.approval,
        requested_at: now,
        expires_at: transfer::expires_at(now, config.for_instance(&instance).transfers.expiry_days),
        checks,
        answer_link: format!(
            "{}index.php?m=puente&action=transfers",
            config.public_url_of(&instance)
        ),
    };
    let plan = Plan {
        claimed: true,
        transfers: vec![new],
        ..Plan::default()
    };
    let (id, instance, _) = super::store(action.event, &state, plan).await?;
    let instance_name = instance.as_str().to_owned();
    // Nothing recorded: another request for the service got there first.
    let stored = state
        .store
        .transfer_by_event(id)
        .await?
        .ok_or_else(|| refused(&Refusal::TransferOpen, language))?;
    state.metrics.record_transfer("requested", &instance_name);
    tracing::info!(
        transfer = stored.id,
        service = service_id,
        "transfer requested"
    );
    Ok(HttpResponse::Created().json(shown(&stored)))
}

/// The client's steps on a transfer.
#[derive(Clone, Copy)]
enum ClientStep {
    Accept,
    Decline,
    Withdraw,
}

pub async fn accept(
    request: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    take(request, payload, &id, &state, ClientStep::Accept).await
}

pub async fn decline(
    request: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    take(request, payload, &id, &state, ClientStep::Decline).await
}

pub async fn withdraw(
    request: HttpRequest,
    payload: web::Payload,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    take(request, payload, &id, &state, ClientStep::Withdraw).await
}

/// `POST /v1/client/transfers/{id}/accept|decline|withdraw`: 200
/// `{transfer_id, status}`.
async fn take(
    request: HttpRequest,
    payload: web::Payload,
    id: &str,
    state: &AppState,
    wanted: ClientStep,
) -> Result<HttpResponse, ApiError> {
    let action = ClientAction::verify(&request, payload, state).await?;
    let language = action.language();
    let not_found = || ApiError::NotFound(format!("no transfer has the id `{id}`"));
    let transfer_id = id.parse::<i64>().map_err(|_| not_found())?;
    let transfer = state
        .store
        .transfer(action.event.instance.clone(), transfer_id)
        .await?
        .ok_or_else(not_found)?;
    let party = if u64::try_from(transfer.recipient_client_id).ok() == Some(action.client_id) {
        Party::Recipient
    } else if u64::try_from(transfer.owner_client_id).ok() == Some(action.client_id) {
        Party::Owner
    } else {
        // Someone else's transfer is not shown to them.
        return Err(not_found());
    };
    let step = match wanted {
        ClientStep::Accept => Step::Accept,
        ClientStep::Decline => Step::Decline,
        ClientStep::Withdraw => Step::Withdraw,
    };
    let from = transfer.status().ok_or(ApiError::Internal)?;
    let now = jiff::Timestamp::now();
    let to = transfer::step(
        from,
        step,
        party,
        transfer.approval(),
        transfer.expires(),
        now,
    )
    .map_err(|refusal| step_refused(refusal, language))?;
    let (whmcs, addon) = state.whmcs_of(&action.event.instance)?;
    let mut checks = Vec::new();
    if let ClientStep::Accept = wanted {
        // Every precondition again, with the recipient as the one acting.
        let service_id = transfer.service_id.unsigned_abs();
        let upgrades = addon
            .upgrades(service_id)
            .await
            .map_err(ApiError::addon_unavailable)?;
        let question = Question {
            service_id,
            owner_client_id: transfer.owner_client_id.unsigned_abs(),
            recipient_email: &transfer.recipient_email,
            expected_recipient: Some(transfer.recipient_client_id.unsigned_abs()),
            acting_client_id: action.client_id,
            acting_user_id: action.user_id,
            domain_id: transfer.domain_id.map(i64::unsigned_abs),
            // This transfer is the service's one open transfer (a unique
            // index keeps it so).
            other_transfer_open: false,
            upgrades: &upgrades,
        };
        let (facts, _) = transfer_facts(whmcs, &question)
            .await
            .map_err(ApiError::unavailable)?
            .ok_or_else(|| ApiError::NotFound("WHMCS no longer has the service".into()))?;
        let (passed, results) = transfer::check(&facts);
        passed.map_err(|refusal| refused(&refusal, language))?;
        checks = results;
    } else {
        // The one acting must be the owner user of their account.
        let details = whmcs
            .client_details(action.client_id)
            .await
            .map_err(ApiError::unavailable)?;
        let owns = action.user_id.is_some() && details.owner_user_id == action.user_id;
        if !owns {
            let refusal = if party == Party::Owner {
                Refusal::NotOwner
            } else {
                Refusal::NotRecipient
            };
            return Err(refused(&refusal, language));
        }
    }
    let alert = match to {
        Status::Accepted => Some(AlertKind::TransferAccepted),
        Status::Declined => Some(AlertKind::TransferDeclined),
        _ => None,
    }
    .map(|kind| StepAlert {
        kind,
        to_owner: true,
        to_recipient: false,
    });
    let actor = Actor {
        party,
        client_id: Some(action.client_id),
        user_id: action.user_id,
    };
    let taken = state
        .store
        .take_transfer_step(TransferStep {
            transfer: transfer.clone(),
            held: None,
            from,
            to,
            actor,
            checks,
            note: None,
            alert,
            subscriptions_cleared: Vec::new(),
            now,
        })
        .await?;
    if !taken {
        return Err(step_refused(StepRefusal::InvalidTransition, language));
    }
    state
        .metrics
        .record_transfer(to.as_str(), &transfer.instance);
    tracing::info!(
        transfer = transfer.id,
        status = to.as_str(),
        "transfer step taken"
    );
    Ok(HttpResponse::Ok().json(json!({"transfer_id": transfer.id, "status": to.as_str()})))
}

/// `POST /v1/client/transfers/list`: the client's transfers, those asked
/// for (`outgoing`) and those addressed to them (`incoming`).
pub async fn list_for_client(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let action = ClientAction::verify(&request, payload, &state).await?;
    let (outgoing, incoming) = state
        .store
        .transfers_of_client(action.event.instance.clone(), action.client_id)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "outgoing": outgoing.iter().map(shown).collect::<Vec<_>>(),
        "incoming": incoming.iter().map(shown).collect::<Vec<_>>(),
    })))
}
