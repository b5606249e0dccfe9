//! `GET /v1/admin/events[/{id}]`: stored events, behind an admin token.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Admin, next_cursor, parse_cursor, parse_instance, parse_limit};
use crate::domain::envelope::{Actor, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::events::{EventQuery, StoredEvent};

/// Query string of the list route, as typed by an operator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(rename = "type")]
    hook: Option<String>,
    instance: Option<String>,
    since: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl ListParams {
    fn into_query(self) -> Result<EventQuery, ApiError> {
        let invalid =
            |what: &str, problem: String| ApiError::InvalidQuery(format!("{what}: {problem}"));
        Ok(EventQuery {
            hook: self
                .hook
                .map(|text| HookType::parse(&text).map_err(|p| invalid("type", p)))
                .transpose()?,
            instance: self
                .instance
                .map(|text| parse_instance(&text))
                .transpose()?,
            since: self
                .since
                .map(|text| {
                    text.parse::<jiff::Timestamp>().map_err(|_| {
                        invalid(
                            "since",
                            format!(
                                "`{text}` is not an RFC 3339 time such as 2026-11-28T00:00:00Z"
                            ),
                        )
                    })
                })
                .transpose()?,
            after: self.cursor.map(|text| parse_cursor(&text)).transpose()?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }
}

#[derive(Serialize)]
struct EventView {
    id: EventId,
    #[serde(rename = "type")]
    hook: HookType,
    instance: InstanceName,
    status: &'static str,
    actor: Actor,
    source: Source,
    occurred_at: String,
    received_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Box<RawValue>>,
}

impl EventView {
    fn new(event: StoredEvent) -> Result<Self, ApiError> {
        let payload = match event.body {
            Some(body) => {
                let text = String::from_utf8(body).map_err(|_| ApiError::Internal)?;
                Some(RawValue::from_string(text).map_err(|_| ApiError::Internal)?)
            }
            None => None,
        };
        Ok(Self {
            id: event.id,
            hook: event.hook,
            instance: event.instance,
            status: event.status.as_str(),
            actor: event.actor,
            source: event.source,
            occurred_at: event.occurred_at.to_string(),
            received_at: event.received_at.to_string(),
            payload,
        })
    }
}

#[derive(Serialize)]
struct EventPage {
    events: Vec<EventView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    next_cursor: Option<String>,
}

/// Events in arrival order, filtered by `type`, `instance` and `since`.
pub async fn list_events(
    admin: Admin,
    params: web::Query<ListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = params.into_inner().into_query()?;
    query.instance = admin.instance_filter(query.instance)?;
    let limit = query.limit as usize;
    let found = state.store.events(query).await?;
    let next_cursor = next_cursor(&found, limit, |event| event.seq);
    let events = found
        .into_iter()
        .map(EventView::new)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(EventPage {
        events,
        next_cursor,
    }))
}

/// One event by its `webhook-id`, with the payload exactly as signed.
pub async fn get_event(
    admin: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no event has the id `{id}`"));
    let Ok(event_id) = EventId::parse(&id) else {
        return Err(not_found());
    };
    let found = state.store.event(event_id).await?;
    match found {
        Some(event) => {
            admin.may_see(event.instance.as_str())?;
            Ok(HttpResponse::Ok().json(EventView::new(event)?))
        }
        None => Err(not_found()),
    }
}
