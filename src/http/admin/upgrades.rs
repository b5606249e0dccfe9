//! `GET /v1/admin/upgrades` and `POST /v1/admin/upgrades/{id}/retry`: the
//! paid upgrades puente recorded and carried out, behind the admin token.

use actix_web::{HttpResponse, web};

use super::{Admin, RecordListParams, actions, page};
use crate::domain::upgrade_apply::UpgradeStatus;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::upgrades;

/// Recorded upgrades in order, filtered by `instance`, `status` and
/// `service`.
pub async fn list_upgrades(
    admin: Admin,
    params: web::Query<RecordListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params
        .into_inner()
        .into_query(&admin, UpgradeStatus::NAMES)?;
    let limit = query.limit;
    let found = state
        .read(move |connection| upgrades::list(connection, &query))
        .await?;
    Ok(page("upgrades", found, limit, |upgrade| upgrade.id))
}

/// `POST /v1/admin/upgrades/{id}/retry`: 202 `{id, status: "planned"}`
/// ([`actions::retry_upgrade`]).
pub async fn retry_upgrade(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let retried = actions::retry_upgrade(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"id": retried.id, "status": "planned"})))
}
