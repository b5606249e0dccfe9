//! The operator dashboard at `/admin/`: server-rendered pages over the same
//! store and actions as the admin API, signed in with an admin token or a
//! link from an addon's admin page, kept in a session cookie.
//!
//! Every page reads through [`Operator`], which only exists for a valid
//! session; a scoped session sees its own instance only, exactly as its
//! token would on the admin API (the actions are the admin API's own,
//! [`crate::http::admin::actions`], run with the session's scope). Every
//! post carries the session's CSRF token.

mod chart;
mod pages;
mod sends;
pub mod session;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;

use crate::domain::alerts::{self, MANUAL_SEND};
use crate::domain::cancel::CancellationStatus;
use crate::domain::envelope::{Actor, ActorKind, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::domain::plan::Plan;
use crate::domain::status::MessageStatus;
use crate::domain::status::{Named, names};
use crate::domain::transfer::Status as TransferStatus;
use crate::domain::upgrade_apply::UpgradeStatus;
use crate::http::AppState;
use crate::http::admin::{Admin, actions, parse_cursor, parse_instance, parse_record_id};
use crate::http::error::ApiError;
use crate::store::events::{EventQuery, EventStatus};
use crate::store::messages::MessageQuery;
use crate::store::{NewEvent, RecordQuery, Store};
use futures_util::future::BoxFuture;
use session::{COOKIE, Scope, Session, SessionKey, SignInLimit, SignInLink};

/// Rows on one page of a list.
const PAGE: u32 = 50;

/// What the dashboard keeps while the service runs (spent links and
/// sessions are in the database, so a restart forgets none).
pub struct Dashboard {
    key: SessionKey,
    sign_in_limit: SignInLimit,
    /// The session cookie is `Secure` over HTTPS, and always when
    /// `PUENTE_DASHBOARD_URL` is an `https://` address.
    https_url: bool,
}

impl Dashboard {
    /// Loads the session key (creating its file on a first start).
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Self> {
        Ok(Self {
            key: SessionKey::load(config)?,
            sign_in_limit: SignInLimit::default(),
            https_url: config
                .dashboard_url
                .as_ref()
                .is_some_and(|url| url.scheme() == "https"),
        })
    }

    /// Refuses an address that failed to sign in too often of late.
    fn check_limit(&self, request: &HttpRequest, now: i64) -> Result<(), PageError> {
        match request.peer_addr() {
            Some(peer) => self
                .sign_in_limit
                .check(peer.ip(), now)
                .map_err(|retry_after_s| PageError::TooManyAttempts { retry_after_s }),
            None => Ok(()),
        }
    }

    fn count_failure(&self, request: &HttpRequest, now: i64) {
        if let Some(peer) = request.peer_addr() {
            self.sign_in_limit.failed(peer.ip(), now);
        }
    }

    /// The session cookie; `Secure` when the browser came over HTTPS
    /// (directly or through a proxy that says so with `Forwarded` /
    /// `X-Forwarded-Proto`) or the dashboard's configured URL is HTTPS.
    fn session_cookie(&self, request: &HttpRequest, value: String) -> Cookie<'static> {
        let https = self.https_url || request.connection_info().scheme() == "https";
        Cookie::build(COOKIE, value)
            .path("/admin")
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Strict)
            .max_age(actix_web::cookie::time::Duration::seconds(
                session::LIFETIME_S,
            ))
            .finish()
    }
}

/// Mounts the dashboard's pages.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/admin", web::get().to(to_overview))
        .route("/admin/", web::get().to(overview))
        .route("/admin/login", web::get().to(login_form))
        .route("/admin/login", web::post().to(login))
        .route("/admin/link", web::get().to(link))
        .route("/admin/logout", web::post().to(logout))
        .route("/admin/events", web::get().to(events))
        .route("/admin/events/{id}", web::get().to(event))
        .route("/admin/messages", web::get().to(messages))
        .route("/admin/messages/{id}", web::get().to(message))
        .route("/admin/messages/{id}/retry", web::post().to(retry_message))
        .route("/admin/upgrades", web::get().to(upgrades))
        .route("/admin/upgrades/{id}/retry", web::post().to(retry_upgrade))
        .route("/admin/cancellations", web::get().to(cancellations))
        .route(
            "/admin/cancellations/{id}/retry",
            web::post().to(retry_cancellation),
        )
        .route("/admin/transfers", web::get().to(transfers))
        .route("/admin/diagnostics", web::get().to(diagnostics))
        .route("/admin/templates", web::get().to(templates))
        .route("/admin/hooks", web::get().to(hooks))
        .route("/admin/replies", web::get().to(replies))
        .route("/admin/send", web::get().to(send_form))
        .route("/admin/send", web::post().to(send_alert))
        .route("/admin/sends", web::get().to(sends))
        .route("/admin/sends/{id}/cancel", web::post().to(cancel_send))
        .route(
            "/admin/transfers/{id}/approve",
            web::post().to(approve_transfer),
        );
}

/// Why a page was not shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No valid session: pages send the browser to the sign-in form, posts
    /// are refused.
    #[error("sign in first")]
    SignIn { post: bool },
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the service could not read or write its database; see its log")]
    Internal,
    #[error(
        "too many failed sign-ins from this address; try again in {} minutes",
        (retry_after_s + 59) / 60
    )]
    TooManyAttempts { retry_after_s: i64 },
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(message) => PageError::NotFound(message),
            ApiError::InvalidQuery(message) => PageError::BadRequest(message),
            ApiError::ForbiddenInstance(message) => PageError::Forbidden(message),
            ApiError::Internal | ApiError::StorageUnavailable => PageError::Internal,
            other => PageError::Refused(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(error: crate::store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            PageError::SignIn { post: false } => StatusCode::SEE_OTHER,
            PageError::SignIn { post: true } => StatusCode::UNAUTHORIZED,
            PageError::Refused(_) => StatusCode::CONFLICT,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            PageError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let PageError::SignIn { post: false } = self {
            return response
                .insert_header((header::LOCATION, "/admin/login"))
                .finish();
        }
        if let PageError::TooManyAttempts { retry_after_s } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_s.to_string()));
        }
        html(&mut response, pages::problem(&self.to_string()))
    }
}

/// Sends `markup` with the headers every page carries: no caching, no
/// framing, no scripts, no referrer.
fn html(response: &mut actix_web::HttpResponseBuilder, markup: maud::Markup) -> HttpResponse {
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(markup.into_string())
}

fn page(markup: maud::Markup) -> HttpResponse {
    html(&mut HttpResponse::Ok(), markup)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A signed-in operator: the session, and the CSRF token of its forms.
pub struct Operator {
    pub scope: Scope,
    session: Session,
    csrf: String,
    cookie: String,
    dashboard: web::Data<Dashboard>,
}

impl FromRequest for Operator {
    type Error = PageError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let post = request.method() == actix_web::http::Method::POST;
        let dashboard = request.app_data::<web::Data<Dashboard>>().cloned();
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let cookie = request
            .cookie(COOKIE)
            .map(|cookie| cookie.value().to_owned());
        Box::pin(async move {
            let (Some(dashboard), Some(state)) = (dashboard, state) else {
                return Err(PageError::Internal);
            };
            let now = jiff::Timestamp::now().as_second();
            let Some((cookie, session)) = cookie.and_then(|cookie| {
                let session = dashboard.key.verify(&cookie, now)?;
                Some((cookie, session))
            }) else {
                return Err(PageError::SignIn { post });
            };
            let token = session.spent_token();
            let signed_out = state.store.is_credential_spent(token, now).await?;
            if signed_out {
                return Err(PageError::SignIn { post });
            }
            Ok(Operator {
                scope: session.scope.clone(),
                session,
                csrf: dashboard.key.csrf_token(&cookie),
                cookie,
                dashboard,
            })
        })
    }
}

impl Operator {
    fn admin(&self) -> Admin {
        Admin::with_scope(self.scope.instance().cloned())
    }

    /// Refuses a post whose CSRF token is not this session's.
    fn check(&self, form: &ActionForm) -> Result<(), PageError> {
        if self.dashboard.key.csrf_matches(&self.cookie, &form.csrf) {
            Ok(())
        } else {
            Err(PageError::Forbidden(
                "this form is stale or came from another site; reload the page and try again"
                    .into(),
            ))
        }
    }

    /// The instance filter of a list: what was asked, within the scope.
    fn instance_filter(&self, asked: Option<&str>) -> Result<Option<InstanceName>, PageError> {
        let asked = asked.map(parse_instance).transpose()?;
        Ok(self.admin().instance_filter(asked)?)
    }

    /// The instances this operator sees, in name order.
    fn instances(&self, config: &crate::config::Config) -> Vec<InstanceName> {
        config
            .instances
            .keys()
            .filter(|name| self.scope.instance().is_none_or(|own| own == *name))
            .cloned()
            .collect()
    }

    fn layout(&self, title: &str, active: &str, body: maud::Markup) -> maud::Markup {
        pages::layout(title, active, Some((&self.scope, &self.csrf)), body)
    }
}

/// The hidden field every dashboard form posts.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
}

/// A query value from a form: absent and empty are the same.
fn given(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

async fn to_overview() -> HttpResponse {
    see_other("/admin/")
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    failed: Option<String>,
}

async fn login_form(query: web::Query<LoginQuery>, state: web::Data<AppState>) -> HttpResponse {
    let tokens = Admin::tokens_configured(&state.config);
    let failed = query.failed.is_some();
    let status = if failed {
        actix_web::http::StatusCode::UNAUTHORIZED
    } else {
        actix_web::http::StatusCode::OK
    };
    html(
        &mut HttpResponse::build(status),
        pages::login(tokens, failed),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

async fn login(
    request: HttpRequest,
    form: web::Form<LoginForm>,
    state: web::Data<AppState>,
    dashboard: web::Data<Dashboard>,
) -> Result<HttpResponse, PageError> {
    let now = jiff::Timestamp::now().as_second();
    dashboard.check_limit(&request, now)?;
    let Some(admin) = Admin::for_token(&state.config, form.token.trim()) else {
        tracing::warn!("dashboard sign-in refused: the token matches no admin token");
        dashboard.count_failure(&request, now);
        return Ok(see_other("/admin/login?failed=1"));
    };
    let scope = admin
        .scope()
        .cloned()
        .map_or(Scope::Global, Scope::Instance);
    tracing::info!(scope = ?scope, "dashboard sign-in with an admin token");
    let cookie = dashboard
        .key
        .issue(&scope, session::TOKEN_OPERATOR, now)
        .map_err(no_randomness)?;
    Ok(HttpResponse::SeeOther()
        .cookie(dashboard.session_cookie(&request, cookie))
        .insert_header((header::LOCATION, "/admin/"))
        .finish())
}

fn no_randomness(error: getrandom::Error) -> PageError {
    tracing::error!(%error, "no randomness from the OS for a dashboard session");
    PageError::Internal
}

/// A link from an addon's admin page: a session scoped to its instance.
///
/// The answer is a page that goes on to `/admin/` by itself rather than a
/// redirect: the browser arrives from WHMCS's site, and a `SameSite=Strict`
/// cookie is not sent on a redirect that started on another site.
async fn link(
    request: HttpRequest,
    state: web::Data<AppState>,
    dashboard: web::Data<Dashboard>,
) -> Result<HttpResponse, PageError> {
    let now = jiff::Timestamp::now().as_second();
    dashboard.check_limit(&request, now)?;
    let refused = |problem: PageError| {
        dashboard.count_failure(&request, now);
        problem
    };
    let link = web::Query::<SignInLink>::from_query(request.query_string())
        .map_err(|_| {
            refused(PageError::BadRequest(
                "this sign-in link is malformed".into(),
            ))
        })?
        .into_inner();
    let instance = link.verify(&state.config, now).map_err(|problem| {
        tracing::warn!(%problem, "dashboard sign-in link refused");
        refused(PageError::Forbidden(problem.to_string()))
    })?;
    let expires = link.expires.parse::<i64>().unwrap_or(now);
    let token = link.spent_token();
    let first_use = state.store.spend_credential(token, expires, now).await?;
    if !first_use {
        return Err(refused(PageError::Forbidden(
            "this sign-in link was already used; open the dashboard again from WHMCS".into(),
        )));
    }
    tracing::info!(%instance, whmcs_admin = %link.admin, "dashboard sign-in through the addon");
    let cookie = dashboard
        .key
        .issue(
            &Scope::Instance(instance),
            &session::whmcs_admin_operator(&link.admin),
            now,
        )
        .map_err(no_randomness)?;
    Ok(html(
        HttpResponse::Ok().cookie(dashboard.session_cookie(&request, cookie)),
        pages::signed_in(),
    ))
}

/// Signs out: the session is spent on the server, so its cookie no longer
/// works even where the browser kept a copy.
async fn logout(
    request: HttpRequest,
    operator: Operator,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&form)?;
    let token = operator.session.spent_token();
    let expires = operator.session.expires;
    let now = jiff::Timestamp::now().as_second();
    state.store.spend_credential(token, expires, now).await?;
    let mut gone = operator.dashboard.session_cookie(&request, String::new());
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .cookie(gone)
        .insert_header((header::LOCATION, "/admin/login"))
        .finish())
}

async fn overview(
    operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let instances = operator.instances(&state.config);
    let scope = operator.scope.instance().cloned();
    let counts = state.store.overview(scope).await?;
    let links = state.metrics.links();
    let health = instances
        .iter()
        .map(|name| pages::InstanceHealth::of(&state.config, &state.metrics, &links, name))
        .collect::<Vec<_>>();
    let names = instances
        .iter()
        .map(|name| name.as_str().to_owned())
        .collect::<Vec<_>>();
    let history = state.metrics.history();
    let replicas = state.store.replicas().await?;
    let body = pages::overview(&health, &counts, &history, &names, &replicas);
    Ok(page(operator.layout("Overview", "overview", body)))
}

#[derive(Debug, Deserialize)]
pub struct EventFilter {
    #[serde(rename = "type")]
    hook: Option<String>,
    instance: Option<String>,
    since: Option<String>,
    cursor: Option<String>,
}

async fn events(
    operator: Operator,
    filter: web::Query<EventFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let filter = filter.into_inner();
    let bad = |what: &str, problem: String| PageError::BadRequest(format!("{what}: {problem}"));
    let query = crate::store::events::EventQuery {
        hook: given(&filter.hook)
            .map(|text| HookType::parse(text).map_err(|p| bad("type", p)))
            .transpose()?,
        instance: operator.instance_filter(given(&filter.instance))?,
        since: given(&filter.since)
            .map(|text| {
                text.parse::<jiff::Timestamp>().map_err(|_| {
                    bad(
                        "since",
                        format!("`{text}` is not a time such as 2026-11-28T00:00:00Z"),
                    )
                })
            })
            .transpose()?,
        after: given(&filter.cursor).map(parse_cursor).transpose()?,
        limit: PAGE,
    };
    let found = state.store.events(query).await?;
    let next = (found.len() == PAGE as usize)
        .then(|| found.last().map(|event| event.seq))
        .flatten();
    let body = pages::events(&found, &filter_values(&filter), next);
    Ok(page(operator.layout("Events", "events", body)))
}

/// The filter as typed, to refill the form and build the next page's link.
fn filter_values(filter: &EventFilter) -> Vec<(&'static str, String)> {
    [
        ("type", &filter.hook),
        ("instance", &filter.instance),
        ("since", &filter.since),
    ]
    .into_iter()
    .filter_map(|(name, value)| given(value).map(|text| (name, text.to_owned())))
    .collect()
}

async fn event(
    operator: Operator,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let not_found = || PageError::NotFound(format!("no event has the id `{id}`"));
    let event_id = EventId::parse(&id).map_err(|_| not_found())?;
    let found = state
        .store
        .event(event_id.clone())
        .await?
        .ok_or_else(not_found)?;
    operator.admin().may_see(found.instance.as_str())?;
    let query = crate::store::messages::MessageQuery {
        event: Some(event_id),
        limit: 100,
        ..Default::default()
    };
    let messages = state.store.messages(query).await?;
    let body = pages::event(&found, &messages);
    Ok(page(operator.layout("Event", "events", body)))
}

#[derive(Debug, Deserialize)]
pub struct MessageFilter {
    status: Option<String>,
    instance: Option<String>,
    client: Option<String>,
    cursor: Option<String>,
}

async fn messages(
    operator: Operator,
    filter: web::Query<MessageFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let filter = filter.into_inner();
    let status = given(&filter.status)
        .map(|text| {
            crate::http::admin::parse_status(
                text.to_owned(),
                crate::domain::status::MessageStatus::NAMES,
            )
        })
        .transpose()?;
    let query = crate::store::messages::MessageQuery {
        instance: operator.instance_filter(given(&filter.instance))?,
        status: status.clone(),
        client_id: given(&filter.client)
            .map(|text| parse_record_id("client", text))
            .transpose()?,
        event: None,
        after: given(&filter.cursor).map(parse_cursor).transpose()?,
        limit: PAGE,
    };
    let found = state.store.messages(query).await?;
    let next = (found.len() == PAGE as usize)
        .then(|| found.last().map(|message| message.id))
        .flatten();
    let values = [
        ("status", &filter.status),
        ("instance", &filter.instance),
        ("client", &filter.client),
    ]
    .into_iter()
    .filter_map(|(name, value)| given(value).map(|text| (name, text.to_owned())))
    .collect::<Vec<_>>();
    let dead_letters = status.as_deref() == Some(MessageStatus::Dead.as_str());
    let active = if dead_letters { "dead" } else { "messages" };
    let body = pages::messages(&found, &values, next, dead_letters);
    Ok(page(operator.layout("Messages", active, body)))
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn message(
    operator: Operator,
    id: web::Path<String>,
    done: web::Query<Done>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let not_found = || PageError::NotFound(format!("no message has the id `{id}`"));
    let row = id.parse::<i64>().map_err(|_| not_found())?;
    let found = state.store.message(row).await?;
    let attempts = state.store.message_attempts(row).await?;
    let found = found.ok_or_else(not_found)?;
    operator.admin().may_see(&found.instance)?;
    let body = pages::message(&found, &attempts, &operator.csrf, given(&done.done));
    Ok(page(operator.layout(
        &format!("Message {row}"),
        "messages",
        body,
    )))
}

async fn retry_message(
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&form)?;
    actions::retry_message(&state, &operator.admin(), &id).await?;
    Ok(see_other(&format!(
        "/admin/messages/{}?done=retried",
        id.as_str()
    )))
}

#[derive(Debug, Deserialize)]
pub struct WorkFilter {
    status: Option<String>,
    instance: Option<String>,
    done: Option<String>,
}

impl WorkFilter {
    /// The statuses to list: the one asked for, else those in flight.
    fn statuses(&self, all: &[&str], in_flight: &[&str]) -> Result<Vec<String>, PageError> {
        match given(&self.status) {
            Some(status) => Ok(vec![crate::http::admin::parse_status(
                status.to_owned(),
                all,
            )?]),
            None => Ok(in_flight
                .iter()
                .map(|status| (*status).to_owned())
                .collect()),
        }
    }
}

impl WorkFilter {
    /// The records of the statuses to list (one indexed query each), within
    /// the operator's scope, in id order.
    async fn records<T: Send + 'static, S: Named>(
        &self,
        operator: &Operator,
        state: &AppState,
        (all, in_flight): (&[&str], &[S]),
        list: Lister<T>,
        id: fn(&T) -> i64,
    ) -> Result<Vec<T>, PageError> {
        let statuses = self.statuses(all, &names(in_flight))?;
        let instance = operator.instance_filter(given(&self.instance))?;
        let mut found = Vec::new();
        for status in statuses {
            let query = RecordQuery {
                instance: instance.clone(),
                status: Some(status),
                limit: PAGE,
                ..Default::default()
            };
            found.extend(list(state.store.as_ref(), query).await?);
        }
        found.sort_by_key(id);
        Ok(found)
    }
}

/// The store's list of one rule's records.
type Lister<T> =
    for<'a> fn(&'a dyn Store, RecordQuery) -> BoxFuture<'a, crate::store::Result<Vec<T>>>;

/// One list of a rule's records: where it reads them, how it shows them.
struct RecordList<T, S: 'static> {
    statuses: (&'static [&'static str], &'static [S]),
    list: Lister<T>,
    id: fn(&T) -> i64,
    render: fn(&[T], Option<&str>, &str, Option<&str>) -> maud::Markup,
    /// The page's title and its navigation entry.
    title: &'static str,
    active: &'static str,
}

impl<T: Send + 'static, S: Named> RecordList<T, S> {
    async fn page(
        &self,
        operator: Operator,
        filter: web::Query<WorkFilter>,
        state: web::Data<AppState>,
    ) -> Result<HttpResponse, PageError> {
        let found = filter
            .records(&operator, &state, self.statuses, self.list, self.id)
            .await?;
        let body = (self.render)(
            &found,
            given(&filter.status),
            &operator.csrf,
            given(&filter.done),
        );
        Ok(page(operator.layout(self.title, self.active, body)))
    }
}

async fn upgrades(
    operator: Operator,
    filter: web::Query<WorkFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let list = RecordList {
        statuses: (UpgradeStatus::NAMES, UpgradeStatus::IN_FLIGHT),
        list: |store, query| store.upgrades(query),
        id: |row| row.id,
        render: pages::upgrades,
        title: "Upgrades",
        active: "upgrades",
    };
    list.page(operator, filter, state).await
}

async fn retry_upgrade(
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&form)?;
    actions::retry_upgrade(&state, &operator.admin(), &id).await?;
    Ok(see_other("/admin/upgrades?done=retried"))
}

async fn cancellations(
    operator: Operator,
    filter: web::Query<WorkFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let list = RecordList {
        statuses: (CancellationStatus::NAMES, CancellationStatus::IN_FLIGHT),
        list: |store, query| store.cancellations(query),
        id: |row| row.id,
        render: pages::cancellations,
        title: "Cancellations",
        active: "cancellations",
    };
    list.page(operator, filter, state).await
}

async fn retry_cancellation(
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&form)?;
    actions::retry_cancellation(&state, &operator.admin(), &id).await?;
    Ok(see_other("/admin/cancellations?done=retried"))
}

async fn transfers(
    operator: Operator,
    filter: web::Query<WorkFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let list = RecordList {
        statuses: (TransferStatus::NAMES, TransferStatus::IN_FLIGHT),
        list: |store, query| store.transfers(query),
        id: |row| row.id,
        render: pages::transfers,
        title: "Transfers",
        active: "transfers",
    };
    list.page(operator, filter, state).await
}

/// Each install's last diagnostics report (one instance's for a scoped
/// session).
async fn diagnostics(
    operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let instance = operator.instance_filter(None)?;
    let reports = state.store.latest_reports(instance).await?;
    let body = pages::diagnostics(&reports);
    Ok(page(operator.layout("Diagnostics", "diagnostics", body)))
}

/// The newest messages clients sent to the instances' numbers (one
/// instance's for a scoped operator).
async fn replies(
    operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let instance = operator.instance_filter(None)?;
    let received = state.store.inbound_messages(instance, 200).await?;
    let body = pages::replies(&received);
    Ok(page(operator.layout("Replies", "replies", body)))
}

/// When each hook point the rules read last arrived from each instance (one
/// instance's for a scoped operator): a hook WHMCS never fires shows here.
async fn hooks(operator: Operator, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let handled = crate::domain::plan::handled_hooks();
    let names: Vec<String> = handled.iter().map(|(hook, _)| (*hook).to_owned()).collect();
    let mut seen = Vec::new();
    let reconciliations = state.store.reconciliations().await?;
    for instance in operator.instances(&state.config) {
        let arrivals = state
            .store
            .hooks_seen(instance.clone(), names.clone())
            .await?;
        let reconciled = reconciliations
            .iter()
            .find(|found| found.instance == instance.as_str())
            .cloned();
        seen.push(pages::HooksOf {
            instance: instance.as_str().to_owned(),
            arrivals,
            reconciled,
        });
    }
    let body = pages::hooks(&handled, &seen);
    Ok(page(operator.layout("Hooks", "hooks", body)))
}

/// What the last reading of each account's WhatsApp templates found (one
/// instance's for a scoped operator).
async fn templates(
    operator: Operator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let instances = operator.instances(&state.config);
    let found = state.templates.snapshot();
    let rows: Vec<pages::TemplatesOf> = instances
        .iter()
        .map(|name| pages::TemplatesOf {
            instance: name.as_str().to_owned(),
            account: state
                .config
                .for_instance(name)
                .whatsapp
                .business_account_id
                .clone(),
            found: found.get(name.as_str()).cloned(),
        })
        .collect();
    let body = pages::templates(&rows);
    Ok(page(operator.layout("Templates", "templates", body)))
}

async fn approve_transfer(
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&form)?;
    actions::approve_transfer(&state, &operator.admin(), &id).await?;
    Ok(see_other("/admin/transfers?done=approved"))
}

/// Takes the minute's sample of the dashboard's charts, every minute.
pub async fn run_sampler(
    config: std::sync::Arc<crate::config::Config>,
    store: std::sync::Arc<dyn Store>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) {
    let names = config
        .instances
        .keys()
        .map(|name| name.as_str().to_owned())
        .collect::<Vec<_>>();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let backlog = store.message_backlog().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the outbox backlog");
            Default::default()
        });
        metrics.sample(jiff::Timestamp::now(), backlog, &names);
    }
}

// ----- alerts sent by hand (the pages are in `sends.rs`) -----

/// The instance of a send: one the operator sees.
fn send_instance(
    operator: &Operator,
    state: &AppState,
    asked: Option<&str>,
) -> Result<InstanceName, PageError> {
    let instances = operator.instances(&state.config);
    match asked {
        Some(text) => {
            let instance = parse_instance(text)?;
            if instances.contains(&instance) {
                Ok(instance)
            } else {
                Err(PageError::Forbidden(format!(
                    "this session cannot send for instance {instance}"
                )))
            }
        }
        // The install's own instance when the operator sees it, else the
        // first.
        None => match instances.iter().find(|name| name.as_str() == "default") {
            Some(default) => Ok(default.clone()),
            None => instances
                .into_iter()
                .next()
                .ok_or_else(|| PageError::BadRequest("no instance is configured".into())),
        },
    }
}

/// `GET /admin/send`: the form, and the preview of what it names.
async fn send_form(
    operator: Operator,
    query: web::Query<sends::SendQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let instance = send_instance(&operator, &state, given(&query.instance))?;
    let kind = given(&query.kind)
        .map(sends::kind_named)
        .transpose()
        .map_err(PageError::BadRequest)?;
    let to = given(&query.to);
    let mut found = None;
    let mut preview = None;
    if let (Some(kind), Some(to)) = (kind, to) {
        let target = alerts::manual_target(kind).unwrap_or("client");
        let whmcs = state.whmcs.get(&instance).ok_or_else(|| {
            PageError::Refused(format!("instance {instance} has no WHMCS API settings"))
        })?;
        found = Some(match to.parse::<u64>() {
            Ok(id) => sends::Found::Target(id),
            Err(_) if target == "client" => {
                let clients = whmcs
                    .clients_matching(to, sends::MATCHES)
                    .await
                    .map_err(|error| PageError::Refused(error.to_string()))?;
                match clients.as_slice() {
                    [one] => sends::Found::Target(one.id),
                    _ => sends::Found::Clients(clients),
                }
            }
            Err(_) => {
                return Err(PageError::BadRequest(format!(
                    "a {} alert is sent for a {target}: give its id",
                    kind.as_str()
                )));
            }
        });
        if let Some(sends::Found::Target(id)) = found {
            let planned = alerts::manual(kind, &[id], "preview").map_err(PageError::BadRequest)?;
            preview = Some((id, state.outbox.preview(&instance, &planned[0]).await));
        }
    }
    let instances = operator.instances(&state.config);
    let body = sends::send_page(
        &instances,
        &instance,
        kind,
        to,
        found.as_ref(),
        preview.as_ref(),
        &operator.csrf,
    );
    Ok(page(operator.layout("Send", "send", body)))
}

/// `POST /admin/send`: stores the send as an event of its own, whose alerts
/// the outbox sends.
async fn send_alert(
    operator: Operator,
    form: web::Form<sends::SendForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&ActionForm {
        csrf: form.csrf.clone(),
    })?;
    let instance = send_instance(&operator, &state, Some(form.instance.as_str()))?;
    let kind = sends::kind_named(form.kind.trim()).map_err(PageError::BadRequest)?;
    let targets = sends::ids(&form.targets).map_err(PageError::BadRequest)?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(no_randomness)?;
    let id = format!(
        "dash_{}",
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let alerts = alerts::manual(kind, &targets, &id).map_err(PageError::BadRequest)?;
    let sent_by = operator.session.operator.clone();
    // The WHMCS admin when the addon's link opened the session (an actor
    // `admin` always carries its id), else the system.
    let actor = match session::whmcs_admin_of(&sent_by).and_then(|id| id.parse().ok()) {
        Some(admin) => Actor {
            kind: ActorKind::Admin,
            id: Some(admin),
            user_id: None,
        },
        None => Actor {
            kind: ActorKind::System,
            id: None,
            user_id: None,
        },
    };
    let now = jiff::Timestamp::now();
    let body = serde_json::to_vec(&serde_json::json!({
        "type": MANUAL_SEND,
        "timestamp": now.to_string(),
        "data": {"kind": kind.as_str(), "targets": targets, "sent_by": sent_by},
        "context": {"instance": instance.as_str(), "actor": actor, "source": "adminarea"},
    }))
    .map_err(|_| PageError::Internal)?;
    let recipients = alerts.len();
    let event = NewEvent {
        id: EventId::parse(&id).map_err(|_| PageError::Internal)?,
        instance: instance.clone(),
        hook: HookType::parse(MANUAL_SEND).map_err(|_| PageError::Internal)?,
        actor,
        source: Source::Adminarea,
        occurred_at: now,
        status: EventStatus::Received,
        body,
        plan: Plan {
            claimed: true,
            alerts,
            ..Plan::default()
        },
    };
    state.store.insert_event(event).await?;
    tracing::info!(%instance, sent_by = %sent_by, kind = kind.as_str(), recipients, event = %id, "manual send planned from the dashboard");
    Ok(see_other("/admin/sends?done=planned"))
}

/// `GET /admin/sends`: every send, newest first, with its progress.
async fn sends(
    operator: Operator,
    query: web::Query<sends::SendsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    // Events are listed oldest first: page through them (their rows only,
    // not their bodies), keeping the newest.
    let mut newest = std::collections::VecDeque::with_capacity(sends::SENDS_SHOWN);
    let mut after = None;
    loop {
        let page = state
            .store
            .events(EventQuery {
                hook: HookType::parse(MANUAL_SEND).ok(),
                instance: operator.scope.instance().cloned(),
                since: None,
                after,
                limit: PAGE_OF_SENDS,
            })
            .await?;
        let full = page.len() == PAGE_OF_SENDS as usize;
        after = page.last().map(|event| event.seq);
        for event in page {
            if newest.len() == sends::SENDS_SHOWN {
                newest.pop_front();
            }
            newest.push_back(event);
        }
        if !full {
            break;
        }
    }
    let mut rows = Vec::new();
    for event in newest.iter().rev() {
        let stored = state.store.event(event.id.clone()).await?;
        let data: serde_json::Value = stored
            .and_then(|stored| stored.body)
            .and_then(|body| serde_json::from_slice(&body).ok())
            .map(|body: serde_json::Value| body["data"].clone())
            .unwrap_or_default();
        let messages = state
            .store
            .messages(MessageQuery {
                event: Some(event.id.clone()),
                limit: alerts::MANUAL_SEND_LIMIT as u32,
                ..MessageQuery::default()
            })
            .await?;
        let mut statuses: Vec<(String, usize)> = Vec::new();
        for message in &messages {
            match statuses
                .iter_mut()
                .find(|(status, _)| *status == message.status)
            {
                Some((_, count)) => *count += 1,
                None => statuses.push((message.status.clone(), 1)),
            }
        }
        rows.push(sends::SendRow {
            id: event.id.as_str().to_owned(),
            instance: event.instance.as_str().to_owned(),
            at: event.received_at,
            kind: data["kind"].as_str().unwrap_or_default().to_owned(),
            sent_by: sends::operator_label(data["sent_by"].as_str().unwrap_or_default()),
            waiting: messages
                .iter()
                .filter(|message| message.status == "planned")
                .count(),
            statuses,
        });
    }
    let body = sends::sends_page(&rows, &operator.csrf, given(&query.done));
    Ok(page(operator.layout("Sends", "send", body)))
}

/// Send events read at once while looking for the newest.
const PAGE_OF_SENDS: u32 = 500;

/// `POST /admin/sends/{id}/cancel`: what of the send is not sent yet is
/// skipped, with who cancelled it.
async fn cancel_send(
    operator: Operator,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&form)?;
    let id = EventId::parse(&id).map_err(|_| PageError::NotFound("no such send".into()))?;
    let event = state
        .store
        .event(id.clone())
        .await?
        .filter(|event| event.hook.as_str() == MANUAL_SEND)
        .filter(|event| {
            operator
                .scope
                .instance()
                .is_none_or(|own| *own == event.instance)
        })
        .ok_or_else(|| PageError::NotFound("no such send".into()))?;
    let reason = format!(
        "cancelled from the dashboard by {}",
        sends::operator_label(&operator.session.operator)
    );
    let cancelled = state
        .store
        .cancel_planned_messages(id, reason, jiff::Timestamp::now())
        .await?;
    tracing::info!(instance = %event.instance, event = %event.id, cancelled, operator = %operator.session.operator, "manual send cancelled");
    Ok(see_other("/admin/sends?done=cancelled"))
}
