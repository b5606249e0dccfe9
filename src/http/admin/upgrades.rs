//! `GET /v1/admin/upgrades` and `POST /v1/admin/upgrades/{id}/retry`: the
//! paid upgrades puente recorded and carried out, behind the admin token.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{
    Admin, actions, next_cursor, parse_cursor, parse_instance, parse_limit, parse_record_id,
    parse_status,
};
use crate::domain::upgrade_apply::UpgradeStatus;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::upgrades::{self, ApplicationQuery, StoredApplication};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    instance: Option<String>,
    status: Option<String>,
    service: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl ListParams {
    fn into_query(self, admin: &Admin) -> Result<ApplicationQuery, ApiError> {
        Ok(ApplicationQuery {
            instance: admin.instance_filter(
                self.instance
                    .map(|text| parse_instance(&text))
                    .transpose()?,
            )?,
            status: self
                .status
                .map(|text| parse_status(text, UpgradeStatus::NAMES))
                .transpose()?,
            service_id: self
                .service
                .map(|text| parse_record_id("service", &text))
                .transpose()?,
            after: self.cursor.map(|text| parse_cursor(&text)).transpose()?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }
}

#[derive(Serialize)]
struct UpgradePage {
    upgrades: Vec<StoredApplication>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// Recorded upgrades in order, filtered by `instance`, `status` and
/// `service`.
pub async fn list_upgrades(
    admin: Admin,
    params: web::Query<ListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().into_query(&admin)?;
    let limit = query.limit as usize;
    let found = state
        .read(move |connection| upgrades::list(connection, &query))
        .await?;
    let next_cursor = next_cursor(&found, limit, |upgrade| upgrade.id);
    Ok(HttpResponse::Ok().json(UpgradePage {
        upgrades: found,
        next_cursor,
    }))
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
