//! `GET /v1/admin/transfers` and `POST /v1/admin/transfers/{id}/approve`:
//! transfers with their audit trail, and staff's approval, behind the
//! admin token.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Admin, actions, next_cursor, parse_cursor, parse_instance, parse_limit, parse_record_id,
    parse_status,
};
use crate::domain::transfer::Status;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::transfers::{self, StoredTransfer, TransferQuery};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    instance: Option<String>,
    status: Option<String>,
    service: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// A transfer with its audit trail.
#[derive(Serialize)]
struct Audited {
    #[serde(flatten)]
    transfer: StoredTransfer,
    steps: Vec<transfers::StoredStep>,
}

#[derive(Serialize)]
struct TransferPage {
    transfers: Vec<Audited>,
    next_cursor: Option<String>,
}

/// `GET /v1/admin/transfers`: transfers in order, each with every step
/// (who took it, when, the preconditions checked).
pub async fn list(
    admin: Admin,
    params: web::Query<ListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let query = TransferQuery {
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
        .read(move |c| {
            let found = transfers::list(c, &query)?;
            found
                .into_iter()
                .map(|transfer| {
                    let steps = transfers::steps(c, transfer.id)?;
                    Ok(Audited { transfer, steps })
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await?;
    let next_cursor = next_cursor(&found, limit, |audited| audited.transfer.id);
    Ok(HttpResponse::Ok().json(TransferPage {
        transfers: found,
        next_cursor,
    }))
}

/// `POST /v1/admin/transfers/{id}/approve`: 202 `{transfer_id, status}`
/// ([`actions::approve_transfer`]).
pub async fn approve(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let approved = actions::approve_transfer(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted()
        .json(json!({"transfer_id": approved.transfer_id, "status": approved.status.as_str()})))
}
