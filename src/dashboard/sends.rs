//! Alerts staff send by hand: pick a client (by id, email or name) or the
//! record an alert is about, see the exact message read from WHMCS, and
//! send it; or paste a list of client ids for one alert. A send is an
//! event of its own (`puente.send`, with who sent it) whose alerts the
//! outbox sends like any other, paced by the number's limits; what is not
//! sent yet can be cancelled.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::{ActionForm, Operator, PageError, given, page, see_other};
use crate::domain::alerts::{self, AlertKind, MANUAL_SEND};
use crate::domain::envelope::{Actor, ActorKind, Source};
use crate::domain::ids::{EventId, HookType, InstanceName};
use crate::domain::plan::Plan;
use crate::http::admin::parse_instance;
use crate::http::state::AppState;
use crate::store::NewEvent;
use crate::store::events::{EventQuery, EventStatus};
use crate::store::messages::MessageQuery;

/// Clients a name or email search lists at most.
const MATCHES: u32 = 25;
/// Sends the page lists, newest first.
const SENDS_SHOWN: usize = 50;

#[derive(Debug, Deserialize)]
pub struct SendQuery {
    instance: Option<String>,
    kind: Option<String>,
    /// A client id, email or name; or the id of the record the alert is
    /// about.
    to: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    csrf: String,
    instance: String,
    kind: String,
    /// One id, or a list (commas, spaces or lines between them).
    targets: String,
}

#[derive(Debug, Deserialize)]
pub struct SendsQuery {
    done: Option<String>,
}

/// Who a session is, as the audit shows it.
fn operator_label(operator: &str) -> String {
    match operator.strip_prefix("whmcs-admin-") {
        Some(id) => format!("WHMCS admin #{id}"),
        None => "the admin token".to_owned(),
    }
}

fn kind_named(text: &str) -> Result<AlertKind, PageError> {
    AlertKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text && alerts::manual_target(*kind).is_some())
        .ok_or_else(|| PageError::BadRequest(format!("`{text}` is not an alert sent by hand")))
}

/// The instance of a send: one the operator sees.
fn instance_for(
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

/// The ids of a pasted list.
fn ids(text: &str) -> Result<Vec<u64>, PageError> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| PageError::BadRequest(format!("`{part}` is not a WHMCS id")))
        })
        .collect()
}

/// What the form found for `to`: the record to preview, or the clients a
/// search matched (none or several: staff pick).
enum Found {
    Target(u64),
    Clients(Vec<crate::whmcs::ClientSummary>),
}

/// `GET /admin/send`: the form, and the preview of what it names.
pub async fn form(
    operator: Operator,
    query: web::Query<SendQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let instance = instance_for(&operator, &state, given(&query.instance))?;
    let kind = given(&query.kind).map(kind_named).transpose()?;
    let to = given(&query.to);
    let mut found = None;
    let mut preview = None;
    if let (Some(kind), Some(to)) = (kind, to) {
        let target = alerts::manual_target(kind).unwrap_or("client");
        let whmcs = state.whmcs.get(&instance).ok_or_else(|| {
            PageError::Refused(format!("instance {instance} has no WHMCS API settings"))
        })?;
        found = Some(match to.parse::<u64>() {
            Ok(id) => Found::Target(id),
            Err(_) if target == "client" => {
                let clients = whmcs
                    .clients_matching(to, MATCHES)
                    .await
                    .map_err(|error| PageError::Refused(error.to_string()))?;
                match clients.as_slice() {
                    [one] => Found::Target(one.id),
                    _ => Found::Clients(clients),
                }
            }
            Err(_) => {
                return Err(PageError::BadRequest(format!(
                    "a {} alert is sent for a {target}: give its id",
                    kind.as_str()
                )));
            }
        });
        if let Some(Found::Target(id)) = found {
            let planned = alerts::manual(kind, &[id], "preview").map_err(PageError::BadRequest)?;
            preview = Some((id, state.outbox.preview(&instance, &planned[0]).await));
        }
    }
    let instances = operator.instances(&state.config);
    let body = send_page(
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
pub async fn send(
    operator: Operator,
    form: web::Form<SendForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    operator.check(&ActionForm {
        csrf: form.csrf.clone(),
    })?;
    let instance = instance_for(&operator, &state, Some(form.instance.as_str()))?;
    let kind = kind_named(form.kind.trim())?;
    let targets = ids(&form.targets)?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(super::no_randomness)?;
    let id = format!(
        "dash_{}",
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let alerts = alerts::manual(kind, &targets, &id).map_err(PageError::BadRequest)?;
    let sent_by = operator.session.operator.clone();
    let actor = Actor {
        kind: match sent_by.strip_prefix("whmcs-admin-") {
            Some(_) => ActorKind::Admin,
            None => ActorKind::System,
        },
        id: sent_by
            .strip_prefix("whmcs-admin-")
            .and_then(|id| id.parse().ok()),
        user_id: None,
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

/// One send as the list shows it.
pub struct SendRow {
    pub id: String,
    pub instance: String,
    pub at: jiff::Timestamp,
    pub kind: String,
    pub sent_by: String,
    /// Message statuses and how many of each, in planning order of first
    /// appearance.
    pub statuses: Vec<(String, usize)>,
    pub waiting: usize,
}

/// `GET /admin/sends`: every send, newest first, with its progress.
pub async fn list(
    operator: Operator,
    query: web::Query<SendsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let events = state
        .store
        .events(EventQuery {
            hook: HookType::parse(MANUAL_SEND).ok(),
            instance: operator.scope.instance().cloned(),
            since: None,
            after: None,
            limit: 1000,
        })
        .await?;
    let mut rows = Vec::new();
    for event in events.iter().rev().take(SENDS_SHOWN) {
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
        rows.push(SendRow {
            id: event.id.as_str().to_owned(),
            instance: event.instance.as_str().to_owned(),
            at: event.received_at,
            kind: data["kind"].as_str().unwrap_or_default().to_owned(),
            sent_by: operator_label(data["sent_by"].as_str().unwrap_or_default()),
            waiting: messages
                .iter()
                .filter(|message| message.status == "planned")
                .count(),
            statuses,
        });
    }
    let body = sends_page(&rows, &operator.csrf, given(&query.done));
    Ok(page(operator.layout("Sends", "send", body)))
}

/// `POST /admin/sends/{id}/cancel`: what of the send is not sent yet is
/// skipped, with who cancelled it.
pub async fn cancel(
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
        operator_label(&operator.session.operator)
    );
    let cancelled = state
        .store
        .cancel_planned_messages(id, reason, jiff::Timestamp::now())
        .await?;
    tracing::info!(instance = %event.instance, event = %event.id, cancelled, operator = %operator.session.operator, "manual send cancelled");
    Ok(see_other("/admin/sends?done=cancelled"))
}

fn send_page(
    instances: &[InstanceName],
    instance: &InstanceName,
    kind: Option<AlertKind>,
    to: Option<&str>,
    found: Option<&Found>,
    preview: Option<&(u64, Result<crate::workers::outbox::Preview, String>)>,
    csrf: &str,
) -> Markup {
    let kinds: Vec<AlertKind> = AlertKind::ALL
        .into_iter()
        .filter(|kind| alerts::manual_target(*kind).is_some())
        .collect();
    let client_kinds: Vec<AlertKind> = kinds
        .iter()
        .copied()
        .filter(|kind| alerts::manual_target(*kind) == Some("client"))
        .collect();
    html! {
        p.muted { "Send one alert by hand, or the same alert to a list of clients. Each message is read from WHMCS and sent by the outbox like any other (paced by the number's limits), and each send is kept with who sent it on " a href="/admin/sends" { "Sends" } "." }
        section.card {
            h2 { "One message" }
            form method="get" action="/admin/send" {
                label { "Instance " select name="instance" {
                    @for name in instances { option value=(name) selected[name == instance] { (name) } }
                } }
                " "
                label { "Alert " select name="kind" {
                    @for known in &kinds {
                        option value=(known.as_str()) selected[Some(*known) == kind] {
                            (known.as_str()) " (" (alerts::manual_target(*known).unwrap_or_default()) ")"
                        }
                    }
                } }
                " "
                label { "To " input name="to" value=(to.unwrap_or_default()) placeholder="client id, email or name; or the invoice, service, domain or quote id"; }
                " "
                button type="submit" { "Preview" }
            }
            @if let Some(Found::Clients(clients)) = found {
                @if clients.is_empty() { p.warn { "No client matches." } }
                @else {
                    p { "Pick the client:" }
                    ul {
                        @for client in clients {
                            li { a href=(format!("/admin/send?instance={instance}&kind={}&to={}", kind.map_or("", AlertKind::as_str), client.id)) {
                                "#" (client.id) " " (client.firstname) " " (client.lastname)
                                @if !client.companyname.is_empty() { " (" (client.companyname) ")" }
                                " — " (client.email)
                            } }
                        }
                    }
                }
            }
            @if let (Some((target, preview)), Some(kind)) = (preview, kind) {
                @match preview {
                    Ok(preview) => {
                        dl {
                            dt { "Client" } dd { "#" (preview.client) }
                            dt { "Number" } dd { "+" (preview.to) }
                            dt { "Language" } dd { (preview.language) }
                            dt { "Parameters" } dd { (parameters(&preview.body)) }
                        }
                        p { "The exact request to the Cloud API:" }
                        pre { (pretty(&preview.body)) }
                        form method="post" action="/admin/send" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="instance" value=(instance);
                            input type="hidden" name="kind" value=(kind.as_str());
                            input type="hidden" name="targets" value=(target);
                            button type="submit" { "Send" }
                        }
                    },
                    Err(why) => p.warn { "Not sent as it stands: " (why) },
                }
            }
        }
        section.card {
            h2 { "The same alert to a list of clients" }
            form method="post" action="/admin/send" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Instance " select name="instance" {
                    @for name in instances { option value=(name) selected[name == instance] { (name) } }
                } }
                " "
                label { "Alert " select name="kind" {
                    @for known in &client_kinds { option value=(known.as_str()) { (known.as_str()) } }
                } }
                br;
                label { "Client ids (one per line, or separated by commas), at most " (alerts::MANUAL_SEND_LIMIT) br;
                    textarea name="targets" rows="5" cols="40" {} }
                br;
                button type="submit" { "Send to all" }
            }
        }
    }
}

/// The template's name and the body parameters a request body fills.
fn parameters(body: &str) -> String {
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let values: Vec<String> = body["template"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|component| {
            component["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|parameter| parameter["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    format!(
        "{}: {}",
        body["template"]["name"].as_str().unwrap_or_default(),
        values.join(" · ")
    )
}

fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| body.to_owned())
}

fn sends_page(rows: &[SendRow], csrf: &str, done: Option<&str>) -> Markup {
    html! {
        @match done {
            Some("planned") => p.notice role="status" { "Planned: the outbox sends it, paced by the number's limits." },
            Some("cancelled") => p.notice role="status" { "Cancelled: what was not sent yet is skipped." },
            _ => {},
        }
        p { a href="/admin/send" { "New send" } }
        @if rows.is_empty() { p { "No send yet." } }
        @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Started" } th scope="col" { "Instance" } th scope="col" { "Alert" } th scope="col" { "By" } th scope="col" { "Progress" } th scope="col" {} } }
                tbody {
                    @for row in rows {
                        tr {
                            td { a href=(format!("/admin/events/{}", row.id)) { (format!("{:.0}", row.at)) } }
                            td { (row.instance) }
                            td { (row.kind) }
                            td { (row.sent_by) }
                            td {
                                @for (status, count) in &row.statuses {
                                    span class=(format!("status {status}")) { (count) " " (status) } " "
                                }
                            }
                            td { @if row.waiting > 0 {
                                form method="post" action=(format!("/admin/sends/{}/cancel", row.id)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" { "Cancel the " (row.waiting) " not sent" }
                                }
                            } }
                        }
                    }
                }
            } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_list_reads_ids_between_commas_spaces_and_lines_and_refuses_anything_else() {
        assert_eq!(ids("7, 9\n12;13  14").expect("ids"), [7, 9, 12, 13, 14]);
        assert!(ids("7, abc").is_err());
        assert!(ids("0").is_err());
        assert_eq!(ids("  ").expect("none"), Vec::<u64>::new());
    }

    #[test]
    fn the_audit_names_who_sent() {
        assert_eq!(operator_label("whmcs-admin-4"), "WHMCS admin #4");
        assert_eq!(operator_label("token"), "the admin token");
    }
}
