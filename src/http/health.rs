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

/// `GET /metrics`: Prometheus text format. Each scrape first asks the
/// store what alerts need at this moment: a probe write (`puente_ready`),
/// each worker's due work and the dead letters. A store that cannot answer
/// leaves the last reading and says so in the log; the scrape still
/// answers, with `puente_ready` 0.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let ready = state.store.probe().await;
    if let Err(error) = &ready {
        tracing::warn!(%error, "readiness probe failed at a scrape");
    }
    state.metrics.set_ready(ready.is_ok());
    let now = jiff::Timestamp::now();
    match state.store.gauges(now).await {
        Ok(gauges) => {
            state.metrics.record_due_work(gauges.due.iter().map(|due| {
                (
                    due.worker.as_str(),
                    due.instance.as_str(),
                    due.count,
                    due.oldest_due_seconds(now),
                )
            }));
            state.metrics.record_dead_letters(
                gauges
                    .dead_letters
                    .iter()
                    .map(|(instance, count)| (instance.as_str(), *count)),
            );
        }
        Err(error) => tracing::warn!(%error, "the work gauges could not be read at a scrape"),
    }
    HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(state.metrics.render())
}
