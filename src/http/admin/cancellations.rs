//! `GET /v1/admin/cancellations` and `POST /v1/admin/cancellations/{id}/retry`:
//! the cancellations puente recorded, with their dates, behind the admin
//! token.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{Admin, RecordListParams, actions, page};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::cancellations::{self, Status};

/// `GET /v1/admin/cancellations`: every recorded cancellation in order,
/// with its dates, filtered by `instance`, `status` and `service`.
pub async fn list(
    admin: Admin,
    params: web::Query<RecordListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().into_query(&admin, Status::NAMES)?;
    let limit = query.limit;
    let found = state
        .read(move |connection| cancellations::list(connection, &query))
        .await?;
    Ok(page("cancellations", found, limit, |cancellation| {
        cancellation.id
    }))
}

/// `POST /v1/admin/cancellations/{id}/retry`: 202 `{id, status: "retried"}`
/// ([`actions::retry_cancellation`]).
pub async fn retry(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let retried = actions::retry_cancellation(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": retried.id, "status": "retried"})))
}
