//! The admin API (`/v1/admin/...`), behind an admin token (events in
//! [`events`], the rules' records and their actions in [`records`]): the token itself, global or scoped to one instance ([`Admin`]),
//! and the query values every list reads. The actions the admin API and
//! the dashboard share are plain functions in [`actions`].

pub mod actions;
pub mod events;
pub mod records;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::error::ApiError;
use crate::domain::ids::InstanceName;
use crate::http::state::AppState;
use crate::store::{InstanceOwned, RecordQuery};

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

/// Proof that the request carries an admin token, and what it opens: every
/// instance (`PUENTE_ADMIN_TOKEN`) or one (`[instances.<name>]
/// admin_token`). With no token configured the admin API does not exist
/// (404).
pub struct Admin {
    /// `None`: the global token.
    scope: Option<InstanceName>,
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = request.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::Internal));
        };
        if !Admin::tokens_configured(&state.config) {
            return ready(Err(ApiError::no_such_route()));
        }
        let presented = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(presented) = presented else {
            return ready(Err(ApiError::Unauthorized));
        };
        ready(Admin::for_token(&state.config, presented).ok_or(ApiError::Unauthorized))
    }
}

impl Admin {
    /// Whether any admin token, global or scoped, is configured.
    pub fn tokens_configured(config: &crate::config::Config) -> bool {
        config.admin_token.is_some()
            || config
                .instances
                .values()
                .any(|instance| instance.admin_token.is_some())
    }

    /// What `presented` opens: every instance (the global token), one (an
    /// instance's token), or nothing. Every token is compared, in constant
    /// time, whichever matches.
    pub fn for_token(config: &crate::config::Config, presented: &str) -> Option<Self> {
        let tokens = config.admin_token.iter().map(|token| (None, token)).chain(
            config.instances.iter().filter_map(|(name, instance)| {
                instance
                    .admin_token
                    .as_ref()
                    .map(|token| (Some(name), token))
            }),
        );
        let matched = tokens
            .filter(|(_, token)| token.matches(presented))
            .map(|(scope, _)| Admin {
                scope: scope.cloned(),
            })
            .collect::<Vec<_>>();
        matched.into_iter().next()
    }

    /// An admin of `scope` (`None`: every instance), signed in some other
    /// way than a bearer token (the dashboard's session).
    pub fn with_scope(scope: Option<InstanceName>) -> Self {
        Self { scope }
    }

    /// The instance a scoped admin is limited to.
    pub fn scope(&self) -> Option<&InstanceName> {
        self.scope.as_ref()
    }

    /// The instance a list is filtered by: the one asked for, which a
    /// scoped token may only ask for its own; a scoped token's own when
    /// none is asked for.
    pub(crate) fn instance_filter(
        &self,
        asked: Option<InstanceName>,
    ) -> Result<Option<InstanceName>, ApiError> {
        match (&self.scope, asked) {
            (None, asked) => Ok(asked),
            (Some(own), None) => Ok(Some(own.clone())),
            (Some(own), Some(asked)) if asked == *own => Ok(Some(asked)),
            (Some(own), Some(asked)) => Err(Self::forbidden(own, asked.as_str())),
        }
    }

    /// Refuses a record of another instance than the token's.
    pub(crate) fn may_see(&self, instance: &str) -> Result<(), ApiError> {
        match &self.scope {
            Some(own) if own.as_str() != instance => Err(Self::forbidden(own, instance)),
            _ => Ok(()),
        }
    }

    /// Refuses acting on row `id` of `table` when it belongs to another
    /// instance than a scoped token's (a missing row is left to the route).
    async fn may_act_on(
        &self,
        state: &AppState,
        table: InstanceOwned,
        id: i64,
    ) -> Result<(), ApiError> {
        if self.scope.is_none() {
            return Ok(());
        }
        match state.store.instance_of(table, id).await? {
            Some(instance) => self.may_see(&instance),
            None => Ok(()),
        }
    }

    fn forbidden(own: &InstanceName, other: &str) -> ApiError {
        ApiError::ForbiddenInstance(format!(
            "this admin token is instance {own}'s; it cannot see instance {other}"
        ))
    }
}

/// An `instance` query value.
pub(crate) fn parse_instance(text: &str) -> Result<InstanceName, ApiError> {
    InstanceName::parse(text)
        .map_err(|problem| ApiError::InvalidQuery(format!("instance: {problem}")))
}

/// A `cursor` query value: the last id of the previous page.
pub(crate) fn parse_cursor(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| {
        ApiError::InvalidQuery(format!(
            "cursor: `{text}` is not a cursor from a previous page"
        ))
    })
}

/// The cursor of the page after `found`: its last key when the page is
/// full, none on the last page.
pub(crate) fn next_cursor<T>(found: &[T], limit: usize, key: impl Fn(&T) -> i64) -> Option<String> {
    match found.last() {
        Some(last) if found.len() == limit => Some(key(last).to_string()),
        _ => None,
    }
}

/// A `status` query value: one of the table's statuses.
pub(crate) fn parse_status(text: String, statuses: &[&str]) -> Result<String, ApiError> {
    if statuses.contains(&text.as_str()) {
        Ok(text)
    } else {
        Err(ApiError::InvalidQuery(format!(
            "status: `{text}` is not one of {}",
            statuses.join(", ")
        )))
    }
}

/// A WHMCS record id in a query (`client`, `service`).
pub(crate) fn parse_record_id(what: &str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| ApiError::InvalidQuery(format!("{what}: `{text}` is not a {what} id")))
}

/// A `limit` query value: 1 to 1000, 100 when absent.
pub(crate) fn parse_limit(text: Option<&str>) -> Result<u32, ApiError> {
    match text {
        None => Ok(DEFAULT_PAGE),
        Some(text) => match text.parse::<u32>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
            _ => Err(ApiError::InvalidQuery(format!(
                "limit: `{text}` is not a number from 1 to {MAX_PAGE}"
            ))),
        },
    }
}

/// The query of a list of a rule's records (upgrades, cancellations,
/// transfers): `instance`, `status`, `service`, `cursor`, `limit`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordListParams {
    instance: Option<String>,
    status: Option<String>,
    service: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl RecordListParams {
    /// The store's query, within `admin`'s scope; `statuses` are the
    /// table's.
    pub(crate) fn into_query(
        self,
        admin: &Admin,
        statuses: &[&str],
    ) -> Result<RecordQuery, ApiError> {
        Ok(RecordQuery {
            instance: admin.instance_filter(
                self.instance
                    .map(|text| parse_instance(&text))
                    .transpose()?,
            )?,
            status: self
                .status
                .map(|text| parse_status(text, statuses))
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

/// `{"<key>": [...], "next_cursor": …}`: a page of `found` (at most
/// `limit`), with the cursor of the next page, `null` on the last one.
pub(crate) fn page<T: serde::Serialize>(
    key: &str,
    found: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> i64,
) -> actix_web::HttpResponse {
    let next_cursor = next_cursor(&found, limit as usize, id);
    actix_web::HttpResponse::Ok().json(serde_json::json!({
        key: found,
        "next_cursor": next_cursor,
    }))
}
