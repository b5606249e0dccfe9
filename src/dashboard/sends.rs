//! Alerts staff send by hand: pick a client (by id, email or name) or the
//! record an alert is about, see the exact message read from WHMCS, and
//! send it; or paste a list of client ids for one alert. A send is an
//! event of its own (`puente.send`, with who sent it) whose alerts the
//! outbox sends like any other, paced by the number's limits; what is not
//! sent yet can be cancelled.
//!
//! Here are the pages and what the forms say; the handlers are in
//! `dashboard/mod.rs`, like every other page's.

use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::alerts::{self, AlertKind};
use crate::domain::ids::InstanceName;

/// Clients a name or email search lists at most.
pub const MATCHES: u32 = 25;
/// Sends the page lists, newest first.
pub const SENDS_SHOWN: usize = 50;

#[derive(Debug, Deserialize)]
pub struct SendQuery {
    pub instance: Option<String>,
    pub kind: Option<String>,
    /// A client id, email or name; or the id of the record the alert is
    /// about.
    pub to: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    pub csrf: String,
    pub instance: String,
    pub kind: String,
    /// One id, or a list (commas, spaces or lines between them).
    pub targets: String,
}

#[derive(Debug, Deserialize)]
pub struct SendsQuery {
    pub done: Option<String>,
}

/// Who a session is, as the audit shows it.
pub fn operator_label(operator: &str) -> String {
    match super::session::whmcs_admin_of(operator) {
        Some(id) => format!("WHMCS admin #{id}"),
        None => "the admin token".to_owned(),
    }
}

/// The alert kind of a form, if it is one sent by hand.
pub fn kind_named(text: &str) -> Result<AlertKind, String> {
    AlertKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == text && alerts::manual_target(*kind).is_some())
        .ok_or_else(|| format!("`{text}` is not an alert sent by hand"))
}

/// The ids of a pasted list.
pub fn ids(text: &str) -> Result<Vec<u64>, String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("`{part}` is not a WHMCS id"))
        })
        .collect()
}

/// What the form found for `to`: the record to preview, or the clients a
/// search matched (none or several: staff pick).
pub enum Found {
    Target(u64),
    Clients(Vec<crate::whmcs::ClientSummary>),
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

pub fn send_page(
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

pub fn sends_page(rows: &[SendRow], csrf: &str, done: Option<&str>) -> Markup {
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
