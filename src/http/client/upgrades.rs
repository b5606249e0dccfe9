//! `POST /v1/client/upgrades/quote` and `POST /v1/client/upgrades/manual`:
//! what an upgrade of the client's service would cost, and a ticket to the
//! account executives when the client asks for one by hand.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ClientAction;
use crate::domain::cycle::Cycle;
use crate::domain::ids::whmcs_id;
use crate::domain::texts::{Language, Text};
use crate::domain::upgrade_check;
use crate::http::decisions::record_paid_source;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::ingest::ReceivedEvent;
use crate::store::upgrades::NewRequest;
use crate::whmcs::{NewTicket, WhmcsError};
use flattened::ActionFacts;

/// An `opening` request older than this was interrupted (the WHMCS call
/// is bounded well below it).
const OPENING_GIVEN_UP_AFTER_MS: i64 = 5 * 60 * 1000;
/// Longest client note copied into a ticket.
const MAX_NOTE_CHARS: usize = 2000;

#[derive(Deserialize)]
struct UpgradeData {
    service_id: Value,
    product_id: Value,
    cycle: String,
    #[serde(default)]
    note: String,
    #[serde(rename = "_puente")]
    facts: Option<ActionFacts>,
}

/// serde's `flatten` buffers the other fields in a value that can hold any
/// number (its derived code names `f32`/`f64`); nothing here is read as a
/// float.
#[allow(clippy::disallowed_types)]
mod flattened {
    use serde::Deserialize;

    use crate::domain::upgrade_check::UpgradeFacts;

    #[derive(Deserialize)]
    pub(super) struct ActionFacts {
        #[serde(flatten)]
        pub(super) upgrade: UpgradeFacts,
        /// Names for the ticket, when the addon could read them.
        #[serde(default)]
        pub(super) service_name: String,
        #[serde(default)]
        pub(super) target_name: String,
    }
}

/// A verified upgrade action of the client who owns the service.
struct OwnedUpgrade {
    event: ReceivedEvent,
    client_id: u64,
    service_id: u64,
    target_pid: u64,
    cycle: String,
    note: String,
    facts: ActionFacts,
}

async fn owned_upgrade(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<OwnedUpgrade, ApiError> {
    let action = ClientAction::verify(request, payload, state).await?;
    let data: UpgradeData =
        action.data("data needs service_id, product_id, cycle and well-formed _puente facts")?;
    let ClientAction {
        event, client_id, ..
    } = action;
    let service_id = whmcs_id(&data.service_id)
        .ok_or_else(|| ApiError::InvalidEnvelope("data.service_id is not a service id".into()))?;
    let target_pid = whmcs_id(&data.product_id)
        .ok_or_else(|| ApiError::InvalidEnvelope("data.product_id is not a product id".into()))?;
    let facts = data
        .facts
        .ok_or_else(|| ApiError::NotFound(format!("WHMCS has no service {service_id}")))?;
    if facts.upgrade.service.userid != Some(client_id) {
        return Err(ApiError::forbidden(
            "not_owner",
            format!("service {service_id} does not belong to client {client_id}"),
        ));
    }
    let status = facts
        .upgrade
        .service
        .status
        .as_deref()
        .filter(|status| !status.trim().is_empty())
        .unwrap_or("Active");
    if !status.eq_ignore_ascii_case("active") {
        let language = Language::named(&facts.upgrade.language);
        let message = Text::UpgradeServiceNotActive.fill(language, &[("status", status)]);
        return Err(ApiError::conflict("service_not_active", message));
    }
    if data.note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::InvalidEnvelope(format!(
            "data.note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(OwnedUpgrade {
        event,
        client_id,
        service_id,
        target_pid,
        cycle: data.cycle,
        note: data.note,
        facts,
    })
}

/// `POST /v1/client/upgrades/quote`: what the upgrade would cost, as
/// `puente quote` prints it, or the rule that refuses it.
pub async fn upgrade_quote(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let action = owned_upgrade(&request, payload, &state).await?;
    let facts = &action.facts.upgrade;
    let rules = state.config.for_instance(&action.event.instance);
    let priced = upgrade_check::quote(
        rules.upgrade_policy,
        action.target_pid,
        facts,
        &rules.upgrades,
        &action.cycle,
        state.local_date(&action.event.instance, jiff::Timestamp::now()),
    )
    .map_err(|refusal| {
        ApiError::conflict(
            refusal.code(),
            refusal.message(Language::named(&facts.language)),
        )
    })?;
    record_paid_source(&state, &action.event.instance, &priced);
    let mut quote = crate::quote::render(
        rules.upgrade_policy,
        &priced.quote,
        priced.target_price,
        priced.paid.amount.rounded(),
    );
    quote["breakdown"]["paid_source"] = json!(priced.paid.source.as_str());
    Ok(HttpResponse::Ok().json(quote))
}

/// `POST /v1/client/upgrades/manual`: a ticket to the account executives
/// with the service, the wished plan and cycle; one open per service.
pub async fn manual_upgrade(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let action = owned_upgrade(&request, payload, &state).await?;
    let cycle = Cycle::parse(&action.cycle)
        .filter(|cycle| cycle.months().is_some())
        .ok_or_else(|| {
            ApiError::InvalidEnvelope(format!(
                "data.cycle `{}` is not a recurring WHMCS billing cycle",
                action.cycle
            ))
        })?;
    let instance = action.event.instance.clone();
    let (whmcs, _) = state.whmcs_of(&instance)?;
    let rules = state.config.for_instance(&instance);
    let department = rules.upgrades.manual_department.ok_or_else(|| {
        ApiError::WhmcsUnavailable(format!(
            "manual upgrade requests of instance {instance} need a WHMCS support department \
             (PUENTE_UPGRADE_MANUAL_DEPARTMENT, or upgrade.manual_department in its \
             [instances.{instance}] table)"
        ))
    })?;
    let language = Language::named(&action.facts.upgrade.language);
    let already_open = |number: &str| {
        let message = if number.is_empty() {
            Text::UpgradeRequestOpen.get(language).to_owned()
        } else {
            Text::UpgradeRequestOpenTicket.fill(language, &[("ticket", number)])
        };
        ApiError::conflict("manual_request_open", message)
    };

    // A request already open stays the only one, unless WHMCS closed it.
    let open = state
        .store
        .open_upgrade_request(instance.clone(), action.service_id)
        .await?;
    if let Some(open) = open {
        let number = open.ticket_number.clone().unwrap_or_default();
        let Some(ticket_id) = open.ticket_id else {
            return Err(already_open(&number));
        };
        let status = whmcs
            .ticket_status(ticket_id)
            .await
            .map_err(|error| ApiError::WhmcsUnavailable(error.to_string()))?;
        if !status.eq_ignore_ascii_case("closed") {
            return Err(already_open(&number));
        }
        let now = jiff::Timestamp::now();
        state
            .store
            .upgrade_request_ended(open.id, "closed", None, now)
            .await?;
    }

    let now = jiff::Timestamp::now();
    let new = NewRequest {
        instance: instance.as_str().to_owned(),
        service_id: action.service_id,
        client_id: action.client_id,
        product_id: action.target_pid,
        billing_cycle: cycle.as_str().to_owned(),
    };
    let stale = now.as_millisecond() - OPENING_GIVEN_UP_AFTER_MS;
    let reserved = state.store.reserve_upgrade_request(new, now, stale).await?;
    let Some(request_id) = reserved else {
        return Err(already_open(""));
    };

    let (subject, message) = ticket_text(&action, cycle, language);
    let ticket = NewTicket {
        department_id: department,
        client_id: action.client_id,
        service_id: Some(action.service_id),
        subject: &subject,
        message: &message,
    };
    match whmcs.open_ticket(&ticket).await {
        Ok(opened) => {
            let (id, number) = (opened.id, opened.number.clone());
            state
                .store
                .upgrade_request_opened(request_id, id, number)
                .await?;
            state
                .metrics
                .record_upgrade("manual_ticket", instance.as_str());
            tracing::info!(
                service = action.service_id,
                ticket = opened.id,
                "manual upgrade request opened"
            );
            Ok(HttpResponse::Created()
                .json(json!({"ticket_id": opened.id, "ticket_number": opened.number})))
        }
        Err(error) => {
            let reason = error.to_string();
            let now = jiff::Timestamp::now();
            state
                .store
                .upgrade_request_ended(request_id, "failed", Some(reason), now)
                .await?;
            tracing::error!(%error, service = action.service_id, "manual upgrade ticket not opened");
            Err(match error {
                WhmcsError::Rejected { .. } | WhmcsError::Forbidden { .. } => {
                    ApiError::WhmcsUnavailable(format!("WHMCS did not open the ticket: {error}"))
                }
                _ => ApiError::WhmcsUnavailable(error.to_string()),
            })
        }
    }
}

/// The ticket's subject and body, in the client's language.
fn ticket_text(action: &OwnedUpgrade, cycle: Cycle, language: Language) -> (String, String) {
    let facts = &action.facts;
    let named = |name: &str, id: u64| {
        if name.trim().is_empty() {
            format!("#{id}")
        } else {
            format!("{} (#{id})", name.trim())
        }
    };
    let service = named(&facts.service_name, action.service_id);
    let target = named(&facts.target_name, action.target_pid);
    let note = match action.note.trim() {
        "" => Text::UpgradeTicketNoNote.get(language),
        note => note,
    };
    (
        Text::UpgradeTicketSubject.fill(language, &[("service", &service)]),
        Text::UpgradeTicketBody.fill(
            language,
            &[
                ("service", &service),
                ("target", &target),
                ("cycle", cycle.as_str()),
                ("note", note),
            ],
        ),
    )
}
