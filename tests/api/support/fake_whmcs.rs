//! A WHMCS that remembers, for the rules that change it: services, clients,
//! addons, domains, invoices and cancellation requests, every API call made
//! to it, and the addon's signed `action.php` (`MoveService`) moving
//! services between clients on its own state, as the addon would.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use puente::domain::invoices::{self, ServiceLines, UpgradeRow};

use super::fixtures::fixture;

/// WHMCS API actions that move money; none may ever be called.
pub(crate) const MONEY: [&str; 8] = [
    "AddCredit",
    "ApplyCredit",
    "AddTransaction",
    "UpdateInvoice",
    "AddInvoicePayment",
    "CreateInvoice",
    "CancelOrder",
    "CancelAndRefundOrder",
];

/// Actions that change WHMCS.
pub(crate) const CHANGES: [&str; 4] = [
    "AddCancelRequest",
    "ModuleTerminate",
    "UpdateClientProduct",
    "UpdateClientDomain",
];

#[derive(Clone)]
pub(crate) struct Service {
    pub client: u64,
    pub status: &'static str,
    pub cycle: &'static str,
    pub next_due: Date,
    /// Has a provisioning module (ModuleTerminate works).
    pub module: bool,
}

#[derive(Clone)]
pub(crate) struct Invoice {
    pub id: u64,
    pub client: u64,
    pub status: &'static str,
    pub due: Date,
    /// (type, relid) of each line.
    pub lines: Vec<(&'static str, u64)>,
}

/// A support ticket (`tbltickets`) and what was written to it.
#[derive(Clone, Debug)]
pub(crate) struct Ticket {
    pub id: u64,
    pub client: u64,
    pub department: u64,
    pub subject: String,
    pub status: String,
    /// The opening message, then each reply.
    pub messages: Vec<String>,
}

/// A client account: its email, status and the WHMCS 8 user who owns it.
#[derive(Clone)]
pub(crate) struct Client {
    pub email: &'static str,
    pub status: &'static str,
    pub owner_user: u64,
}

#[derive(Default)]
pub(crate) struct State {
    pub services: BTreeMap<u64, Service>,
    /// id -> (client, status, renewal off)
    pub domains: BTreeMap<u64, (u64, &'static str, bool)>,
    pub invoices: Vec<Invoice>,
    pub cancel_requests: BTreeMap<u64, String>,
    pub clients: BTreeMap<u64, Client>,
    /// addon id -> service id
    pub addons: BTreeMap<u64, u64>,
    /// Every API call: (action, form).
    pub calls: Vec<(String, BTreeMap<String, String>)>,
    /// Transitions of a service to Terminated, by whom.
    pub terminations: Vec<(u64, &'static str)>,
    /// The next this many API calls get HTTP 503 without being carried out.
    pub down: usize,
    /// The next call of this action gets HTTP 503 with this body, without
    /// being carried out.
    pub fail_next: Option<(&'static str, Value)>,
    /// `tblupgrades` rows: (id, type, relid).
    pub upgrades: Vec<(u64, &'static str, u64)>,
    /// Gateway subscriptions: ("service" | "addon" | "domain", id) -> id at the gateway.
    pub subscriptions: BTreeMap<(&'static str, u64), &'static str>,
    /// The next ModuleTerminate is carried out but its answer is lost.
    pub lose_next_terminate_answer: bool,
    /// ModuleTerminate fails with the module's message.
    pub refuse_terminate: Option<&'static str>,
    /// Every `action.php` request: (webhook-id, body).
    pub actions_asked: Vec<(String, Value)>,
    /// Services moved by `MoveService`: (service, from, to).
    pub moves: Vec<(u64, u64, u64)>,
    /// The next this many `action.php` requests get HTTP 503.
    pub addon_down: usize,
    /// The next move is carried out but its answer is lost.
    pub lose_next_move_answer: bool,
    /// Each known client gets a name and phone number of its own (the crash
    /// test tells alerts apart by their request bodies).
    pub distinct_clients: bool,
    /// Recurring amounts `UpdateClientProduct` set, by service (100.00
    /// otherwise).
    pub recurring: BTreeMap<u64, String>,
    /// Client custom field values `UpdateClient` set: client -> field -> value.
    pub custom_fields: BTreeMap<u64, BTreeMap<u64, String>>,
    pub tickets: Vec<Ticket>,
    /// When invoices were paid or cancelled (`Y-m-d H:i:s`, UTC here), by
    /// invoice; an invoice's date is its due date in this WHMCS.
    pub paid_at: BTreeMap<u64, String>,
    pub cancelled_at: BTreeMap<u64, String>,
}

/// The `customfields` parameter as WHMCS reads it: base64 of a PHP
/// serialized array of field id => string; a length that is not the
/// value's byte length is what PHP's `unserialize` refuses.
fn custom_fields(param: &str) -> Result<BTreeMap<u64, String>, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(param)
        .map_err(|error| format!("not base64: {error}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let (head, mut rest) = text
        .strip_prefix("a:")
        .and_then(|rest| rest.split_once(":{"))
        .ok_or("not a serialized array")?;
    let count: usize = head.parse().map_err(|_| "bad count")?;
    let mut fields = BTreeMap::new();
    while let Some(item) = rest.strip_prefix("i:") {
        let (id, after) = item.split_once(";s:").ok_or("bad key")?;
        let (length, after) = after.split_once(":\"").ok_or("bad string")?;
        let length: usize = length.parse().map_err(|_| "bad length")?;
        let value = after
            .get(..length)
            .ok_or("string shorter than its length")?;
        rest = after[length..]
            .strip_prefix("\";")
            .ok_or("a length that is not the value's byte length")?;
        fields.insert(id.parse().map_err(|_| "bad id")?, value.to_owned());
    }
    (rest == "}" && fields.len() == count)
        .then_some(fields)
        .ok_or_else(|| format!("bad array end or count: {text}"))
}

/// A WHMCS that remembers: services, domains, invoices and cancellation
/// requests, and every call made to it.
#[derive(Clone, Default)]
pub(crate) struct FakeWhmcs(Arc<Mutex<State>>);

impl State {
    /// The ids of a service's addons.
    fn addons_of(&self, service: u64) -> Vec<u64> {
        self.addons
            .iter()
            .filter(|(_, of)| **of == service)
            .map(|(id, _)| *id)
            .collect()
    }
}

impl FakeWhmcs {
    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("fake WHMCS state")
    }

    /// What the daily cron does with requested cancellations: terminates
    /// those still active (WHMCS's "Immediate" on its next run).
    pub(crate) fn cron_terminates(&self, service: u64) {
        let mut state = self.state();
        if state.cancel_requests.contains_key(&service)
            && let Some(found) = state.services.get_mut(&service)
            && found.status == "Active"
        {
            found.status = "Terminated";
            state.terminations.push((service, "cron"));
        }
    }

    pub(crate) fn actions(&self) -> Vec<String> {
        self.state()
            .calls
            .iter()
            .map(|(action, _)| action.clone())
            .collect()
    }

    pub(crate) fn count(&self, action: &str) -> usize {
        self.actions().iter().filter(|a| *a == action).count()
    }

    pub(crate) fn changes(&self) -> Vec<String> {
        self.actions()
            .into_iter()
            .filter(|action| CHANGES.contains(&action.as_str()))
            .collect()
    }

    pub(crate) fn assert_no_money_moved(&self) {
        for action in self.actions() {
            assert!(
                !MONEY.contains(&action.as_str()),
                "{action} refunds, credits or invoices"
            );
        }
        for (action, form) in &self.state().calls {
            if action == "UpdateClientProduct" {
                for field in ["recurringamount", "firstpaymentamount", "nextduedate"] {
                    assert!(!form.contains_key(field), "{action} changed {field}");
                }
            }
        }
    }
}

fn success(fields: Value) -> ResponseTemplate {
    let mut body = json!({"result": "success"});
    if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
        body.extend(fields.clone());
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn error(message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"result": "error", "message": message}))
}

impl Respond for FakeWhmcs {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request
            .url
            .path()
            .ends_with("/modules/addons/puente/action.php")
        {
            return self.addon_action(request);
        }
        let form: BTreeMap<String, String> =
            serde_urlencoded::from_bytes(&request.body).expect("form body");
        let action = form.get("action").cloned().unwrap_or_default();
        let mut state = self.state();
        state.calls.push((action.clone(), form.clone()));
        if state
            .fail_next
            .as_ref()
            .is_some_and(|(failing, _)| *failing == action)
        {
            let (_, body) = state.fail_next.take().expect("a failure");
            return ResponseTemplate::new(503).set_body_json(body);
        }
        if state.down > 0 {
            state.down -= 1;
            return ResponseTemplate::new(503);
        }
        let number = |key: &str| {
            form.get(key)
                .and_then(|value| value.parse::<u64>().ok())
                .unwrap_or_default()
        };
        match action.as_str() {
            "GetClientsDetails" => {
                // The fixture's client, as the client asked for.
                let id = number("clientid");
                let mut answer = fixture("api-GetClientsDetails");
                if let Some(client) = state.clients.get(&id) {
                    let details = &mut answer["client"];
                    for key in ["id", "client_id", "userid"] {
                        details[key] = json!(id);
                    }
                    details["owner_user_id"] = json!(client.owner_user);
                    details["status"] = json!(client.status);
                    details["email"] = json!(client.email);
                    if state.distinct_clients {
                        details["firstname"] = json!(format!("Cliente {id}"));
                        details["phonenumber"] = json!(format!("803{:07}", id % 10_000_000));
                    }
                } else if !state.clients.is_empty() {
                    return error("Client Not Found");
                }
                for (field, value) in state.custom_fields.get(&id).into_iter().flatten() {
                    let fields = answer["client"]["customfields"]
                        .as_array_mut()
                        .expect("customfields");
                    fields.retain(|known| known["id"] != json!(field));
                    fields.push(json!({"id": field, "value": value}));
                }
                ResponseTemplate::new(200).set_body_json(answer)
            }
            "GetClients" => {
                let search = form
                    .get("search")
                    .cloned()
                    .unwrap_or_default()
                    .to_lowercase();
                // A prefix of the email, either name or the company, as
                // WHMCS's search matches (reference/whmcs.md, GetClients).
                let clients: Vec<Value> = state
                    .clients
                    .iter()
                    .map(|(id, client)| {
                        let first = if state.distinct_clients {
                            format!("Cliente {id}")
                        } else {
                            "Amina".to_owned()
                        };
                        (id, client, first)
                    })
                    .filter(|(_, client, first)| {
                        [
                            client.email,
                            first.as_str(),
                            "Okafor",
                            "Okafor Design Studio",
                        ]
                        .iter()
                        .any(|text| text.to_lowercase().starts_with(&search))
                    })
                    .map(|(id, client, first)| {
                        json!({"id": id.to_string(), "firstname": first, "lastname": "Okafor",
                               "companyname": "Okafor Design Studio",
                               "email": client.email, "status": client.status})
                    })
                    .collect();
                success(json!({"clients": {"client": clients}}))
            }
            "GetClientsAddons" => {
                let service = number("serviceid");
                let addons: Vec<Value> = state
                    .addons
                    .iter()
                    .filter(|(_, of)| **of == service)
                    .map(|(id, of)| json!({"id": id.to_string(), "serviceid": of.to_string()}))
                    .collect();
                success(json!({"addons": {"addon": addons}}))
            }
            "GetClientsProducts" => {
                let id = number("serviceid");
                let products: Vec<Value> = state
                    .services
                    .get(&id)
                    .filter(|service| {
                        form.get("clientid")
                            .is_none_or(|client| *client == service.client.to_string())
                    })
                    .map(|service| {
                        let recurring = state.recurring.get(&id).map_or("100.00", String::as_str);
                        json!({"id": id.to_string(), "clientid": service.client.to_string(),
                               "pid": "12", "name": "Business Hosting",
                               "domain": "okafordesign.example", "status": service.status,
                               "billingcycle": service.cycle,
                               "nextduedate": service.next_due.to_string(),
                               "recurringamount": recurring})
                    })
                    .into_iter()
                    .collect();
                success(json!({"products": {"product": products}}))
            }
            "GetClientsDomains" => {
                let id = number("domainid");
                let domains: Vec<Value> = state
                    .domains
                    .get(&id)
                    .map(|(client, status, off)| {
                        json!({"id": id, "userid": client, "domainname": "okafor-studio.example",
                               "status": status, "donotrenew": if *off { "1" } else { "0" }})
                    })
                    .into_iter()
                    .collect();
                success(json!({"domains": {"domain": domains}}))
            }
            "GetInvoices" => {
                let (client, status) = (form.get("userid"), form.get("status").cloned());
                let limit = form
                    .get("limitnum")
                    .and_then(|text| text.parse::<usize>().ok())
                    .unwrap_or(25);
                let start = number("limitstart") as usize;
                let mut matching: Vec<&Invoice> = state
                    .invoices
                    .iter()
                    .filter(|invoice| client.is_none_or(|c| *c == invoice.client.to_string()))
                    .filter(|invoice| status.as_deref().is_none_or(|s| s == invoice.status))
                    .collect();
                // By due date or (the same here) invoice date, newest first.
                matching.sort_by_key(|invoice| std::cmp::Reverse(invoice.due));
                let zero = "0000-00-00 00:00:00".to_owned();
                let invoices: Vec<Value> = matching
                    .iter()
                    .skip(start)
                    .take(limit)
                    .map(|invoice| {
                        json!({"id": invoice.id, "userid": invoice.client,
                               "status": invoice.status, "date": invoice.due.to_string(),
                               "duedate": invoice.due.to_string(),
                               "datepaid": state.paid_at.get(&invoice.id).unwrap_or(&zero),
                               "date_cancelled": state.cancelled_at.get(&invoice.id).unwrap_or(&zero),
                               "updated_at": "2026-01-01 00:00:00"})
                    })
                    .collect();
                success(
                    json!({"totalresults": matching.len(), "numreturned": invoices.len(),
                               "invoices": {"invoice": invoices}}),
                )
            }
            "GetInvoice" => {
                let id = number("invoiceid");
                match state.invoices.iter().find(|invoice| invoice.id == id) {
                    Some(invoice) => success(json!({
                        "invoiceid": id.to_string(), "userid": invoice.client.to_string(),
                        "status": invoice.status, "duedate": invoice.due.to_string(),
                        "total": "100.00", "balance": "100.00",
                        "items": {"item": invoice.lines.iter().enumerate().map(|(n, (kind, relid))| {
                            json!({"id": n + 1, "type": kind, "relid": relid.to_string(),
                                   "description": "line", "amount": "100.00"})
                        }).collect::<Vec<_>>()},
                    })),
                    None => error("Invoice ID Not Found"),
                }
            }
            "AddCancelRequest" => {
                let id = number("serviceid");
                if !state.services.contains_key(&id) {
                    return error("Service ID Not Found");
                }
                if state.cancel_requests.contains_key(&id) {
                    return error("Existing Cancellation Request Exists");
                }
                let kind = form.get("type").cloned().unwrap_or_default();
                state.cancel_requests.insert(id, kind);
                success(json!({"serviceid": id, "userid": 1842}))
            }
            "ModuleTerminate" => {
                let id = number("serviceid");
                let lose = std::mem::take(&mut state.lose_next_terminate_answer);
                let refuse = state.refuse_terminate;
                let Some(service) = state.services.get_mut(&id) else {
                    return error("Service ID not found");
                };
                if !service.module {
                    return error("Service not assigned to a module");
                }
                if let Some(message) = refuse {
                    return error(message);
                }
                if service.status == "Terminated" {
                    return error("Account does not exist on the server");
                }
                service.status = "Terminated";
                state.terminations.push((id, "puente"));
                if lose {
                    ResponseTemplate::new(504)
                } else {
                    success(json!({}))
                }
            }
            "UpdateClientProduct" => {
                let id = number("serviceid");
                let Some(service) = state.services.get_mut(&id) else {
                    return error("Service ID Not Found");
                };
                if let Some(due) = form.get("nextduedate").and_then(|text| text.parse().ok()) {
                    service.next_due = due;
                }
                if let Some(cycle) = form.get("billingcycle") {
                    service.cycle = Box::leak(cycle.clone().into_boxed_str());
                }
                let terminated = form.get("status").map(String::as_str) == Some("Terminated")
                    && service.status != "Terminated";
                if terminated {
                    service.status = "Terminated";
                    state.terminations.push((id, "puente"));
                }
                if let Some(amount) = form.get("recurringamount") {
                    state.recurring.insert(id, amount.clone());
                }
                success(json!({"serviceid": id}))
            }
            "UpdateClientDomain" => {
                let id = number("domainid");
                let Some(domain) = state.domains.get_mut(&id) else {
                    return error("Domain ID Not Found");
                };
                if form.get("donotrenew").map(String::as_str) == Some("1") {
                    domain.2 = true;
                }
                success(json!({"domainid": id}))
            }
            "UpdateClient" => {
                let id = number("clientid");
                if !state.clients.is_empty() && !state.clients.contains_key(&id) {
                    return error("Client ID Not Found");
                }
                if let Some(param) = form.get("customfields") {
                    match custom_fields(param) {
                        Ok(fields) => state.custom_fields.entry(id).or_default().extend(fields),
                        Err(why) => return error(&format!("customfields: {why}")),
                    }
                }
                success(json!({"clientid": id}))
            }
            "OpenTicket" => {
                let (client, department) = (number("clientid"), number("deptid"));
                let (Some(subject), Some(message)) = (form.get("subject"), form.get("message"))
                else {
                    return error("Subject and message are required");
                };
                if department == 0 {
                    return error("Department ID not found");
                }
                let id = 500 + state.tickets.len() as u64;
                state.tickets.push(Ticket {
                    id,
                    client,
                    department,
                    subject: subject.clone(),
                    status: "Open".into(),
                    messages: vec![message.clone()],
                });
                success(json!({"id": id.to_string(), "tid": format!("WA-{id}"), "c": "KPqH7yG3"}))
            }
            "AddTicketReply" => {
                let id = number("ticketid");
                let message = form.get("message").cloned().unwrap_or_default();
                match state.tickets.iter_mut().find(|ticket| ticket.id == id) {
                    Some(ticket) => {
                        ticket.messages.push(message);
                        ticket.status = "Customer-Reply".into();
                        success(json!({}))
                    }
                    None => error("Ticket ID Not Found"),
                }
            }
            "GetTicket" => {
                let id = number("ticketid");
                match state.tickets.iter().find(|ticket| ticket.id == id) {
                    Some(ticket) => success(json!({
                        "ticketid": ticket.id.to_string(), "tid": format!("WA-{}", ticket.id),
                        "userid": ticket.client.to_string(), "deptid": ticket.department.to_string(),
                        "subject": ticket.subject, "status": ticket.status,
                    })),
                    None => error("Ticket ID Not Found"),
                }
            }
            // A line in the client's log: every call is kept in `calls`.
            "LogActivity" => success(json!({})),
            other => error(&format!("the fake WHMCS has no {other}")),
        }
    }
}

pub(crate) fn today() -> Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// Noon UTC of a day: what the worker is driven with.
pub(crate) fn noon(day: Date) -> jiff::Timestamp {
    jiff::tz::TimeZone::UTC
        .to_timestamp(day.at(12, 0, 0, 0))
        .expect("a day")
}

impl FakeWhmcs {
    /// The addon's `action.php`: checks the signature as the addon does,
    /// then `MoveService` on this WHMCS's state, with the addon's checks
    /// and idempotence.
    fn addon_action(&self, request: &Request) -> ResponseTemplate {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let id = header("webhook-id");
        let secrets = [super::app::SECRET
            .parse::<puente::signature::HookSecret>()
            .expect("secret")];
        let (timestamp, signature) = (header("webhook-timestamp"), header("webhook-signature"));
        let signed = puente::signature::verify(
            &secrets,
            puente::signature::SignatureHeaders {
                id: Some(&id),
                timestamp: Some(&timestamp),
                signature: Some(&signature),
            },
            &request.body,
            jiff::Timestamp::now().as_second(),
            300,
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut state = self.state();
        state.actions_asked.push((id.clone(), body.clone()));
        if signed.is_err() {
            return ResponseTemplate::new(401).set_body_json(
                json!({"result": "error", "code": "invalid_signature", "message": "not signed"}),
            );
        }
        if state.addon_down > 0 {
            state.addon_down -= 1;
            return ResponseTemplate::new(503);
        }
        let data = &body["data"];
        let number = |key: &str| data[key].as_u64().unwrap_or_default();
        match body["type"].as_str().unwrap_or_default() {
            "Ping" => success(json!({"pong": true, "shim_version": "0.1.0"})),
            "ServiceFacts" => {
                let service = number("service_id");
                let addons = state.addons_of(service);
                let upgrades: Vec<Value> = state
                    .upgrades
                    .iter()
                    .filter(|(_, kind, relid)| {
                        *relid == service || (*kind == "addon" && addons.contains(relid))
                    })
                    .map(|(id, kind, relid)| json!({"id": id, "type": kind, "relid": relid}))
                    .collect();
                let request = state.cancel_requests.get(&service).map(
                    |kind| json!({"id": service, "type": kind, "date": "2026-12-01 10:00:00"}),
                );
                success(json!({"service_id": service, "upgrades": upgrades,
                               "cancellation_request": request}))
            }
            "MoveService" => {
                let (service, from, to) = (
                    number("service_id"),
                    number("from_client_id"),
                    number("to_client_id"),
                );
                let domain = data["domain_id"].as_u64();
                drop(state);
                self.move_service(&id, number("transfer_id"), service, from, to, domain)
            }
            other => refuse(400, "unknown_action", &format!("no action {other}")),
        }
    }

    /// `MoveService` with the addon's checks and idempotence; the move
    /// clears the gateway subscriptions of what moves.
    fn move_service(
        &self,
        id: &str,
        transfer: u64,
        service: u64,
        from: u64,
        to: u64,
        domain: Option<u64>,
    ) -> ResponseTemplate {
        let mut state = self.state();
        if id != format!("move_{transfer}") {
            return refuse(400, "invalid_request", "not this transfer's id");
        }
        let Some(current) = state.services.get(&service).cloned() else {
            return refuse(409, "not_found", "no such service");
        };
        if current.client == to {
            return success(json!({"moved": false, "subscriptions_cleared": []}));
        }
        if current.client != from {
            return refuse(409, "not_owner", "another client owns it");
        }
        if current.status != "Active" {
            return refuse(409, "service_not_active", "not active");
        }
        let addons = state.addons_of(service);
        // The addon checks the open-invoice rule that the service does.
        let upgrades: Vec<UpgradeRow> = state
            .upgrades
            .iter()
            .map(|(id, kind, relid)| UpgradeRow {
                id: *id,
                kind: (*kind).to_owned(),
                relid: *relid,
            })
            .collect();
        let lines = ServiceLines::new(service, addons.clone(), domain, &upgrades);
        let unpaid = invoices::open_of(
            &lines,
            state.invoices.iter().map(|invoice| {
                let items = invoice
                    .lines
                    .iter()
                    .map(|(kind, relid)| (*kind, Some(*relid)))
                    .collect();
                (invoice.id, invoice.status, items)
            }),
        );
        if !unpaid.is_empty() {
            return refuse(409, "unpaid_invoices", "unpaid invoices carry lines of it");
        }
        state.services.get_mut(&service).expect("service").client = to;
        state.moves.push((service, from, to));
        let mut moving: Vec<(&'static str, u64)> = vec![("service", service)];
        moving.extend(addons.iter().map(|addon| ("addon", *addon)));
        moving.extend(domain.map(|domain| ("domain", domain)));
        let cleared: Vec<Value> = moving
            .into_iter()
            .filter_map(|key| {
                state.subscriptions.remove(&key).map(
                    |subscription| json!({"kind": key.0, "id": key.1, "subscription": subscription}),
                )
            })
            .collect();
        if std::mem::take(&mut state.lose_next_move_answer) {
            return ResponseTemplate::new(504);
        }
        success(
            json!({"moved": true, "addons": addons.len(), "ssl_orders": 0,
                       "domain_moved": domain.is_some(), "subscriptions_cleared": cleared}),
        )
    }
}

fn refuse(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"result": "error", "code": code, "message": message}))
}

/// The fake on a port: every POST, API or `action.php`.
pub(crate) async fn serve(fake: &FakeWhmcs) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    server
}
