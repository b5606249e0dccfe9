//! The admin API over the records puente keeps, behind the admin token:
//! `GET /v1/admin/messages` (the WhatsApp outbox), `/upgrades`,
//! `/cancellations` and `/transfers` (each transfer with its audit trail),
//! in id order with a cursor; and their actions, `POST …/{id}/retry` (a
//! message, an upgrade, a cancellation) and `POST
//! /v1/admin/transfers/{id}/approve`, each a thin answer around
//! [`actions`].

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    Admin, RecordListParams, actions, page, parse_cursor, parse_instance, parse_limit,
    parse_record_id, parse_status,
};
use crate::domain::ids::EventId;
use crate::domain::status::{CancellationStatus, MessageStatus, TransferStatus, UpgradeStatus};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::messages::MessageQuery;
use crate::store::transfers::{StoredStep, StoredTransfer};

/// The query of the message list: `instance`, `status`, `client`, `event`,
/// `cursor`, `limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageListParams {
    instance: Option<String>,
    status: Option<String>,
    client: Option<String>,
    event: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl MessageListParams {
    fn into_query(self, admin: &Admin) -> Result<MessageQuery, ApiError> {
        let invalid =
            |what: &str, problem: String| ApiError::InvalidQuery(format!("{what}: {problem}"));
        Ok(MessageQuery {
            instance: admin.instance_filter(
                self.instance
                    .map(|text| parse_instance(&text))
                    .transpose()?,
            )?,
            status: self
                .status
                .map(|text| parse_status(text, MessageStatus::NAMES))
                .transpose()?,
            client_id: self
                .client
                .map(|text| parse_record_id("client", &text))
                .transpose()?,
            event: self
                .event
                .map(|text| EventId::parse(&text).map_err(|p| invalid("event", p)))
                .transpose()?,
            after: self.cursor.map(|text| parse_cursor(&text)).transpose()?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }
}

/// Messages in planning order, filtered by `instance`, `status`, `client`
/// and `event`.
pub async fn list_messages(
    admin: Admin,
    params: web::Query<MessageListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().into_query(&admin)?;
    let limit = query.limit;
    let found = state.store.messages(query).await?;
    Ok(page("messages", found, limit, |message| message.id))
}

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
    let found = state.store.upgrades(query).await?;
    Ok(page("upgrades", found, limit, |upgrade| upgrade.id))
}

/// Every recorded cancellation in order, with its dates, filtered by
/// `instance`, `status` and `service`.
pub async fn list_cancellations(
    admin: Admin,
    params: web::Query<RecordListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params
        .into_inner()
        .into_query(&admin, CancellationStatus::NAMES)?;
    let limit = query.limit;
    let found = state.store.cancellations(query).await?;
    Ok(page("cancellations", found, limit, |cancellation| {
        cancellation.id
    }))
}

/// A transfer with its audit trail.
#[derive(Serialize)]
struct Audited {
    #[serde(flatten)]
    transfer: StoredTransfer,
    steps: Vec<StoredStep>,
}

/// Transfers in order, each with every step (who took it, when, the
/// preconditions checked).
pub async fn list_transfers(
    admin: Admin,
    params: web::Query<RecordListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params
        .into_inner()
        .into_query(&admin, TransferStatus::NAMES)?;
    let limit = query.limit;
    let mut found = Vec::new();
    for transfer in state.store.transfers(query).await? {
        let steps = state.store.transfer_steps(transfer.id).await?;
        found.push(Audited { transfer, steps });
    }
    Ok(page("transfers", found, limit, |audited| {
        audited.transfer.id
    }))
}

/// `POST /v1/admin/messages/{id}/retry`: 202 `{id, status: "planned"}`.
pub async fn retry_message(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let retried = actions::retry_message(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": retried.id, "status": "planned"})))
}

/// `POST /v1/admin/upgrades/{id}/retry`: 202 `{id, status: "planned"}`.
pub async fn retry_upgrade(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let retried = actions::retry_upgrade(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": retried.id, "status": "planned"})))
}

/// `POST /v1/admin/cancellations/{id}/retry`: 202 `{id, status: "retried"}`.
pub async fn retry_cancellation(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let retried = actions::retry_cancellation(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": retried.id, "status": "retried"})))
}

/// `POST /v1/admin/transfers/{id}/approve`: 202 `{transfer_id, status}`,
/// staff's step when `PUENTE_TRANSFER_APPROVAL=staff`; the move follows.
pub async fn approve_transfer(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let approved = actions::approve_transfer(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted()
        .json(json!({"transfer_id": approved.transfer_id, "status": approved.status.as_str()})))
}
