//! `GET`/`POST /v1/whatsapp/webhook`: Meta's verification handshake and its
//! status notifications, verified with `X-Hub-Signature-256` over the raw
//! body before anything is parsed (messaging_signing.md §2).
//!
//! Instances may send from their own numbers through their own Meta apps.
//! A notification must verify under one of the configured app secrets, and
//! each of its senders (`metadata.phone_number_id`) must belong to an
//! instance whose app secret that is: a body signed with another
//! instance's secret is refused whole. Statuses of numbers no instance
//! sends from are acknowledged and ignored (counted).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::signed::read_limited;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::replies;
use crate::http::state::AppState;
use crate::signature::verify_hub_signature;
use crate::store::whatsapp::{Applied, InboundReport, StatusReport};

/// Meta's one-time check of the callback URL: echo `hub.challenge` when the
/// verify token matches.
pub async fn handshake(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tokens = state.config.meta_verify_tokens();
    if tokens.is_empty() {
        return Err(ApiError::no_such_route());
    }
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let presented = field("hub.verify_token").as_bytes();
    let token_matches = tokens.iter().fold(false, |found, token| {
        found | bool::from(presented.ct_eq(token.expose_secret().as_bytes()))
    });
    if field("hub.mode") != "subscribe" || !token_matches {
        return Err(ApiError::Forbidden(
            "hub.mode must be subscribe and hub.verify_token must match a configured verify \
             token (PUENTE_WHATSAPP_VERIFY_TOKEN or an instance's whatsapp.verify_token)"
                .into(),
        ));
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
    metadata: Metadata,
    #[serde(default)]
    statuses: Vec<Status>,
    /// What clients sent to the number.
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    contacts: Vec<Contact>,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    from: String,
    #[serde(default)]
    timestamp: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<TextBody>,
    /// A template's quick-reply button the client tapped.
    #[serde(default)]
    button: Option<ButtonReply>,
    #[serde(default)]
    interactive: Option<Interactive>,
    /// The message it answers.
    #[serde(default)]
    context: Option<Context>,
}

#[derive(Deserialize)]
struct TextBody {
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
struct ButtonReply {
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Interactive {
    #[serde(default)]
    button_reply: Option<Choice>,
    #[serde(default)]
    list_reply: Option<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
struct Context {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct Contact {
    #[serde(default)]
    wa_id: String,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    name: String,
}

/// The business number a change concerns.
#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    phone_number_id: String,
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

/// The statuses of a notification's `messages` changes, each with the
/// number it is about (`metadata.phone_number_id`); statuses puente does not
/// track are left out. Pure: run on the verified body.
pub fn notification_statuses(body: &[u8]) -> Result<Vec<SenderStatuses>, serde_json::Error> {
    let notification: Notification = serde_json::from_slice(body)?;
    Ok(notification
        .entry
        .into_iter()
        .flat_map(|entry| entry.changes)
        .filter(|change| change.field == "messages")
        .map(|change| SenderStatuses {
            inbound: inbound_of(&change.value),
            sender: change.value.metadata.phone_number_id,
            total: change.value.statuses.len(),
            statuses: change
                .value
                .statuses
                .into_iter()
                .filter_map(|status| {
                    let reported = DeliveryStatus::parse(&status.status)?;
                    let seconds = status.timestamp.parse::<i64>().unwrap_or_default();
                    Some(ReportedStatus {
                        wamid: status.id,
                        status: reported,
                        at: jiff::Timestamp::from_second(seconds)
                            .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                        error_code: status.errors.first().and_then(|error| error.code),
                    })
                })
                .collect(),
        })
        .collect())
}

/// The messages clients sent in one change, each with what it says and
/// asks for.
fn inbound_of(value: &ChangeValue) -> Vec<InboundReport> {
    value
        .messages
        .iter()
        .map(|message| {
            let text = match (&message.text, &message.button, &message.interactive) {
                (Some(text), _, _) => Some(text.body.clone()),
                (_, Some(button), _) => Some(button.text.clone()),
                (_, _, Some(interactive)) => interactive
                    .button_reply
                    .as_ref()
                    .or(interactive.list_reply.as_ref())
                    .map(|choice| choice.title.clone()),
                _ => None,
            };
            let seconds = message.timestamp.parse::<i64>().unwrap_or_default();
            InboundReport {
                wamid: message.id.clone(),
                from: message.from.clone(),
                profile_name: value
                    .contacts
                    .iter()
                    .find(|contact| contact.wa_id == message.from)
                    .and_then(|contact| contact.profile.as_ref())
                    .map(|profile| profile.name.clone())
                    .filter(|name| !name.is_empty()),
                sent_at: jiff::Timestamp::from_second(seconds)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                kind: message.kind.clone(),
                // Read with the install's own words once its number says
                // which install it is (`notify`).
                intent: replies::Intent::Reply,
                text,
                context_wamid: message
                    .context
                    .as_ref()
                    .and_then(|context| context.id.clone()),
                instances: Vec::new(),
            }
        })
        .collect()
}

/// The statuses one change reports about one business number, and the
/// messages clients sent to it.
#[derive(Debug)]
pub struct SenderStatuses {
    pub sender: String,
    /// Statuses in the change, tracked or not.
    pub total: usize,
    pub statuses: Vec<ReportedStatus>,
    /// Their `instances` are left for the caller, which knows the number's.
    pub inbound: Vec<InboundReport>,
}

#[derive(Debug)]
pub struct ReportedStatus {
    pub wamid: String,
    pub status: DeliveryStatus,
    pub at: jiff::Timestamp,
    pub error_code: Option<i64>,
}

/// A notification: verified, recorded once, its statuses applied forward
/// to the messages of the instances that send from its number.
pub async fn notify(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let config = &state.config;
    let app_secrets = config.meta_app_secrets();
    if app_secrets.is_empty() {
        return Err(ApiError::no_such_route());
    }
    let body = read_limited(&request, payload).await?;
    let header = request
        .headers()
        .get("x-hub-signature-256")
        .ok_or_else(|| {
            ApiError::MissingSignature("the X-Hub-Signature-256 header is missing".into())
        })?
        .to_str()
        .map_err(|_| ApiError::InvalidSignature("X-Hub-Signature-256 is not text".into()))?;
    let Some(signed_with) = app_secrets
        .into_iter()
        .find(|secret| verify_hub_signature(secret.expose_secret().as_bytes(), header, &body))
    else {
        return Err(ApiError::InvalidSignature(
            "X-Hub-Signature-256 does not match the body under any configured app secret \
             (PUENTE_WHATSAPP_APP_SECRET or an instance's whatsapp.app_secret)"
                .into(),
        ));
    };
    let changes = notification_statuses(&body).map_err(|error| {
        ApiError::MalformedJson(format!("not a Meta webhook notification: {error}"))
    })?;
    let mut reports = Vec::new();
    let mut inbound = Vec::new();
    let mut ignored = 0usize;
    for change in changes {
        let owners: Vec<_> = config.senders_of(&change.sender).collect();
        if owners.is_empty() {
            ignored += change.total + change.inbound.len();
            continue;
        }
        let signed_by_owner = owners.iter().any(|(_, whatsapp)| {
            whatsapp.app_secret.as_ref().is_some_and(|secret| {
                bool::from(
                    secret
                        .expose_secret()
                        .as_bytes()
                        .ct_eq(signed_with.expose_secret().as_bytes()),
                )
            })
        });
        if !signed_by_owner {
            return Err(ApiError::InvalidSignature(format!(
                "statuses of the number {} must be signed with the app secret of the \
                 instance that sends from it",
                change.sender
            )));
        }
        let mut instances: Vec<String> = owners
            .iter()
            .map(|(name, _)| name.as_str().to_owned())
            .collect();
        instances.sort();
        // A number several installs share speaks with the first's words.
        let words = &owners
            .iter()
            .min_by_key(|(name, _)| name.as_str())
            .map(|(name, _)| &config.for_instance(name).alerts.reply_words)
            .cloned()
            .unwrap_or_default();
        inbound.extend(change.inbound.into_iter().map(|message| InboundReport {
            intent: replies::intent(message.text.as_deref(), words),
            instances: instances.clone(),
            ..message
        }));
        reports.extend(change.statuses.into_iter().map(|status| StatusReport {
            wamid: status.wamid,
            status: status.status,
            at: status.at,
            error_code: status.error_code,
            instances: instances.clone(),
        }));
    }
    if ignored > 0 {
        tracing::info!(
            ignored,
            "Meta statuses for a number no instance sends from; acknowledged and ignored"
        );
        state.metrics.record_unknown_sender_statuses(ignored);
    }
    let digest = Sha256::digest(&body).to_vec();
    let now = jiff::Timestamp::now();
    let applied = state
        .store
        .apply_delivery_statuses(digest, reports, inbound, now)
        .await
        .map_err(|error| {
            tracing::error!(%error, "Meta notification not applied");
            ApiError::StorageUnavailable
        })?;
    Ok(HttpResponse::Ok().json(match applied {
        Applied::Duplicate => json!({"status": "duplicate"}),
        Applied::Updated(count) => {
            json!({"status": "applied", "updated": count, "ignored": ignored})
        }
    }))
}
