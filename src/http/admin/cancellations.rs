//! `GET /v1/admin/cancellations` and `POST /v1/admin/cancellations/{id}/retry`:
//! the cancellations puente recorded, with their dates, behind the admin
//! token.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Admin, actions, next_cursor, parse_cursor, parse_instance, parse_limit, parse_record_id,
    parse_status,
};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::cancellations::{self, CancellationQuery, Status, StoredCancellation};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    instance: Option<String>,
    status: Option<String>,
    service: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
struct CancellationPage {
    cancellations: Vec<StoredCancellation>,
    next_cursor: Option<String>,
}

/// `GET /v1/admin/cancellations`: every recorded cancellation in order,
/// with its dates, filtered by `instance`, `status` and `service`.
pub async fn list(
    admin: Admin,
    params: web::Query<ListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let query = CancellationQuery {
        instance: admin.instance_filter(
            params
                .instance
                .map(|text| parse_instance(&text))
                .transpose()?,
        )?,
        status: params
            .status
            .map(|text| parse_status(text, Status::NAMES))
            .transpose()?,
        service_id: params
            .service
            .map(|text| parse_record_id("service", &text))
            .transpose()?,
        after: params.cursor.map(|text| parse_cursor(&text)).transpose()?,
        limit: parse_limit(params.limit.as_deref())?,
    };
    let limit = query.limit as usize;
    let found = state
        .read(move |connection| cancellations::list(connection, &query))
        .await?;
    let next_cursor = next_cursor(&found, limit, |cancellation| cancellation.id);
    Ok(HttpResponse::Ok().json(CancellationPage {
        cancellations: found,
        next_cursor,
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
