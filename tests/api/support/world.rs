//! An app wired to a fake WHMCS, and the events and reads the rule tests
//! share: firing a hook, reading the messages an event planned, the
//! upgrade row the addon sends.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::app::*;
use super::fixtures::fixture;

/// A fake WHMCS answering every action the outbox uses; `client` is the
/// GetClientsDetails answer.
pub async fn fake_whmcs(client: Value) -> MockServer {
    let server = MockServer::start().await;
    for (action, answer) in [
        ("GetClientsDetails", client),
        ("GetInvoice", fixture("api-GetInvoice")),
        ("GetClientsProducts", fixture("api-GetClientsProducts")),
        ("GetClientsDomains", fixture("api-GetClientsDomains")),
        ("GetQuotes", fixture("api-GetQuotes")),
        ("LogActivity", json!({"result": "success"})),
    ] {
        Mock::given(method("POST"))
            .and(body_string_contains(format!("action={action}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(&server)
            .await;
    }
    server
}

/// A fake Graph API accepting every send from number 106540352242922, the
/// n-th with wamid `wamid.OUT-n`.
pub async fn numbered_graph() -> MockServer {
    let graph = MockServer::start().await;
    let sends = std::sync::atomic::AtomicUsize::new(0);
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/v23.0/106540352242922/messages"))
        .respond_with(move |request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
            let n = 1 + sends.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": format!("wamid.OUT-{n}")}]
            }))
        })
        .mount(&graph)
        .await;
    graph
}

/// The `LogActivity` calls `whmcs` received, each as (clientid,
/// description), in order.
pub async fn whmcs_log(whmcs: &MockServer) -> Vec<(String, String)> {
    whmcs
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|request| {
            let form: std::collections::BTreeMap<String, String> =
                serde_urlencoded::from_bytes(&request.body).ok()?;
            (form.get("action")? == "LogActivity").then(|| {
                (
                    form.get("clientid").cloned().unwrap_or_default(),
                    form.get("description").cloned().unwrap_or_default(),
                )
            })
        })
        .collect()
}

pub async fn app_with(whmcs: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let url = whmcs.uri();
    let mut vars = vec![
        ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
        ("PUENTE_WHMCS_URL", url.as_str()),
        ("PUENTE_WHMCS_IDENTIFIER", "puente"),
        ("PUENTE_WHMCS_SECRET", "api-secret-123"),
        ("PUENTE_PUBLIC_URL", "https://panel.example"),
    ];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars, "").await
}

pub async fn fire(app: &TestApp, id: &str, hook: &str, data: Value, actor: Value) {
    let mut envelope = envelope(hook);
    envelope["data"] = data;
    envelope["context"]["actor"] = actor;
    assert_eq!(
        app.send_event(id, &envelope).await.status(),
        StatusCode::ACCEPTED,
        "{id}"
    );
}

/// A welcome alert for client 1842, as event `evt_welcome`.
pub async fn welcome(app: &TestApp) {
    fire(
        app,
        "evt_welcome",
        "ClientAdd",
        json!({"client_id": 1842}),
        system(),
    )
    .await;
}

pub fn system() -> Value {
    json!({"kind": "system"})
}

/// (status, reason, request body) of every message of an event.
pub async fn messages_of(
    app: &TestApp,
    event: &str,
) -> Vec<(String, Option<String>, Option<Value>)> {
    let rows: Vec<(String, Option<String>, Option<String>)> = app
        .triples(&format!(
            "SELECT m.status, m.reason, m.request_body FROM messages m
               JOIN events e ON e.seq = m.event_seq
              WHERE e.id = '{event}' ORDER BY m.id"
        ))
        .await;
    rows.into_iter()
        .map(|(status, reason, body)| {
            let body = body.map(|text| serde_json::from_str(&text).expect("body JSON"));
            (status, reason, body)
        })
        .collect()
}

/// The tblupgrades row the addon adds: service 7731 of client 1842 moves
/// to product 13, annually, 150.00 USD.
pub fn upgrade_row(status: &str) -> Value {
    json!({"id": 77, "type": "package", "relid": "7731", "userid": "1842",
           "originalvalue": "12", "newvalue": "13,annually", "new_cycle": "", "status": status,
           "service": {"id": 7731, "userid": 1842, "pid": 13},
           "currency": "USD", "new_price": "150.00"})
}

pub async fn mount_update(whmcs: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(body_string_contains("action=UpdateClientProduct"))
        .respond_with(answer)
        .mount(whmcs)
        .await;
}

/// A fake WHMCS that refuses every `UpdateClientProduct` ("Service ID Not
/// Found"), and an app on it that stored a completed package upgrade of
/// service 7731 (`evt_upgraded`), not yet tried.
pub async fn app_with_a_refused_upgrade() -> (MockServer, TestApp) {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    mount_update(
        &whmcs,
        ResponseTemplate::new(200)
            .set_body_json(json!({"result": "error", "message": "Service ID Not Found"})),
    )
    .await;
    let app = app_with(&whmcs, &[]).await;
    let after = json!({"upgradeid": 77, "_puente": {"upgrade": upgrade_row("Completed")}});
    fire(&app, "evt_upgraded", "AfterProductUpgrade", after, system()).await;
    (whmcs, app)
}
