//! `POST /v1/hooks`: asynchronous hook events, acknowledged once durable.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use super::signed;
use crate::domain::ids::{EventId, InstanceName};
use crate::http::state::AppState;
use crate::metrics::EventOutcome;
use crate::store::Inserted;

/// Verifies, stores once, and answers 202 (new) or 200 (duplicate) only
/// after the event's transaction is on disk.
pub async fn receive(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = store(&request, payload, &state).await;
    let (outcome, instance) = match &result {
        Ok((Inserted::Accepted, _, instance)) => (EventOutcome::Accepted, Some(instance)),
        Ok((Inserted::Duplicate, _, instance)) => (EventOutcome::Duplicate, Some(instance)),
        Err(error) => (
            EventOutcome::Rejected(error.code()),
            signed::configured_instance(&request, &state),
        ),
    };
    state.metrics.record_event(outcome, instance);
    let (inserted, id, _) = result.inspect_err(|error| {
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
) -> Result<(Inserted, EventId, InstanceName), ApiError> {
    let event = signed::verify(request, payload, state)
        .await?
        .into_event()?;
    let id = event.id.clone();
    let instance = event.instance.clone();
    // Planned before the await, in a plain function: nothing of the parsed
    // envelope is kept in the waiting future.
    let new_event = crate::ingest::planned(event, &state.config);
    let inserted = state.store.insert_event(new_event).await.map_err(|error| {
        tracing::error!(%error, %id, "event not stored");
        ApiError::StorageUnavailable
    })?;
    tracing::debug!(%id, ?inserted, "hook event");
    Ok((inserted, id, instance))
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
