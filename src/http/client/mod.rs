//! `POST /v1/client/...`: actions a logged-in client takes in the addon's
//! client-area pages, sent by the shim as signed envelopes (SPEC §3.3), one
//! file per family. The path decides the action; only a client actor may
//! act ([`ClientAction`]), and only on what they own. Refusals carry the
//! rule's code and the client's-language text.

pub mod cancellations;
pub mod transfers;
pub mod upgrades;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use super::signed;
use crate::domain::envelope::ActorKind;
use crate::domain::ids::{EventId, InstanceName};
use crate::domain::plan::Plan;
use crate::domain::texts::Language;
use crate::http::state::AppState;
use crate::ingest::ReceivedEvent;
use crate::store::Inserted;
use crate::store::events::EventStatus;

/// A verified, parsed action of a logged-in client: the prelude of every
/// client route.
pub struct ClientAction {
    pub event: ReceivedEvent,
    /// The client account acting (`context.actor.id`).
    pub client_id: u64,
    /// The user of that account acting, when the addon said which.
    pub user_id: Option<u64>,
}

impl ClientAction {
    /// Checks the signature and parses the envelope (see [`signed`]), then
    /// refuses any actor but a client (403 `actor_not_client`).
    pub async fn verify(
        request: &HttpRequest,
        payload: web::Payload,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let event = signed::verify(request, payload, state)
            .await?
            .into_event()?;
        let actor = event.envelope.context.actor;
        match (actor.kind, actor.id) {
            (ActorKind::Client, Some(client_id)) => Ok(Self {
                event,
                client_id,
                user_id: actor.user_id,
            }),
            (kind, _) => Err(ApiError::forbidden(
                "actor_not_client",
                format!(
                    "only a logged-in client may take this action (actor: {})",
                    kind.as_str()
                ),
            )),
        }
    }

    /// The envelope's `data` read as `T`, from the signed bytes; 400
    /// `invalid_envelope` with `expected: <serde's complaint>` when it is
    /// not.
    pub fn data<T: DeserializeOwned>(&self, expected: &str) -> Result<T, ApiError> {
        #[derive(Deserialize)]
        struct Body<T> {
            data: T,
        }
        serde_json::from_slice::<Body<T>>(&self.event.body)
            .map(|body| body.data)
            .map_err(|error| ApiError::InvalidEnvelope(format!("{expected}: {error}")))
    }

    /// The language of the client's page (`data.language`, picked by the
    /// addon by the rule of `domain::texts`), for refusals.
    pub fn language(&self) -> Language {
        Language::named(
            self.event
                .envelope
                .data
                .get("language")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )
    }
}

/// Stores a client action's signed event as received, with what it plans
/// (written in the event's transaction); returns its id and instance and
/// whether it was new.
pub async fn store(
    event: ReceivedEvent,
    state: &AppState,
    plan: Plan,
) -> Result<(EventId, InstanceName, Inserted), ApiError> {
    let (id, instance) = (event.id.clone(), event.instance.clone());
    let hook = event.envelope.hook.clone();
    let inserted = state
        .store
        .insert_event(event.stored(EventStatus::Received, plan))
        .await
        .map_err(|error| {
            tracing::error!(%error, hook = hook.as_str(), "a client's action was not stored");
            ApiError::StorageUnavailable
        })?;
    Ok((id, instance, inserted))
}
