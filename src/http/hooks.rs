//! `POST /v1/hooks`: asynchronous hook events, acknowledged once durable.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::signed::{self, SignedEvent};
use crate::domain::alerts;
use crate::domain::envelope::Envelope;
use crate::domain::hooks;
use crate::domain::ids::EventId;
use crate::domain::upgrade_apply;
use crate::metrics::EventOutcome;
use crate::store::events::EventStatus;
use crate::store::{Inserted, NewEvent};

/// Verifies, stores once, and answers 202 (new) or 200 (duplicate) only
/// after the event's transaction is on disk.
pub async fn receive(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = store(&request, payload, &state).await;
    let outcome = match &result {
        Ok((Inserted::Accepted, _)) => EventOutcome::Accepted,
        Ok((Inserted::Duplicate, _)) => EventOutcome::Duplicate,
        Err(error) => EventOutcome::Rejected(error.code()),
    };
    state.metrics.record_event(outcome);
    let (inserted, id) = result.inspect_err(|error| {
        tracing::warn!(code = error.code(), %error, "hook event refused");
    })?;
    let (mut response, status) = match inserted {
        Inserted::Accepted => (HttpResponse::Accepted(), "accepted"),
        Inserted::Duplicate => (HttpResponse::Ok(), "duplicate"),
    };
    Ok(response.json(Stored {
        status,
        id: id.as_str(),
    }))
}

async fn store(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Inserted, EventId), ApiError> {
    let event = signed::verify(request, payload, state)
        .await?
        .into_event()?;
    let id = event.id.clone();
    // Planned before the await, in a plain function: nothing of the parsed
    // envelope is kept in the waiting future.
    let new_event = plan(event, state);
    let inserted = state.writer.insert(new_event).await.map_err(|error| {
        tracing::error!(%error, %id, "event not stored");
        ApiError::StorageUnavailable
    })?;
    tracing::debug!(%id, ?inserted, "hook event");
    Ok((inserted, id))
}

/// The event to store: the verified one, with the alerts and upgrades its
/// hook plans when a rule consumes it.
fn plan(event: SignedEvent, state: &AppState) -> NewEvent {
    let SignedEvent {
        id,
        instance,
        envelope,
        body,
    } = event;
    let Envelope {
        hook,
        timestamp,
        data,
        context,
    } = envelope;
    let status = if hooks::is_handled(&hook) {
        EventStatus::Received
    } else {
        EventStatus::Unhandled
    };
    let (mut planned_alerts, mut planned_upgrades) = (Vec::new(), Vec::new());
    if status == EventStatus::Received {
        let name = hook.as_str();
        if alerts::is_alert_hook(name) {
            planned_alerts =
                alerts::plan(name, &data, &context.actor, id.as_str()).unwrap_or_else(|reason| {
                    tracing::debug!(%id, hook = name, %reason, "no alert");
                    Vec::new()
                });
        }
        if upgrade_apply::is_upgrade_hook(name) {
            let enable_date = state.local_date(&instance, timestamp);
            match upgrade_apply::plan(name, &data, state.config.upgrade_policy, enable_date) {
                Ok(planned) => {
                    for reason in &planned.skipped {
                        tracing::warn!(%id, hook = name, %reason, "an upgrade row cannot be recorded");
                    }
                    planned_upgrades = planned.applications;
                }
                Err(reason) => {
                    tracing::warn!(%id, hook = name, %reason, "an upgrade cannot be recorded");
                }
            }
        }
    }
    NewEvent {
        id,
        instance,
        hook,
        actor: context.actor,
        source: context.source,
        occurred_at: timestamp,
        status,
        body,
        alerts: planned_alerts,
        upgrades: planned_upgrades,
    }
}

/// The answer to a stored event.
#[derive(Serialize)]
struct Stored<'a> {
    status: &'static str,
    id: &'a str,
}

/// Benchmark baseline: the same media-type, size and signature checks as
/// [`receive`], then 202 without parsing or storing anything. Not mounted by
/// the service; `make bench` mounts it beside the real route.
pub async fn verify_only(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    signed::verify(&request, payload, &state).await?;
    Ok(HttpResponse::Accepted().json(json!({ "status": "verified" })))
}
