//! `GET /v1/admin/transfers` and `POST /v1/admin/transfers/{id}/approve`:
//! transfers with their audit trail, and staff's approval, behind the
//! admin token.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use super::{Admin, RecordListParams, actions, page};
use crate::domain::transfer::Status;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::transfers::{self, StoredTransfer};

/// A transfer with its audit trail.
#[derive(Serialize)]
struct Audited {
    #[serde(flatten)]
    transfer: StoredTransfer,
    steps: Vec<transfers::StoredStep>,
}

/// `GET /v1/admin/transfers`: transfers in order, each with every step
/// (who took it, when, the preconditions checked).
pub async fn list(
    admin: Admin,
    params: web::Query<RecordListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().into_query(&admin, Status::NAMES)?;
    let limit = query.limit;
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
    Ok(page("transfers", found, limit, |audited| {
        audited.transfer.id
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
