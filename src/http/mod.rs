//! HTTP routes, one file per family, and what they share: the client
//! routes in [`client`], the admin API in [`admin`], the shim's and Meta's
//! own routes beside them.

pub mod admin;
pub mod client;
pub mod decisions;
pub mod diagnostics;
pub mod error;
pub mod health;
pub mod hooks;
pub mod signed;
pub mod state;
pub mod whatsapp;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use error::ApiError;
pub use state::AppState;

/// Mounts every route of the service.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(
            web::QueryConfig::default()
                .error_handler(|error, _| ApiError::InvalidQuery(error.to_string()).into()),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|error, _| ApiError::NotFound(error.to_string()).into()),
        )
        .route("/v1/hooks", web::post().to(hooks::receive))
        .route(
            "/v1/admin/events",
            web::get().to(admin::events::list_events),
        )
        .route(
            "/v1/admin/events/{id}",
            web::get().to(admin::events::get_event),
        )
        .route("/v1/decisions", web::post().to(decisions::decide))
        .route("/v1/diagnostics", web::post().to(diagnostics::run))
        .route(
            "/v1/client/upgrades/quote",
            web::post().to(client::upgrades::upgrade_quote),
        )
        .route(
            "/v1/client/upgrades/manual",
            web::post().to(client::upgrades::manual_upgrade),
        )
        .route(
            "/v1/client/cancellations",
            web::post().to(client::cancellations::request),
        )
        .route(
            "/v1/client/cancellations/preview",
            web::post().to(client::cancellations::preview),
        )
        .route(
            "/v1/admin/cancellations",
            web::get().to(admin::records::list_cancellations),
        )
        .route(
            "/v1/admin/cancellations/{id}/retry",
            web::post().to(admin::records::retry_cancellation),
        )
        .route(
            "/v1/client/transfers",
            web::post().to(client::transfers::request),
        )
        .route(
            "/v1/client/transfers/list",
            web::post().to(client::transfers::list_for_client),
        )
        .route(
            "/v1/client/transfers/{id}/accept",
            web::post().to(client::transfers::accept),
        )
        .route(
            "/v1/client/transfers/{id}/decline",
            web::post().to(client::transfers::decline),
        )
        .route(
            "/v1/client/transfers/{id}/withdraw",
            web::post().to(client::transfers::withdraw),
        )
        .route(
            "/v1/admin/transfers",
            web::get().to(admin::records::list_transfers),
        )
        .route(
            "/v1/admin/transfers/{id}/approve",
            web::post().to(admin::records::approve_transfer),
        )
        .route(
            "/v1/admin/messages",
            web::get().to(admin::records::list_messages),
        )
        .route(
            "/v1/admin/upgrades",
            web::get().to(admin::records::list_upgrades),
        )
        .route(
            "/v1/admin/upgrades/{id}/retry",
            web::post().to(admin::records::retry_upgrade),
        )
        .route(
            "/v1/admin/messages/{id}/retry",
            web::post().to(admin::records::retry_message),
        )
        .route("/v1/whatsapp/webhook", web::get().to(whatsapp::handshake))
        .route("/v1/whatsapp/webhook", web::post().to(whatsapp::notify))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}

/// Anything no route matched: a JSON 404 like every other error.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::no_such_route())
}

/// Counts every answered request by route pattern, method and status.
pub async fn count_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| Arc::clone(&state.metrics));
    let method = request.method().clone();
    let response = next.call(request).await?;
    if let Some(metrics) = metrics {
        let route = response.request().match_pattern();
        metrics.record_request(
            route.as_deref().unwrap_or("unmatched"),
            method.as_str(),
            response.status().as_u16(),
        );
    }
    Ok(response)
}
