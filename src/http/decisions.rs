//! `POST /v1/decisions`: synchronous hooks. Signed and checked like
//! `/v1/hooks`, answered with `{"return": …}` — what the PHP hook returns —
//! and not stored: a decision is a question, not an event.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::signed;
use crate::domain::upgrade_check::{self, UpgradeFacts};

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
    let answer = match event.envelope.hook.as_str() {
        "ShoppingCartValidateUpgrade" => {
            let timezone = state
                .config
                .instances
                .get(&event.instance)
                .map(|instance| instance.timezone.clone())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let today = timezone.to_datetime(jiff::Timestamp::now()).date();
            validate_upgrade(&event.body, today)?
        }
        // A hook puente has no rule for: WHMCS goes on as without puente.
        _ => Value::Null,
    };
    Ok(HttpResponse::Ok().json(json!({ "return": answer })))
}

/// `[]` allows; one message refuses. Without the addon's facts (an older
/// addon) WHMCS's own checks decide.
fn validate_upgrade(body: &[u8], today: jiff::civil::Date) -> Result<Value, ApiError> {
    let request: UpgradeRequest = serde_json::from_slice(body).map_err(|error| {
        ApiError::InvalidEnvelope(format!(
            "ShoppingCartValidateUpgrade needs data.pid and well-formed data._puente: {error}"
        ))
    })?;
    let pid = match &request.data.pid {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::InvalidEnvelope("data.pid is not a product id".into()))?;
    Ok(match request.data.facts {
        Some(facts) => json!(upgrade_check::check(pid, &facts, today)),
        None => {
            tracing::warn!("upgrade check without data._puente facts; leaving it to WHMCS");
            json!([])
        }
    })
}
