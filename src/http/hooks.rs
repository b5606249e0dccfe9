//! `POST /v1/hooks`: asynchronous hook events, acknowledged once durable.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::signed;
use crate::domain::alerts;
use crate::domain::hooks;
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
    Ok(match inserted {
        Inserted::Accepted => {
            HttpResponse::Accepted().json(json!({ "status": "accepted", "id": id }))
        }
        Inserted::Duplicate => HttpResponse::Ok().json(json!({ "status": "duplicate", "id": id })),
    })
}

async fn store(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Inserted, String), ApiError> {
    let event = signed::verify(request, payload, state)
        .await?
        .into_event()?;
    let status = if hooks::is_handled(&event.envelope.hook) {
        EventStatus::Received
    } else {
        EventStatus::Unhandled
    };
    let context = &event.envelope.context;
    let hook = event.envelope.hook.as_str();
    let plans_alerts = alerts::is_alert_hook(hook);
    let plans_upgrades = upgrade_apply::is_upgrade_hook(hook);
    let (mut planned_alerts, mut planned_upgrades) = (Vec::new(), Vec::new());
    if status == EventStatus::Received && (plans_alerts || plans_upgrades) {
        // The body was verified and parsed as an envelope already.
        if let Ok(Data { data }) = serde_json::from_slice::<Data>(&event.body) {
            let id = event.id.as_str();
            if plans_alerts {
                planned_alerts =
                    alerts::plan(hook, &data, &context.actor, id).unwrap_or_else(|reason| {
                        tracing::debug!(id, hook, %reason, "no alert");
                        Vec::new()
                    });
            }
            if plans_upgrades {
                let enable_date = state.local_date(&event.instance, event.envelope.timestamp);
                planned_upgrades =
                    upgrade_apply::plan(hook, &data, state.config.upgrade_policy, enable_date)
                        .unwrap_or_else(|reason| {
                            tracing::warn!(id, hook, %reason, "a paid upgrade cannot be applied");
                            Vec::new()
                        });
            }
        }
    }
    let new_event = NewEvent {
        id: event.id.clone(),
        instance: event.instance,
        hook: event.envelope.hook.clone(),
        actor: context.actor,
        source: context.source,
        occurred_at: event.envelope.timestamp,
        status,
        body: event.body,
        alerts: planned_alerts,
        upgrades: planned_upgrades,
    };
    let inserted = state.writer.insert(new_event).await.map_err(|error| {
        tracing::error!(%error, id = %event.id, "event not stored");
        ApiError::StorageUnavailable
    })?;
    tracing::debug!(id = %event.id, hook = %event.envelope.hook, ?inserted, "hook event");
    Ok((inserted, event.id.as_str().to_owned()))
}

#[derive(Deserialize)]
struct Data {
    data: Value,
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
