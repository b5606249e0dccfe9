//! Cancellations through puente's client page (SPEC §2.3, §3.3):
//! `POST /v1/client/cancellations/preview` shows a service's two types with
//! its real dates; `POST /v1/client/cancellations` takes the request of a
//! client who re-entered their email and password. Facts come from WHMCS's
//! API at request time (the client is not waiting on a hook here). The
//! request is stored as an event with what the rule decided, in one
//! transaction; the cancellation worker keeps its promise. Nothing refunds
//! or credits anything.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ClientAction;
use crate::domain::alerts::{AlertKind, PlannedAlert, Recipient, Subject};
use crate::domain::cancel::{self, CancelType, ClientRequest, Observed, Refusal, Target};
use crate::domain::ids::whmcs_id;
use crate::domain::plan::Plan;
use crate::domain::templates::Parameter;
use crate::domain::texts::Language;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::ingest::ReceivedEvent;
use crate::store::cancellations::{self, Status, StoredCancellation};
use crate::whmcs::facts::{domain_facts, service_facts};

/// Longest reason copied into WHMCS.
const MAX_REASON_CHARS: usize = 2000;

#[derive(Deserialize)]
struct CancelData {
    #[serde(default)]
    service_id: Option<Value>,
    #[serde(default)]
    domain_id: Option<Value>,
    /// `Immediate` or `End of Billing Period`; a domain needs none.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    reason: String,
}

/// A verified cancellation action of a logged-in client: what it names,
/// read from its `data`.
struct Action {
    event: ReceivedEvent,
    client_id: u64,
    target: Target,
    kind: Option<CancelType>,
    reason: String,
    language: Language,
}

async fn action(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Action, ApiError> {
    let action = ClientAction::verify(request, payload, state).await?;
    let data: CancelData = action.data("data is not a cancellation")?;
    let id = |value: &Option<Value>, name: &str| -> Result<Option<u64>, ApiError> {
        value
            .as_ref()
            .map(|value| {
                whmcs_id(value)
                    .ok_or_else(|| ApiError::InvalidEnvelope(format!("data.{name} is not an id")))
            })
            .transpose()
    };
    let target = match (
        id(&data.service_id, "service_id")?,
        id(&data.domain_id, "domain_id")?,
    ) {
        (Some(service), None) => Target::Service(service),
        (None, Some(domain)) => Target::Domain(domain),
        _ => {
            return Err(ApiError::InvalidEnvelope(
                "data needs exactly one of service_id and domain_id".into(),
            ));
        }
    };
    let kind = data
        .kind
        .as_deref()
        .map(|text| {
            CancelType::parse(text).ok_or_else(|| {
                ApiError::InvalidEnvelope(format!(
                    "data.type `{text}` is neither `Immediate` nor `End of Billing Period`"
                ))
            })
        })
        .transpose()?;
    let reason = data.reason.trim().to_owned();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::InvalidEnvelope(format!(
            "data.reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(Action {
        language: action.language(),
        event: action.event,
        client_id: action.client_id,
        target,
        kind,
        reason,
    })
}

/// Whether an open cancellation stands in the way of a new request: one
/// made on WHMCS's own form does not, it is what the client confirms now.
fn stands(stored: &StoredCancellation) -> bool {
    stored.status != Status::Unconfirmed.as_str()
}

fn refused(refusal: Refusal, language: Language) -> ApiError {
    match refusal {
        Refusal::NotOwner => ApiError::forbidden(refusal.code(), refusal.message(language)),
        _ => ApiError::conflict(refusal.code(), refusal.message(language)),
    }
}

/// The service as WHMCS has it, with the open invoices that carry its
/// lines (its upgrade rows read through the addon); `None` when WHMCS has no
/// such service.
async fn read_service(
    whmcs: &crate::whmcs::WhmcsClient,
    addon: &crate::whmcs::AddonClient,
    service_id: u64,
    public_url: &str,
) -> Result<Option<crate::whmcs::facts::ServiceInvoices>, ApiError> {
    let upgrades = addon
        .upgrades(service_id)
        .await
        .map_err(ApiError::addon_unavailable)?;
    service_facts(whmcs, service_id, &upgrades, public_url)
        .await
        .map_err(ApiError::unavailable)
}

fn not_found(target: Target) -> ApiError {
    let (kind, id) = target.columns();
    ApiError::NotFound(format!("WHMCS has no {kind} {id}"))
}

/// What the preview shows of one type.
#[derive(Serialize)]
struct TypeOption {
    #[serde(rename = "type")]
    kind: &'static str,
    effective_date: String,
    backup_retention_end: String,
}

/// `POST /v1/client/cancellations/preview`: the service's two types with
/// their real dates, and the invoices that stay payable; or why it cannot
/// be cancelled. A domain's answer says it would stop renewing.
pub async fn preview(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let action = action(&request, payload, &state).await?;
    let (whmcs, addon) = state.whmcs_of(&action.event.instance)?;
    let instance = action.event.instance.clone();
    let public_url = state.config.public_url_of(&instance);
    let today = state.local_date(&instance, jiff::Timestamp::now());
    let open = current(&state, &action).await?;
    let already = open.as_ref().is_some_and(stands);
    match action.target {
        Target::Service(service_id) => {
            // A cancellation on record is shown with its dates (to its
            // owner only: the record names the client); one made on
            // WHMCS's own form, or withdrawn since, is asked for again.
            let recorded = state
                .store
                .latest_cancellation(instance.clone(), action.target)
                .await?
                .filter(|stored| u64::try_from(stored.client_id).ok() == Some(action.client_id))
                .filter(|stored| {
                    stored.status != Status::Unconfirmed.as_str()
                        && stored.status != Status::Withdrawn.as_str()
                });
            if let Some(stored) = recorded {
                return Ok(HttpResponse::Ok().json(json!({
                    "cancellation": {
                        "type": stored.cancel_type,
                        "requested_on": stored.requested_on,
                        "status": stored.status,
                        "effective_date": stored.effective_date,
                        "termination_date": stored.termination_date,
                        "backup_retention_end": stored.backup_retention_end.or_else(|| stored
                            .effective_date
                            .as_deref()
                            .and_then(|date| date.parse().ok())
                            .map(|date| cancel::backup_retention_end(date).to_string())),
                        "open_invoices": stored.open_invoices,
                    },
                    "options": [],
                    "open_invoices": stored.open_invoices,
                    "outcome": "cancellation_requested",
                })));
            }
            let facts = read_service(whmcs, addon, service_id, &public_url)
                .await?
                .ok_or_else(|| not_found(action.target))?;
            let mut options = Vec::new();
            for kind in [CancelType::Immediate, CancelType::EndOfBillingPeriod] {
                let accepted = cancel::decide_service(
                    action.client_id,
                    &facts.service,
                    &facts.invoices,
                    kind,
                    already,
                    today,
                )
                .map_err(|refusal| refused(refusal, action.language))?;
                options.push(TypeOption {
                    kind: kind.as_str(),
                    effective_date: accepted.effective_date.to_string(),
                    backup_retention_end: cancel::backup_retention_end(accepted.effective_date)
                        .to_string(),
                });
            }
            // A request made on WHMCS's own form waits for this confirmation.
            let awaiting = open
                .filter(|stored| !stands(stored))
                .filter(|stored| u64::try_from(stored.client_id).ok() == Some(action.client_id))
                .map(|stored| {
                    json!({
                        "type": stored.cancel_type,
                        "requested_on": stored.requested_on,
                    })
                });
            Ok(HttpResponse::Ok().json(json!({
                "service": {
                    "id": facts.service.id,
                    "status": facts.service.status,
                    "billing_cycle": facts.service.billing_cycle,
                    "next_due_date": facts.service.next_due_date.map(|date| date.to_string()),
                },
                "options": options,
                "open_invoices": facts.open,
                "awaiting_confirmation": awaiting,
                "outcome": "cancellation_requested",
            })))
        }
        Target::Domain(domain_id) => {
            let (facts, renewal_off, open) =
                domain_facts(whmcs, action.client_id, domain_id, &public_url)
                    .await
                    .map_err(ApiError::unavailable)?
                    .ok_or_else(|| not_found(action.target))?;
            cancel::decide_domain(action.client_id, &facts, renewal_off)
                .map_err(|refusal| refused(refusal, action.language))?;
            Ok(HttpResponse::Ok().json(json!({
                "domain": {"id": facts.id, "status": facts.status},
                "options": [],
                "open_invoices": open,
                "outcome": "renewal_disabled",
            })))
        }
    }
}

/// `POST /v1/client/cancellations`: the client's re-authenticated request.
/// 201 `{effective_date, open_invoices, outcome}`; a repeated request (the
/// same `webhook-id`) gets the same answer.
pub async fn request(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let action = action(&request, payload, &state).await?;
    if !action.event.envelope.context.reauthenticated {
        return Err(ApiError::forbidden(
            "not_reauthenticated",
            "a cancellation needs the client's email and password entered again",
        ));
    }
    if let Some(stored) = state
        .store
        .cancellation_by_event(action.event.id.clone())
        .await?
    {
        return Ok(answer(&stored));
    }
    let (whmcs, addon) = state.whmcs_of(&action.event.instance)?;
    let instance = action.event.instance.clone();
    let public_url = state.config.public_url_of(&instance);
    let today = state.local_date(&instance, jiff::Timestamp::now());
    let already = current(&state, &action).await?.as_ref().is_some_and(stands);
    let plan = match action.target {
        Target::Service(service_id) => {
            let kind = action.kind.ok_or_else(|| {
                ApiError::InvalidEnvelope(
                    "data.type is required for a service: `Immediate` or `End of Billing Period`"
                        .into(),
                )
            })?;
            let facts = read_service(whmcs, addon, service_id, &public_url)
                .await?
                .ok_or_else(|| not_found(action.target))?;
            let accepted = cancel::decide_service(
                action.client_id,
                &facts.service,
                &facts.invoices,
                kind,
                already,
                today,
            )
            .map_err(|refusal| refused(refusal, action.language))?;
            whmcs
                .add_cancel_request(service_id, kind.as_str(), &action.reason)
                .await
                .map_err(ApiError::unavailable)?;
            state
                .metrics
                .record_cancellation("requested", instance.as_str());
            requested_plan(&action, service_id, kind, &accepted, facts.open, today)
        }
        Target::Domain(domain_id) => {
            let (facts, renewal_off, open) =
                domain_facts(whmcs, action.client_id, domain_id, &public_url)
                    .await
                    .map_err(ApiError::unavailable)?
                    .ok_or_else(|| not_found(action.target))?;
            cancel::decide_domain(action.client_id, &facts, renewal_off)
                .map_err(|refusal| refused(refusal, action.language))?;
            whmcs
                .disable_domain_renewal(domain_id)
                .await
                .map_err(ApiError::unavailable)?;
            state
                .metrics
                .record_cancellation("renewal_disabled", instance.as_str());
            Plan {
                claimed: true,
                cancellations: vec![Observed::Accepted(Box::new(ClientRequest {
                    target: action.target,
                    client_id: action.client_id,
                    kind: None,
                    reason: action.reason.clone(),
                    requested_on: today,
                    effective_date: None,
                    open_invoices: open,
                }))],
                ..Plan::default()
            }
        }
    };
    let target = action.target;
    let (id, instance, inserted) = super::store(action.event, &state, plan).await?;
    tracing::info!(event = %id, ?inserted, ?target, "cancellation requested by the client");
    // The row this request recorded or completed; else the one a report of
    // the same cancellation recorded first (WHMCS's hook for puente's own
    // call), whatever the worker did with it since.
    let stored = match state.store.cancellation_by_event(id).await? {
        Some(stored) => stored,
        None => state
            .store
            .latest_cancellation(instance, target)
            .await?
            .ok_or(ApiError::Internal)?,
    };
    Ok(answer(&stored))
}

/// The event's plan: the accepted request and the client's alert.
fn requested_plan(
    action: &Action,
    service_id: u64,
    kind: CancelType,
    accepted: &cancel::Accepted,
    open: Vec<cancel::OpenInvoice>,
    today: jiff::civil::Date,
) -> Plan {
    let alert = PlannedAlert {
        kind: AlertKind::CancellationRequested,
        client_id: Some(action.client_id),
        subject: Subject::Service(service_id),
        recipient: Recipient::Current,
        dedupe_key: cancellations::requested_alert_key(service_id),
        coalesce: None,
        details: [
            (
                Parameter::CancellationType.as_str(),
                kind.as_str().to_owned(),
            ),
            (
                Parameter::EffectiveDate.as_str(),
                accepted.effective_date.to_string(),
            ),
        ]
        .into(),
    };
    Plan {
        claimed: true,
        alerts: vec![alert],
        cancellations: vec![Observed::Accepted(Box::new(ClientRequest {
            target: action.target,
            client_id: action.client_id,
            kind: Some(kind),
            reason: action.reason.clone(),
            requested_on: today,
            effective_date: Some(accepted.effective_date),
            open_invoices: open,
        }))],
        ..Plan::default()
    }
}

async fn current(
    state: &AppState,
    action: &Action,
) -> Result<Option<StoredCancellation>, ApiError> {
    Ok(state
        .store
        .current_cancellation(action.event.instance.clone(), action.target)
        .await?)
}

/// The 201 of a stored cancellation.
fn answer(stored: &StoredCancellation) -> HttpResponse {
    let outcome = if stored.subject_kind == "domain" {
        "renewal_disabled"
    } else {
        "cancellation_requested"
    };
    HttpResponse::Created().json(json!({
        "outcome": outcome,
        "type": stored.cancel_type,
        "effective_date": stored.effective_date,
        "termination_date": stored.termination_date.as_ref().or(stored.effective_date.as_ref()),
        "backup_retention_end": stored
            .effective_date
            .as_deref()
            .and_then(|date| date.parse().ok())
            .map(|date| cancel::backup_retention_end(date).to_string()),
        "open_invoices": stored.open_invoices,
        "status": stored.status,
    }))
}
