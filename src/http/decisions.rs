//! `POST /v1/decisions`: synchronous hooks. Signed and checked like
//! `/v1/hooks`, answered with `{"return": …}` — what the PHP hook returns —
//! and not stored: a decision is a question, not an event.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::signed;
use crate::config::Rules;
use crate::domain::cancel;
use crate::domain::envelope::Source;
use crate::domain::ids::{InstanceName, whmcs_id};
use crate::domain::money::Money;
use crate::domain::paid::PaidSource;
use crate::domain::texts::Language;
use crate::domain::upgrade::Kind;
use crate::domain::upgrade_check::{self, UpgradeFacts};
use crate::http::state::AppState;
use flattened::PriceFacts;

#[derive(Deserialize)]
struct UpgradeRequest {
    data: UpgradeData,
}

#[derive(Deserialize)]
struct UpgradeData {
    pid: Value,
    #[serde(rename = "_puente")]
    facts: Option<UpgradeFacts>,
}

pub async fn decide(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let event = signed::verify(&request, payload, &state)
        .await?
        .into_event()?;
    let today = state.local_date(&event.instance, jiff::Timestamp::now());
    let rules = state.config.for_instance(&event.instance);
    let answer = match event.envelope.hook.as_str() {
        "ShoppingCartValidateUpgrade" => validate_upgrade(&event.body, rules, today)?,
        "OrderProductUpgradeOverride" | "PreUpgradeCheckout" => price_upgrade(
            event.envelope.hook.as_str(),
            &event.body,
            &state,
            &event.instance,
            rules,
            today,
        )?,
        "PreModuleTerminate" => hold_termination(&event, &state, today).await?,
        // A hook puente has no rule for: WHMCS goes on as without puente.
        _ => Value::Null,
    };
    Ok(HttpResponse::Ok().json(json!({ "return": answer })))
}

#[derive(Deserialize)]
struct PriceRequest {
    data: PriceData,
}

#[derive(Deserialize)]
struct PriceData {
    /// The target product (the addon adds it at checkout).
    #[serde(default, alias = "newproductid")]
    pid: Value,
    /// The cycle the client chose (`OrderProductUpgradeOverride` names it
    /// `newproductbillingcycle`; the addon repeats it in `_puente.cycle`).
    #[serde(default)]
    newproductbillingcycle: Option<String>,
    #[serde(rename = "_puente")]
    facts: Option<PriceFacts>,
}

/// serde's `flatten` buffers the other fields in a value that can hold any
/// number (its derived code names `f32`/`f64`); nothing here is read as a
/// float.
#[allow(clippy::disallowed_types)]
mod flattened {
    use serde::Deserialize;

    use crate::domain::upgrade_check::UpgradeFacts;

    #[derive(Deserialize)]
    pub(super) struct PriceFacts {
        #[serde(default)]
        pub(super) cycle: Option<String>,
        #[serde(flatten)]
        pub(super) upgrade: UpgradeFacts,
    }
}

/// The policy's price, so the page shows and the invoice charges what the
/// rule says: `{"price": …}` for the override, `{"amount", "discount"}` at
/// checkout. `{}` (WHMCS's own price) when the facts cannot be priced or
/// the change is a downgrade the check already refused.
fn price_upgrade(
    hook: &str,
    body: &[u8],
    state: &AppState,
    instance: &InstanceName,
    rules: &Rules,
    today: jiff::civil::Date,
) -> Result<Value, ApiError> {
    let request: PriceRequest = serde_json::from_slice(body).map_err(|error| {
        ApiError::InvalidEnvelope(format!("{hook} needs well-formed data._puente: {error}"))
    })?;
    let Some(facts) = request.data.facts else {
        return Ok(json!({}));
    };
    let cycle = facts
        .cycle
        .or(request.data.newproductbillingcycle)
        .unwrap_or_default();
    let pid = whmcs_id(&request.data.pid).unwrap_or_default();
    let priced = upgrade_check::price(
        rules.upgrade_policy,
        pid,
        &facts.upgrade,
        &rules.upgrades,
        &cycle,
        today,
    );
    Ok(match priced {
        Ok(priced) if priced.quote.kind == Kind::Upgrade => {
            record_paid_source(state, instance, &priced);
            let charge = priced.quote.charge;
            if hook == "PreUpgradeCheckout" {
                json!({"amount": charge.to_string(), "discount": Money::zero(charge.currency()).to_string()})
            } else {
                json!({"price": charge.to_string()})
            }
        }
        _ => json!({}),
    })
}

/// The paid amount a price rests on is counted by source, and a fallback
/// to the recurring amount is logged (SPEC §2.1 asks for it on record).
pub(super) fn record_paid_source(
    state: &AppState,
    instance: &InstanceName,
    priced: &upgrade_check::Priced,
) {
    let source = priced.paid.source;
    state
        .metrics
        .record_upgrade(source.metric(), instance.as_str());
    if source == PaidSource::RecurringAmountFallback {
        tracing::warn!(
            paid = %priced.paid.amount,
            "no paid renewal line covers the current period; the recurring amount stands in for what was paid"
        );
    }
}

/// `[]` allows; one message refuses. Without the addon's facts (an older
/// addon) WHMCS's own checks decide.
fn validate_upgrade(
    body: &[u8],
    rules: &Rules,
    today: jiff::civil::Date,
) -> Result<Value, ApiError> {
    let request: UpgradeRequest = serde_json::from_slice(body).map_err(|error| {
        ApiError::InvalidEnvelope(format!(
            "ShoppingCartValidateUpgrade needs data.pid and well-formed data._puente: {error}"
        ))
    })?;
    let pid = whmcs_id(&request.data.pid)
        .ok_or_else(|| ApiError::InvalidEnvelope("data.pid is not a product id".into()))?;
    Ok(match request.data.facts {
        Some(facts) => match upgrade_check::check(pid, &facts, &rules.upgrades, today) {
            Ok(()) => json!([]),
            Err(refusal) => json!([refusal.message(Language::named(&facts.language))]),
        },
        None => {
            tracing::warn!("upgrade check without data._puente facts; leaving it to WHMCS");
            json!([])
        }
    })
}

#[derive(Deserialize)]
struct TerminateRequest {
    data: TerminateData,
}

#[derive(Deserialize)]
struct TerminateData {
    serviceid: Value,
    /// What the addon read of WHMCS's tables; an older addon sends none.
    #[serde(default, rename = "_puente")]
    facts: Option<TerminateFacts>,
}

#[derive(Deserialize)]
struct TerminateFacts {
    /// The cancellation request WHMCS holds for the service (`null` or
    /// absent: none).
    #[serde(default)]
    cancellation_request: Option<Value>,
}

/// `PreModuleTerminate`: `{"abortcmd": true}` while WHMCS's automation
/// would terminate a service whose cancellation the client has not
/// confirmed (made on WHMCS's own form), or whose cancellation runs to the
/// end of a later billed period (WHMCS terminates at the next due date);
/// `{}` otherwise: always for staff and puente's own call on the day, and
/// when WHMCS no longer holds the request (staff withdrew it).
async fn hold_termination(
    event: &crate::ingest::ReceivedEvent,
    state: &AppState,
    today: jiff::civil::Date,
) -> Result<Value, ApiError> {
    let request: TerminateRequest = serde_json::from_slice(&event.body).map_err(|error| {
        ApiError::InvalidEnvelope(format!("data needs the service's serviceid: {error}"))
    })?;
    let service_id = whmcs_id(&request.data.serviceid)
        .ok_or_else(|| ApiError::InvalidEnvelope("data.serviceid is not a service id".into()))?;
    let by_automation = event.envelope.context.source == Source::Cron;
    // An addon that reads no facts is taken to hold the request.
    let request_held = request
        .data
        .facts
        .is_none_or(|facts| facts.cancellation_request.is_some());
    let holding = state
        .store
        .holding_cancellation(event.instance.clone(), service_id)
        .await?;
    let hold = holding.is_some_and(|pending| {
        cancel::hold_termination(pending, request_held, today, by_automation)
    });
    if hold {
        state
            .metrics
            .record_cancellation("held", event.instance.as_str());
        tracing::info!(
            service = service_id,
            "WHMCS's automation was held: the cancellation is unconfirmed or not due yet"
        );
        return Ok(json!({"abortcmd": true}));
    }
    Ok(json!({}))
}
