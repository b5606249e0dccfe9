//! Liveness, readiness and metrics for operators and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::error::ApiError;
use crate::http::state::AppState;
use crate::metrics;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: a write commits through the same path that stores
/// events; the answer names this replica, whether it leads, and the
/// replicas sharing the store.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.probe().await.map_err(|error| {
        tracing::warn!(%error, "readiness probe failed");
        ApiError::NotReady
    })?;
    let replicas = state.store.replicas().await.map_err(|error| {
        tracing::warn!(%error, "the replicas could not be read");
        ApiError::NotReady
    })?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "replica": state.store.replica(),
        "leader": state.store.is_leader(),
        "replicas": replicas,
    })))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(state.metrics.render())
}
