//! `GET`/`POST /v1/whatsapp/webhook`: Meta's verification handshake and its
//! status notifications, verified with `X-Hub-Signature-256` over the raw
//! body before anything is parsed (messaging_signing.md §2).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use super::signed::read_limited;
use crate::domain::delivery::DeliveryStatus;
use crate::signature::verify_hub_signature;
use crate::store::whatsapp::{self, Applied, StatusReport};

/// Meta's one-time check of the callback URL: echo `hub.challenge` when the
/// verify token matches.
pub async fn handshake(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(token) = &state.config.whatsapp.verify_token else {
        return Err(ApiError::no_such_route());
    };
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let token_matches = bool::from(
        field("hub.verify_token")
            .as_bytes()
            .ct_eq(token.expose_secret().as_bytes()),
    );
    if field("hub.mode") != "subscribe" || !token_matches {
        return Err(ApiError::Forbidden("hub.mode must be subscribe and hub.verify_token must match PUENTE_WHATSAPP_VERIFY_TOKEN".into()));
    }
    let challenge = field("hub.challenge");
    if challenge.is_empty()
        || challenge.len() > 256
        || !challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::InvalidQuery(
            "hub.challenge must be 1-256 letters, digits, - or _".into(),
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body(challenge.to_owned()))
}

#[derive(Deserialize)]
struct Notification {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: ChangeValue,
}

#[derive(Default, Deserialize)]
struct ChangeValue {
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    code: Option<i64>,
}

/// A notification: verified, recorded once, its statuses applied forward.
pub async fn notify(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(app_secret) = &state.config.whatsapp.app_secret else {
        return Err(ApiError::no_such_route());
    };
    let body = read_limited(&request, payload).await?;
    let header = request
        .headers()
        .get("x-hub-signature-256")
        .ok_or_else(|| {
            ApiError::MissingSignature("the X-Hub-Signature-256 header is missing".into())
        })?
        .to_str()
        .map_err(|_| ApiError::InvalidSignature("X-Hub-Signature-256 is not text".into()))?;
    if !verify_hub_signature(app_secret.expose_secret().as_bytes(), header, &body) {
        return Err(ApiError::InvalidSignature(
            "X-Hub-Signature-256 does not match the body under PUENTE_WHATSAPP_APP_SECRET".into(),
        ));
    }
    let notification: Notification = serde_json::from_slice(&body).map_err(|error| {
        ApiError::MalformedJson(format!("not a Meta webhook notification: {error}"))
    })?;
    let reports: Vec<StatusReport> = notification
        .entry
        .into_iter()
        .flat_map(|entry| entry.changes)
        .filter(|change| change.field == "messages")
        .flat_map(|change| change.value.statuses)
        .filter_map(|status| {
            let reported = DeliveryStatus::parse(&status.status)?;
            let seconds = status.timestamp.parse::<i64>().unwrap_or_default();
            Some(StatusReport {
                wamid: status.id,
                status: reported,
                at: jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                error_code: status.errors.first().and_then(|error| error.code),
            })
        })
        .collect();
    let digest = Sha256::digest(&body).to_vec();
    let now = jiff::Timestamp::now();
    let applied = state
        .writer
        .change(move |connection| whatsapp::apply(connection, &digest, &reports, now))
        .await
        .map_err(|error| {
            tracing::error!(%error, "Meta notification not applied");
            ApiError::StorageUnavailable
        })?;
    Ok(HttpResponse::Ok().json(match applied {
        Applied::Duplicate => json!({"status": "duplicate"}),
        Applied::Updated(count) => json!({"status": "applied", "updated": count}),
    }))
}
