//! `GET /v1/admin/messages` and `POST /v1/admin/messages/{id}/retry`: the
//! WhatsApp alert outbox, behind the admin token.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{
    Admin, actions, next_cursor, parse_cursor, parse_instance, parse_limit, parse_record_id,
    parse_status,
};
use crate::domain::ids::EventId;
use crate::domain::status::MessageStatus;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::messages::{self, MessageQuery, StoredMessage};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    instance: Option<String>,
    status: Option<String>,
    client: Option<String>,
    event: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl ListParams {
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

#[derive(Serialize)]
struct MessagePage {
    messages: Vec<StoredMessage>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// Messages in planning order, filtered by `instance`, `status`, `client`
/// and `event`.
pub async fn list_messages(
    admin: Admin,
    params: web::Query<ListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().into_query(&admin)?;
    let limit = query.limit as usize;
    let found = state
        .read(move |connection| messages::list(connection, &query))
        .await?;
    let next_cursor = next_cursor(&found, limit, |message| message.id);
    Ok(HttpResponse::Ok().json(MessagePage {
        messages: found,
        next_cursor,
    }))
}

/// `POST /v1/admin/messages/{id}/retry`: 202 `{id, status: "planned"}`
/// ([`actions::retry_message`]).
pub async fn retry_message(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let retried = actions::retry_message(&state, &admin, &id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"id": retried.id, "status": "planned"})))
}
