//! The dashboard's markup: one function per page, escaped by `maud`.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart;
use super::session::Scope;
use crate::config::{Config, WhatsAppMode};
use crate::domain::cancel::CancellationStatus;
use crate::domain::diagnostics::Verdict;
use crate::domain::ids::InstanceName;
use crate::domain::status::MessageStatus;
use crate::domain::status::{Named, names};
use crate::domain::transfer::ClearedSubscription;
use crate::domain::transfer::{Approval, Status as TransferStatus};
use crate::domain::upgrade_apply::UpgradeStatus;
use crate::metrics::{Link, LinkStatus, Metrics, Sample};
use crate::store::cancellations::StoredCancellation;
use crate::store::diagnostics::StoredReport;
use crate::store::events::StoredEvent;
use crate::store::messages::{Attempt, StoredMessage};
use crate::store::replicas::Replica;
use crate::store::transfers::StoredTransfer;
use crate::store::upgrades::StoredApplication;
use crate::store::whatsapp::StoredInbound;
use crate::workers::templates::InstanceCheck;

const STYLE: &str = r#"
:root { color-scheme: light dark; --line: #8884; --muted: #777; --accent: #1565c0; --bad: #c62828; --good: #2e7d32; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header strong { font-size: 1.1rem; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem .9rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current] { font-weight: 700; text-decoration: none; }
main { padding: 1rem; max-width: 80rem; }
a { color: var(--accent); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
pre { white-space: pre-wrap; word-break: break-all; padding: .6rem; border: 1px solid var(--line); max-height: 30rem; overflow: auto; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .9rem; }
input, select, button { font: inherit; padding: .3rem .5rem; }
button { cursor: pointer; }
.status { font-weight: 600; }
.dead, .failed, .bad, .fail, .missing, .not_approved, .parameters_differ, .other_variables { color: var(--bad); }
.warn, .unconfirmed, .opt_out { color: #b26a00; }
.good, .sent, .delivered, .read, .applied, .terminated, .completed, .pass, .ready { color: var(--good); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
.card { border: 1px solid var(--line); border-radius: .4rem; padding: .8rem; }
.card h3 { margin-top: 0; }
.chart svg { width: 100%; height: 60px; fill: var(--accent); border-bottom: 1px solid var(--line); }
.notice { border-left: 4px solid var(--good); padding: .4rem .8rem; }
.muted { color: var(--muted); }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem 1rem; }
dd, td { overflow-wrap: anywhere; }
figure { margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
"#;

/// Every page: the navigation, the scope, the sign-out form.
pub fn layout(title: &str, active: &str, session: Option<(&Scope, &str)>, body: Markup) -> Markup {
    let items = [
        ("overview", "/admin/", "Overview"),
        ("events", "/admin/events", "Events"),
        ("messages", "/admin/messages", "Messages"),
        ("dead", "/admin/messages?status=dead", "Dead letters"),
        ("upgrades", "/admin/upgrades", "Upgrades"),
        ("cancellations", "/admin/cancellations", "Cancellations"),
        ("transfers", "/admin/transfers", "Transfers"),
        ("diagnostics", "/admin/diagnostics", "Diagnostics"),
        ("templates", "/admin/templates", "Templates"),
        ("hooks", "/admin/hooks", "Hooks"),
        ("replies", "/admin/replies", "Replies"),
        ("send", "/admin/sends", "Send"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · puente" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "puente" }
                    @if let Some((scope, csrf)) = session {
                        nav aria-label="Dashboard" {
                            ul {
                                @for (key, href, label) in items {
                                    li {
                                        @if key == active {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        span.muted {
                            @match scope {
                                Scope::Global => "All instances",
                                Scope::Instance(name) => { "Instance " (name.as_str()) }
                            }
                        }
                        form method="post" action="/admin/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// An error page.
pub fn problem(message: &str) -> Markup {
    layout(
        "Cannot show this",
        "",
        None,
        html! {
            p role="alert" { (message) }
            p { a href="/admin/" { "Back to the dashboard" } }
        },
    )
}

pub fn login(tokens: bool, failed: bool) -> Markup {
    layout(
        "Sign in",
        "",
        None,
        html! {
            @if failed {
                p.bad role="alert" { "That token is not an admin token of this service." }
            }
            @if tokens {
                form method="post" action="/admin/login" {
                    p {
                        label for="token" { "Admin token (PUENTE_ADMIN_TOKEN, or an instance's admin_token)" }
                        input id="token" name="token" type="password" autocomplete="current-password" required;
                    }
                    button type="submit" { "Sign in" }
                }
            } @else {
                p { "No admin token is configured: sign in from the puente addon's page in WHMCS (Addons → puente → Open the dashboard)." }
            }
            p.muted { "Staff of one WHMCS install can also open the dashboard from the puente addon's page in that WHMCS." }
        },
    )
}

/// After a link from an addon: on to the dashboard, started from here.
pub fn signed_in() -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content="0;url=/admin/";
                title { "Signed in · puente" }
            }
            body {
                main {
                    p { "Signed in. " a href="/admin/" { "Open the dashboard" } }
                }
            }
        }
    }
}

pub use crate::store::dashboard::Counts;

/// How one instance's connections are doing.
pub struct InstanceHealth {
    pub name: String,
    pub whmcs: LinkView,
    /// The addon's `action.php`, which puente calls for what the API
    /// cannot do (moves, cancellation requests, upgrade rows).
    pub addon: LinkView,
    pub meta: LinkView,
}

/// One connection's state, as shown.
pub struct LinkView {
    pub summary: String,
    pub good: Option<bool>,
    pub detail: Option<String>,
}

impl LinkView {
    fn from_status(status: Option<&LinkStatus>, unused: &str) -> Self {
        match status {
            None => Self {
                summary: unused.to_owned(),
                good: None,
                detail: None,
            },
            Some(status) => Self {
                summary: if status.working {
                    format!("working (last call {})", when(status.last_ok))
                } else {
                    "failing".to_owned()
                },
                good: Some(status.working),
                detail: status
                    .last_error
                    .as_ref()
                    .map(|(at, reason)| format!("last error {at:.0}: {reason}")),
            },
        }
    }
}

fn when(at: Option<jiff::Timestamp>) -> String {
    at.map_or_else(|| "never".to_owned(), |at| format!("{at:.0}"))
}

impl InstanceHealth {
    pub fn of(
        config: &Config,
        metrics: &Metrics,
        links: &BTreeMap<(String, Link), LinkStatus>,
        name: &InstanceName,
    ) -> Self {
        let key = |link| (name.as_str().to_owned(), link);
        let instance = config.instances.get(name);
        let whmcs = match instance.and_then(|instance| instance.whmcs.as_ref()) {
            None => LinkView {
                summary: "not configured (no WHMCS API settings)".into(),
                good: None,
                detail: None,
            },
            Some(_) => LinkView::from_status(links.get(&key(Link::Whmcs)), "no call yet"),
        };
        let addon = match instance.and_then(|instance| instance.whmcs.as_ref()) {
            None => LinkView {
                summary: "not configured (no WHMCS URL)".into(),
                good: None,
                detail: None,
            },
            Some(_) => LinkView::from_status(links.get(&key(Link::Addon)), "no call yet"),
        };
        let whatsapp = &config.for_instance(name).whatsapp;
        let meta = match whatsapp.mode {
            WhatsAppMode::DryRun => LinkView {
                summary: "dry-run: request bodies are recorded, nothing is sent".into(),
                good: None,
                detail: None,
            },
            WhatsAppMode::Cloud if metrics.sending_paused(name) => LinkView {
                summary: "paused: Meta refused the token, a permission or the account".into(),
                good: Some(false),
                detail: links
                    .get(&key(Link::Meta))
                    .and_then(|status| status.last_error.as_ref())
                    .map(|(at, reason)| format!("last error {at:.0}: {reason}")),
            },
            WhatsAppMode::Cloud => {
                LinkView::from_status(links.get(&key(Link::Meta)), "no send yet")
            }
        };
        Self {
            name: name.as_str().to_owned(),
            whmcs,
            addon,
            meta,
        }
    }
}

fn connection(label: &str, state: &LinkView) -> Markup {
    let class = match state.good {
        Some(true) => "good",
        Some(false) => "bad",
        None => "muted",
    };
    html! {
        dt { (label) }
        dd {
            span class=(class) { (state.summary) }
            @if let Some(detail) = &state.detail { br; small.muted { (detail) } }
        }
    }
}

pub fn overview(
    health: &[InstanceHealth],
    counts: &Counts,
    history: &[Sample],
    instances: &[String],
    replicas: &[Replica],
) -> Markup {
    let sum = |values: &BTreeMap<String, u64>| -> u64 {
        instances
            .iter()
            .map(|name| values.get(name).copied().unwrap_or(0))
            .sum()
    };
    let events: Vec<u64> = history.iter().map(|sample| sum(&sample.events)).collect();
    let backlog: Vec<u64> = history.iter().map(|sample| sum(&sample.backlog)).collect();
    let commit: Vec<u64> = history.iter().map(|sample| sample.commit_mean_us).collect();
    let latest = |values: &[u64], unit: &str| {
        values.last().map_or_else(
            || "no sample yet".to_owned(),
            |value| format!("{value}{unit}"),
        )
    };
    let commit_ms: Vec<String> = commit
        .iter()
        .map(|micros| format!("{}.{:02} ms", micros / 1000, (micros % 1000) / 10))
        .collect();
    html! {
        section aria-labelledby="attention" {
            h2 id="attention" { "Needs attention" }
            ul {
                li { a href="/admin/messages?status=dead" { "Dead letters: " strong.(if counts.dead > 0 { "bad" } else { "good" }) { (counts.dead) } } }
                li { "Alerts waiting to be sent: " strong { (counts.backlog) } }
                li { a href="/admin/upgrades?status=failed" { "Failed upgrades: " strong { (counts.failed_upgrades) } } }
                li { a href="/admin/cancellations?status=failed" { "Failed cancellations: " strong { (counts.failed_cancellations) } } }
                li { a href="/admin/cancellations?status=unconfirmed" { "Cancellations waiting for the client's confirmation: " strong { (counts.unconfirmed_cancellations) } } }
                li { a href="/admin/transfers" { "Transfers in flight: " strong { (counts.open_transfers) } } }
            }
        }
        section aria-labelledby="connections" {
            h2 id="connections" { "Connections" }
            div.cards {
                @for instance in health {
                    div.card {
                        h3 { "Instance " (instance.name) }
                        dl {
                            (connection("WHMCS API", &instance.whmcs))
                            (connection("WHMCS addon (action.php)", &instance.addon))
                            (connection("WhatsApp (Meta)", &instance.meta))
                        }
                    }
                }
            }
        }
        section aria-labelledby="replicas" {
            h2 id="replicas" { "Replicas" }
            p.muted { "Each puente process that shares this store: its heartbeat, and the leader (retention, and on PostgreSQL the rescue of a stopped replica's work). A replica silent for 10 seconds is dead." }
            div.scroll { table {
                thead { tr { th { "Replica" } th { "Version" } th { "Started" } th { "Last heartbeat" } th { "State" } } }
                tbody {
                    @for replica in replicas {
                        tr {
                            td { (replica.id) @if replica.this { " " span.muted { "(this one)" } } }
                            td { (replica.version) }
                            td { (replica.started_at) }
                            td { (replica.heartbeat_age_ms / 1000) " s ago" }
                            td {
                                @if !replica.alive { strong.bad { "dead" } }
                                @else if replica.leader { strong.good { "leader" } }
                                @else { "alive" }
                            }
                        }
                    }
                }
            } }
        }
        section aria-labelledby="figures" {
            h2 id="figures" { "Last hour" }
            p.muted { "One sample a minute since the service started." }
            div.cards {
                div.card { (chart::bars("Events accepted per minute", &events, &latest(&events, ""))) }
                div.card { (chart::bars("Mean commit time", &commit, commit_ms.last().map_or("no sample yet", String::as_str))) }
                div.card { (chart::bars("Outbox backlog", &backlog, &latest(&backlog, ""))) }
            }
        }
    }
}

fn status(text: &str) -> Markup {
    html! { span class=(format!("status {text}")) { (text) } }
}

/// A "next page" link keeping the filter.
fn next_link(base: &str, values: &[(&'static str, String)], cursor: Option<i64>) -> Markup {
    let Some(cursor) = cursor else {
        return html! {};
    };
    let mut pairs: Vec<(&str, String)> = values
        .iter()
        .map(|(name, value)| (*name, value.clone()))
        .collect();
    pairs.push(("cursor", cursor.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    html! { p { a href=(format!("{base}?{query}")) { "Next page →" } } }
}

fn value<'a>(values: &'a [(&'static str, String)], name: &str) -> &'a str {
    values
        .iter()
        .find(|(key, _)| *key == name)
        .map_or("", |(_, value)| value.as_str())
}

pub fn events(
    found: &[StoredEvent],
    values: &[(&'static str, String)],
    next: Option<i64>,
) -> Markup {
    html! {
        form.filters method="get" action="/admin/events" {
            label { "Hook type" input name="type" value=(value(values, "type")) placeholder="InvoicePaid"; }
            label { "Instance" input name="instance" value=(value(values, "instance")); }
            label { "Since" input name="since" value=(value(values, "since")) placeholder="2026-11-28T00:00:00Z"; }
            button type="submit" { "Filter" }
        }
        @if found.is_empty() {
            p { "No events match." }
        } @else {
            div.scroll { table {
                caption.muted { "Events in arrival order" }
                thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "Instance" } th scope="col" { "Outcome" } th scope="col" { "Actor" } th scope="col" { "Received" } } }
                tbody {
                    @for event in found {
                        tr {
                            td { a href=(format!("/admin/events/{}", event.id.as_str())) { (event.id.as_str()) } }
                            td { (event.hook.as_str()) }
                            td { (event.instance.as_str()) }
                            td { (status(event.status.as_str())) }
                            td { (event.actor.kind.as_str()) @if let Some(id) = event.actor.id { " #" (id) } }
                            td { (event.received_at) }
                        }
                    }
                }
            } }
        }
        (next_link("/admin/events", values, next))
    }
}

pub fn event(event: &StoredEvent, messages: &[StoredMessage]) -> Markup {
    let payload = event
        .body
        .as_deref()
        .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_default();
    html! {
        dl {
            dt { "Id" } dd { (event.id.as_str()) }
            dt { "Type" } dd { (event.hook.as_str()) }
            dt { "Instance" } dd { (event.instance.as_str()) }
            dt { "Outcome" } dd { (status(event.status.as_str())) }
            dt { "Actor" } dd { (event.actor.kind.as_str()) @if let Some(id) = event.actor.id { " #" (id) } }
            dt { "Source" } dd { (event.source.as_str()) }
            dt { "Occurred" } dd { (event.occurred_at) }
            dt { "Received" } dd { (event.received_at) }
        }
        h2 { "Alerts planned from it" }
        (message_table(messages))
        h2 { "Payload, as signed" }
        pre { code { (payload) } }
    }
}

fn message_table(found: &[StoredMessage]) -> Markup {
    html! {
        @if found.is_empty() {
            p { "No messages." }
        } @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Message" } th scope="col" { "Kind" } th scope="col" { "Instance" } th scope="col" { "Client" } th scope="col" { "Status" } th scope="col" { "Tries" } th scope="col" { "Reason" } } }
                tbody {
                    @for message in found {
                        tr {
                            td { a href=(format!("/admin/messages/{}", message.id)) { "#" (message.id) } }
                            td { (message.kind) }
                            td { (message.instance) }
                            td { @if let Some(client) = message.client_id { (client) } @else { "–" } }
                            td { (status(&message.status)) }
                            td { (message.attempts) }
                            td { (message.reason.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
        }
    }
}

pub fn messages(
    found: &[StoredMessage],
    values: &[(&'static str, String)],
    next: Option<i64>,
    dead_letters: bool,
) -> Markup {
    let statuses = MessageStatus::NAMES;
    let chosen = value(values, "status");
    html! {
        @if dead_letters {
            p { "Messages no further try will send. Fix the cause (the client's number, the template, the token), then retry each from its page." }
        }
        form.filters method="get" action="/admin/messages" {
            label { "Status"
                select name="status" {
                    option value="" selected[chosen.is_empty()] { "any" }
                    @for status in statuses { option value=(status) selected[chosen == *status] { (status) } }
                }
            }
            label { "Instance" input name="instance" value=(value(values, "instance")); }
            label { "Client id" input name="client" inputmode="numeric" value=(value(values, "client")); }
            button type="submit" { "Filter" }
        }
        (message_table(found))
        (next_link("/admin/messages", values, next))
    }
}

pub fn message(
    message: &StoredMessage,
    attempts: &[Attempt],
    csrf: &str,
    done: Option<&str>,
) -> Markup {
    let body = message
        .request_body
        .as_ref()
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
        .and_then(|value| serde_json::to_string_pretty(&value).ok());
    let shown = MessageStatus::parse(&message.status);
    let retryable = shown.is_some_and(MessageStatus::is_retryable);
    html! {
        @if done == Some("retried") {
            p.notice role="status" { "Planned again: the outbox sends it on its next pass." }
        }
        dl {
            dt { "Status" } dd { (status(&message.status)) }
            dt { "Reason" } dd { (message.reason.as_deref().unwrap_or("–")) }
            dt { "Kind" } dd { (message.kind) }
            dt { "Instance" } dd { (message.instance) }
            dt { "Client" } dd { @if let Some(client) = message.client_id { (client) } @else { "–" } " (" (message.recipient) " number)" }
            dt { "Subject" } dd { (message.subject_kind) " " @if let Some(id) = message.subject_id { "#" (id) } }
            dt { "Event" } dd { a href=(format!("/admin/events/{}", message.event_id)) { (message.event_id) } }
            dt { "Planned" } dd { (message.planned_at) }
            dt { "Tries" } dd { (message.attempts) }
            dt { "WhatsApp id" } dd { (message.wamid.as_deref().unwrap_or("–")) }
        }
        @if retryable {
            form method="post" action=(format!("/admin/messages/{}/retry", message.id)) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Retry this message" }
                @if shown == Some(MessageStatus::Uncertain) {
                    " " small.muted { "It may already have reached the client: a retry can send it twice." }
                }
            }
        }
        h2 { "Tries" }
        @if attempts.is_empty() {
            p { "None with the Cloud API." }
        } @else {
            div.scroll { table {
                thead { tr { th scope="col" { "At" } th scope="col" { "Outcome" } th scope="col" { "HTTP" } th scope="col" { "Meta code" } th scope="col" { "Detail" } } }
                tbody {
                    @for attempt in attempts {
                        tr {
                            td { (attempt.at) }
                            td { (attempt.outcome) }
                            td { @if let Some(http) = attempt.http_status { (http) } }
                            td { @if let Some(code) = attempt.meta_code { (code) } }
                            td { (attempt.detail.as_deref().unwrap_or("")) @if let Some(trace) = &attempt.fbtrace_id { br; small.muted { "fbtrace_id " (trace) } } }
                        }
                    }
                }
            } }
        }
        h2 { "Request body" }
        @match body {
            Some(body) => pre { code { (body) } },
            None => p { "Not prepared yet." },
        }
    }
}

/// What happens next to a stored transfer.
fn transfer_next_step(transfer: &StoredTransfer) -> &'static str {
    let approval = Approval::parse(&transfer.approval).unwrap_or(Approval::None);
    TransferStatus::parse(&transfer.status).map_or("–", |status| status.next_step(approval))
}

fn work_filter<S: Named>(
    action: &str,
    all: &[&str],
    in_flight: &[S],
    chosen: Option<&str>,
) -> Markup {
    let in_flight = names(in_flight);
    html! {
        form.filters method="get" action=(action) {
            label { "Status"
                select name="status" {
                    option value="" selected[chosen.is_none()] { "in flight (" (in_flight.join(", ")) ")" }
                    @for status in all { option value=(status) selected[chosen == Some(*status)] { (status) } }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

fn done_notice(done: Option<&str>) -> Markup {
    html! {
        @match done {
            Some("retried") => p.notice role="status" { "Planned again: the worker takes it at once." },
            Some("approved") => p.notice role="status" { "Approved: the worker moves the service." },
            _ => {},
        }
    }
}

fn action_button(action: String, csrf: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (label) }
        }
    }
}

pub fn upgrades(
    found: &[StoredApplication],
    chosen: Option<&str>,
    csrf: &str,
    done: Option<&str>,
) -> Markup {
    html! {
        (done_notice(done))
        (work_filter("/admin/upgrades", UpgradeStatus::NAMES, UpgradeStatus::IN_FLIGHT, chosen))
        @if found.is_empty() { p { "No upgrades." } } @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Upgrade" } th scope="col" { "Instance" } th scope="col" { "Service" } th scope="col" { "Client" } th scope="col" { "Status" } th scope="col" { "Next step" } th scope="col" { "Error" } th scope="col" { "" } } }
                tbody {
                    @for upgrade in found {
                        tr {
                            td { "#" (upgrade.id) " (WHMCS " (upgrade.upgrade_type) " #" (upgrade.upgrade_id) ")" }
                            td { (upgrade.instance) }
                            td { (upgrade.service_id) }
                            td { (upgrade.client_id) }
                            td { (status(&upgrade.status)) }
                            td { (UpgradeStatus::parse(&upgrade.status).map_or("–", UpgradeStatus::next_step)) }
                            td { (upgrade.last_error.as_deref().unwrap_or("")) }
                            td { @if UpgradeStatus::parse(&upgrade.status) == Some(UpgradeStatus::Failed) { (action_button(format!("/admin/upgrades/{}/retry", upgrade.id), csrf, "Retry")) } }
                        }
                    }
                }
            } }
        }
    }
}

pub fn cancellations(
    found: &[StoredCancellation],
    chosen: Option<&str>,
    csrf: &str,
    done: Option<&str>,
) -> Markup {
    html! {
        (done_notice(done))
        (work_filter("/admin/cancellations", CancellationStatus::NAMES, CancellationStatus::IN_FLIGHT, chosen))
        @if found.is_empty() { p { "No cancellations." } } @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Cancellation" } th scope="col" { "Instance" } th scope="col" { "Subject" } th scope="col" { "Client" } th scope="col" { "Type" } th scope="col" { "Effective" } th scope="col" { "Status" } th scope="col" { "Next step" } th scope="col" { "Error" } th scope="col" { "" } } }
                tbody {
                    @for cancellation in found {
                        tr {
                            td { "#" (cancellation.id) }
                            td { (cancellation.instance) }
                            td { (cancellation.subject_kind) " #" (cancellation.subject_id) }
                            td { (cancellation.client_id) }
                            td { (cancellation.cancel_type.as_deref().unwrap_or("–")) }
                            td { (cancellation.effective_date.as_deref().unwrap_or("–")) }
                            td { (status(&cancellation.status)) }
                            td { (CancellationStatus::parse(&cancellation.status).map_or("–", CancellationStatus::next_step)) }
                            td { (cancellation.last_error.as_deref().unwrap_or("")) }
                            td { @if CancellationStatus::parse(&cancellation.status) == Some(CancellationStatus::Failed) { (action_button(format!("/admin/cancellations/{}/retry", cancellation.id), csrf, "Retry")) } }
                        }
                    }
                }
            } }
        }
    }
}

pub fn transfers(
    found: &[StoredTransfer],
    chosen: Option<&str>,
    csrf: &str,
    done: Option<&str>,
) -> Markup {
    html! {
        (done_notice(done))
        (work_filter("/admin/transfers", TransferStatus::NAMES, TransferStatus::IN_FLIGHT, chosen))
        @if found.is_empty() { p { "No transfers." } } @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Transfer" } th scope="col" { "Instance" } th scope="col" { "Service" } th scope="col" { "From client" } th scope="col" { "To client" } th scope="col" { "Expires" } th scope="col" { "Status" } th scope="col" { "Next step" } th scope="col" { "Subscriptions to cancel at the gateway" } th scope="col" { "Error" } th scope="col" { "" } } }
                tbody {
                    @for transfer in found {
                        tr {
                            td { "#" (transfer.id) }
                            td { (transfer.instance) }
                            td { (transfer.service_name) " " (transfer.service_domain) " (#" (transfer.service_id) ")" }
                            td { (transfer.owner_client_id) }
                            td { (transfer.recipient_client_id) }
                            td { (transfer.expires_at) }
                            td { (status(&transfer.status)) }
                            td { (transfer_next_step(transfer)) }
                            td.bad { (ClearedSubscription::describe(&transfer.subscriptions_cleared)) }
                            td { (transfer.last_error.as_deref().unwrap_or("")) }
                            td { @if transfer.status == "accepted" && transfer.approval == "staff" { (action_button(format!("/admin/transfers/{}/approve", transfer.id), csrf, "Approve")) } }
                        }
                    }
                }
            } }
        }
    }
}

/// Each install's last diagnostics report, as its addon's Diagnostics tab
/// sent it.
pub fn diagnostics(reports: &[StoredReport]) -> Markup {
    html! {
        p.muted { "Each install's last report from its addon's Diagnostics tab (Addons → puente → Diagnostics in WHMCS), with the service's own checks." }
        @if reports.is_empty() { p { "No report yet: open the addon's Diagnostics tab in WHMCS and run it." } }
        @for report in reports {
            section.card {
                h2 { "Instance " (report.instance) }
                p {
                    (report.at) " · addon " (report.addon_version) " · WHMCS " (report.whmcs_version) " · PHP " (report.php_version) " · "
                    span.pass { (report.passed) " pass" } ", " span.warn { (report.warned) " warn" } ", " span.fail { (report.failed) " fail" }
                }
                div.scroll { table {
                    thead { tr { th scope="col" { "Check" } th scope="col" { "Result" } th scope="col" { "Found" } th scope="col" { "What to do" } } }
                    tbody {
                        @for row in &report.rows {
                            tr {
                                td { (row.title) }
                                td { span class=(format!("status {}", verdict(row.status))) { (verdict(row.status)) } }
                                td { (row.detail) }
                                td { (row.fix) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// The newest messages clients sent, with the alert each answers and what
/// it asks for.
pub fn replies(received: &[StoredInbound]) -> Markup {
    html! {
        p.muted { "What clients wrote to the instances' WhatsApp numbers, newest first, with the alert each answers and what puente did with it. A client is known by the alert their message answers, or when alerts of exactly one client went to that number; any other number is never guessed onto a client, and its messages are only kept here. STOP, BAJA, NO… stop alerts and START, ALTA, SÍ… have them again, written to the client's custom field in WHMCS and confirmed to the client; anything else becomes a WHMCS ticket (or joins the conversation's open one) when a support department is set." }
        @if received.is_empty() { p { "No message yet." } }
        @else {
            div.scroll { table {
                thead { tr { th scope="col" { "Received" } th scope="col" { "Instance" } th scope="col" { "From" } th scope="col" { "Client" } th scope="col" { "Message" } th scope="col" { "Asks" } th scope="col" { "Answers" } th scope="col" { "Done" } } }
                tbody {
                    @for message in received {
                        tr {
                            td { (message.received_at) }
                            td { (message.instance) }
                            td { "+" (message.from) @if let Some(name) = &message.profile_name { br; span.muted { (name) } } }
                            td { @match message.client_id { Some(client) => { "#" (client) }, None => span.warn { "unknown" } } }
                            td { @match &message.text { Some(text) => (text), None => span.muted { "(" (message.kind) ")" } } }
                            td { span class=(format!("status {}", message.intent)) { (message.intent.replace('_', " ")) } }
                            td { @match message.message_id { Some(id) => a href=(format!("/admin/messages/{id}")) { "#" (id) }, None => "" } }
                            td {
                                span class=(format!("status {}", inbound_status(&message.handling))) { (message.handling) }
                                @if let Some(by) = &message.matched_by { " " span.muted { "(client by " (by) ")" } }
                                @if let Some(outcome) = &message.outcome { br; span.muted { (outcome) } }
                                @if let Some(ticket) = message.ticket_id { br; "ticket id " (ticket) }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// The status class of an inbound message's handling.
fn inbound_status(handling: &str) -> &'static str {
    match handling {
        "done" => "sent",
        "failed" => "dead",
        "due" => "planned",
        _ => "skipped",
    }
}

/// One instance's hook points, each with when it last arrived, and where
/// its reconciliation stands.
pub struct HooksOf {
    pub instance: String,
    pub arrivals: Vec<(String, Option<jiff::Timestamp>)>,
    pub reconciled: Option<crate::store::Reconciliation>,
}

/// Each instance's hook points: what reads each, and when it last arrived.
pub fn hooks(handled: &[(&'static str, Vec<&'static str>)], seen: &[HooksOf]) -> Markup {
    html! {
        p.muted { "Every WHMCS hook point a rule reads, and when it last reached puente from each install. WHMCS does not fire every hook for every way a thing happens (a payment added through its API, an invoice cancelled through its API): a hook that should have come and never did shows as never. The reconciliation reads the invoices paid and cancelled through WHMCS's API every reconcile_minutes and alerts those whose hook never came, once." }
        @for HooksOf { instance, arrivals, reconciled } in seen {
            section.card {
                h2 { "Instance " (instance) }
                p {
                    "Reconciliation: "
                    @match reconciled {
                        Some(found) => {
                            "last pass " (when(jiff::Timestamp::from_millisecond(found.passed_at_ms).ok()))
                            " — " (found.last_result.as_deref().unwrap_or(""))
                        },
                        None => span.muted { "no pass yet (off, or WHMCS's API is not set up)" },
                    }
                }
                @let never = arrivals.iter().filter(|(_, at)| at.is_none()).count();
                p {
                    @if never == 0 { span.pass { "every hook has arrived" } }
                    @else { span.warn { (never) " of " (arrivals.len()) " never arrived" } }
                }
                div.scroll { table {
                    thead { tr { th scope="col" { "Hook" } th scope="col" { "Read by" } th scope="col" { "Last arrived" } } }
                    tbody {
                        @for (hook, at) in arrivals {
                            tr {
                                td { code { (hook) } }
                                td { (handled.iter().find(|(name, _)| name == hook).map(|(_, rules)| rules.join(", ")).unwrap_or_default()) }
                                td {
                                    @match at {
                                        Some(at) => (when(Some(*at))),
                                        None => span.warn { "never" },
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// One instance on the templates page.
pub struct TemplatesOf {
    pub instance: String,
    /// Its WhatsApp Business Account; `None`: its templates are not checked.
    pub account: Option<String>,
    pub found: Option<InstanceCheck>,
}

/// Each account's templates as the last reading found them: what is not
/// ready first, with what to fix.
pub fn templates(instances: &[TemplatesOf]) -> Markup {
    html! {
        p.muted { "Each alert's WhatsApp template in each language, as the last reading of the instance's WhatsApp Business Account found it (at start-up and every hour; " code { "puente templates check" } " reads it now). An alert whose template is not ready is not sent: it waits, with the reason, until the template is fixed." }
        @for instance in instances {
            section.card {
                h2 { "Instance " (instance.instance) }
                @match (&instance.account, &instance.found) {
                    (None, _) => {
                        p { "Not checked: set " code { "whatsapp_business_account_id" } " (" code { "PUENTE_WHATSAPP_BUSINESS_ACCOUNT_ID" } ") and " code { "whatsapp_mode = cloud" } " for its templates to be read before any is sent." }
                    }
                    (Some(account), found) => {
                        @let found = found.clone().unwrap_or_default();
                        @if let Some((at, reason)) = &found.failed {
                            p role="alert" { span.fail { "Last reading failed" } " (" (when(Some(*at))) "): " (reason) }
                        }
                        @match &found.checked {
                            None => { p { "Account " (account) ": not read yet. Until a reading works, nothing is held back." } }
                            Some((at, checks)) => {
                                @let problems: Vec<_> = checks.iter().filter_map(|check| check.problem().map(|problem| (check, problem))).collect();
                                p {
                                    "Account " (account) ", read " (when(Some(*at))) ": "
                                    @if problems.is_empty() { span.pass { "all " (checks.len()) " templates ready" } }
                                    @else { span.fail { (problems.len()) " of " (checks.len()) " not ready" } }
                                }
                                div.scroll { table {
                                    thead { tr { th scope="col" { "Alert" } th scope="col" { "Template" } th scope="col" { "Language" } th scope="col" { "State" } th scope="col" { "What to fix" } } }
                                    tbody {
                                        @for (check, problem) in &problems {
                                            tr {
                                                td { (check.kind.as_str()) }
                                                td { code { (check.template) } }
                                                td { (check.language) }
                                                td { span class=(format!("status {}", check.verdict.state())) { (check.verdict.state().replace('_', " ")) } }
                                                td { (problem) }
                                            }
                                        }
                                        @for check in checks.iter().filter(|check| check.problem().is_none()) {
                                            tr {
                                                td { (check.kind.as_str()) }
                                                td { code { (check.template) } }
                                                td { (check.language) }
                                                td { span class="status ready" { "ready" } }
                                                td {}
                                            }
                                        }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn verdict(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_store_is_escaped() {
        let page = layout(
            "x",
            "",
            None,
            html! { (status("<script>alert(1)</script>")) },
        )
        .into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }
}
