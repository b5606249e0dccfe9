//! One service, two WHMCS installs (a reseller's and the operator's
//! other one), each with its own fake WHMCS, WhatsApp number, Meta app,
//! brand, upgrade rules and staff: nothing of one reaches the other.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

use crate::support::*;

const ALFA_SECRET: &str = "whsec_QWxmYS1ob29rLXNlY3JldC0wMTIzNDU2Nzg5";
const BETA_SECRET: &str = "whsec_QmV0YS1ob29rLXNlY3JldC0wMTIzNDU2Nzg5";
const ALFA_ADMIN: &str = "alfa-staff-token-0123456789";
const BETA_ADMIN: &str = "beta-staff-token-0123456789";
const ALFA_APP_SECRET: &str = "alfa-meta-app-secret";
const BETA_APP_SECRET: &str = "beta-meta-app-secret";
const ALFA_NUMBER: &str = "1110001";
const BETA_NUMBER: &str = "2220002";

/// Both installs, their fake WHMCS and one fake Graph API.
struct Installs {
    app: TestApp,
    graph: MockServer,
    _alfa_whmcs: MockServer,
    _beta_whmcs: MockServer,
}

/// The shipped templates with the welcome alert naming the install's brand.
fn branded_templates(dir: &std::path::Path) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(format!(
        "{}/templates/alerts.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("shipped templates");
    let welcome = "parameters = [\"client_name\", \"panel_link\"]\n\
                   text.es = \"Hola {{1}}, te damos la bienvenida. Tu panel de cliente está en {{2}}\"\n\
                   text.en = \"Hi {{1}}, welcome aboard. Your client panel is at {{2}}\"";
    assert!(
        shipped.contains(welcome),
        "the shipped welcome template changed"
    );
    let branded = shipped.replace(
        welcome,
        "parameters = [\"client_name\", \"brand\", \"panel_link\"]\n\
         text.es = \"Hola {{1}}, te damos la bienvenida a {{2}}. Tu panel de cliente está en {{3}}\"\n\
         text.en = \"Hi {{1}}, welcome to {{2}}. Your client panel is at {{3}}\"",
    );
    let file = dir.join("branded-alerts.toml");
    std::fs::write(&file, branded).expect("write templates");
    file
}

async fn installs() -> (Installs, tempfile::TempDir) {
    let alfa_whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let beta_client: Value = serde_json::from_str(
        &fixture("api-GetClientsDetails")
            .to_string()
            .replace("Amina", "Bruno")
            .replace("8031234567", "8039876543"),
    )
    .expect("JSON");
    let beta_whmcs = fake_whmcs(beta_client).await;
    let graph = MockServer::start().await;
    let files = tempfile::tempdir().expect("temp dir");
    let templates = branded_templates(files.path());
    let base = format!("{}/v23.0", graph.uri());
    let toml = format!(
        r#"
        [alerts]
        templates = "{templates}"
        brand = "Operador"
        [upgrade]
        policy = "seed"

        [instances.alfa]
        secrets = "{ALFA_SECRET}"
        whmcs_url = "{alfa_url}"
        identifier = "puente"
        secret = "alfa-api-secret"
        public_url = "https://panel.alfa.example"
        admin_token = "{ALFA_ADMIN}"
        upgrade_policy = "prorata"
        upgrade_targets = "12:13"
        alerts_brand = "Alfa Hosting"
        [instances.alfa.whatsapp]
        mode = "cloud"
        api_base = "{base}"
        phone_number_id = "{ALFA_NUMBER}"
        token = "alfa-graph-token"
        app_secret = "{ALFA_APP_SECRET}"
        timeout_ms = 2000

        [instances.beta]
        secrets = "{BETA_SECRET}"
        whmcs_url = "{beta_url}"
        identifier = "puente"
        secret = "beta-api-secret"
        public_url = "https://clientes.beta.example"
        admin_token = "{BETA_ADMIN}"
        [instances.beta.upgrade]
        targets = "12:13,14"
        [instances.beta.alerts]
        brand = "Beta Web"
        [instances.beta.whatsapp]
        mode = "cloud"
        api_base = "{base}"
        phone_number_id = "{BETA_NUMBER}"
        token = "beta-graph-token"
        app_secret = "{BETA_APP_SECRET}"
        timeout_ms = 2000
        "#,
        templates = templates.display(),
        alfa_url = alfa_whmcs.uri(),
        beta_url = beta_whmcs.uri(),
    );
    let app = spawn_app_with(&[("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)], &toml).await;
    (
        Installs {
            app,
            graph,
            _alfa_whmcs: alfa_whmcs,
            _beta_whmcs: beta_whmcs,
        },
        files,
    )
}

fn secret_of(instance: &str) -> &'static str {
    match instance {
        "alfa" => ALFA_SECRET,
        "beta" => BETA_SECRET,
        other => panic!("no instance {other}"),
    }
}

/// A signed request from `instance`'s addon.
fn from(instance: &str, id: &str, body: &Value) -> HookRequest {
    HookRequest::signed(secret_of(instance), id, body.to_string())
        .header("puente-instance", instance)
}

async fn event(app: &TestApp, instance: &str, id: &str, hook: &str, data: Value) {
    let mut body = envelope_for(hook, instance);
    body["data"] = data;
    body["context"]["actor"] = json!({"kind": "system"});
    assert_eq!(
        app.post_hook(from(instance, id, &body)).await.status(),
        StatusCode::ACCEPTED,
        "{instance} {id}"
    );
}

async fn decide(app: &TestApp, instance: &str, id: &str, body: &Value) -> Value {
    json_of(
        app.post_signed("/v1/decisions", from(instance, id, body))
            .await,
        StatusCode::OK,
    )
    .await
}

/// An upgrade question about service 7731 on product 12, whose WHMCS
/// upgrade list allows 13 and 14; its period ended, so `prorata` has no
/// days left to charge where `seed` charges the difference.
fn upgrade(instance: &str, hook: &str, target: u64) -> Value {
    let mut body = envelope_for(hook, instance);
    body["data"] = json!({
        "id": 7731,
        "pid": target,
        "newproductbillingcycle": "annually",
        "_puente": {
            "service": {"pid": 12, "billingcycle": "Annually", "recurringamount": "100.00",
                        "nextduedate": "2021-01-01"},
            "currency": "USD",
            "language": "english",
            "upgrade_targets": [13, 14],
            "target_pricing": {"annually": "150.00", "monthly": "-1.00"},
            "paid_lines": [{"type": "Hosting", "amount": "100.00",
                            "duedate": "2020-01-01", "datepaid": "2019-12-30"}]
        }
    });
    body
}

#[tokio::test]
async fn the_same_product_gets_each_instances_own_upgrade_targets_and_policy() {
    let (installs, _files) = installs().await;
    let app = &installs.app;
    let check = |instance, target| upgrade(instance, "ShoppingCartValidateUpgrade", target);

    // alfa allows product 12 to move to 13 only; beta to 13 or 14.
    assert_eq!(
        decide(app, "alfa", "dec_a13", &check("alfa", 13)).await,
        json!({"return": []})
    );
    let refused = decide(app, "alfa", "dec_a14", &check("alfa", 14)).await;
    assert_eq!(
        refused["return"].as_array().map(Vec::len),
        Some(1),
        "{refused}"
    );
    assert_eq!(
        decide(app, "beta", "dec_b14", &check("beta", 14)).await,
        json!({"return": []})
    );

    // alfa prices with prorata (nothing left of the period), beta with the
    // global seed policy (the 50.00 difference).
    let price = |instance| upgrade(instance, "OrderProductUpgradeOverride", 13);
    assert_eq!(
        decide(app, "alfa", "dec_pa", &price("alfa")).await,
        json!({"return": {"price": "0.00"}})
    );
    assert_eq!(
        decide(app, "beta", "dec_pb", &price("beta")).await,
        json!({"return": {"price": "50.00"}})
    );

    // One install's secret never speaks for the other.
    let forged = app
        .post_signed(
            "/v1/decisions",
            HookRequest::signed(ALFA_SECRET, "dec_forged", price("beta").to_string())
                .header("puente-instance", "beta"),
        )
        .await;
    assert_error(forged, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    installs.app.stop().await;
}

/// The requests the fake Graph API received, as (path, token, body).
async fn graph_requests(graph: &MockServer) -> Vec<(String, String, Value)> {
    graph
        .received_requests()
        .await
        .expect("recorded")
        .into_iter()
        .map(|request| {
            let token = request
                .headers
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = serde_json::from_slice(&request.body).expect("JSON body");
            (request.url.path().to_owned(), token, body)
        })
        .collect()
}

/// Both installs welcome a client; both messages are sent and stored.
async fn welcome_both(installs: &Installs) {
    for (number, token, wamid) in [
        (ALFA_NUMBER, "Bearer alfa-graph-token", "wamid.alfa"),
        (BETA_NUMBER, "Bearer beta-graph-token", "wamid.beta"),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{number}/messages")))
            .and(header("authorization", token))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp",
                "messages": [{"id": wamid}]
            })))
            .mount(&installs.graph)
            .await;
    }
    let app = &installs.app;
    event(
        app,
        "alfa",
        "evt_alfa_welcome",
        "ClientAdd",
        json!({"client_id": 1842}),
    )
    .await;
    event(
        app,
        "beta",
        "evt_beta_welcome",
        "ClientAdd",
        json!({"client_id": 1842}),
    )
    .await;
    let report = app.outbox.drain().await.expect("drain");
    assert_eq!(report.sent, 2, "{report:?}");
}

#[tokio::test]
async fn each_installs_alert_goes_out_from_its_own_number_with_its_own_brand() {
    let (installs, _files) = installs().await;
    welcome_both(&installs).await;

    let mut sent = graph_requests(&installs.graph).await;
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(sent.len(), 2);
    let texts = |body: &Value| -> Vec<String> {
        body["template"]["components"][0]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .map(|parameter| parameter["text"].as_str().expect("text").to_owned())
            .collect()
    };
    let (alfa_path, alfa_token, alfa_body) = &sent[0];
    assert_eq!(alfa_path, &format!("/v23.0/{ALFA_NUMBER}/messages"));
    assert_eq!(alfa_token, "Bearer alfa-graph-token");
    assert_eq!(alfa_body["to"], "2348031234567");
    assert_eq!(
        texts(alfa_body),
        [
            "Amina",
            "Alfa Hosting",
            "https://panel.alfa.example/clientarea.php"
        ]
    );
    let (beta_path, beta_token, beta_body) = &sent[1];
    assert_eq!(beta_path, &format!("/v23.0/{BETA_NUMBER}/messages"));
    assert_eq!(beta_token, "Bearer beta-graph-token");
    assert_eq!(beta_body["to"], "2348039876543");
    assert_eq!(
        texts(beta_body),
        [
            "Bruno",
            "Beta Web",
            "https://clientes.beta.example/clientarea.php"
        ]
    );

    let metrics = installs.app.metrics().await;
    for instance in ["alfa", "beta"] {
        let labels = format!("outcome=\"sent\",whmcs_instance=\"{instance}\"");
        assert_eq!(
            counter(&metrics, "puente_whatsapp_messages_total", &labels),
            1.0,
            "{metrics}"
        );
        let labels = format!("outcome=\"accepted\",reason=\"\",whmcs_instance=\"{instance}\"");
        assert_eq!(counter(&metrics, "puente_events_total", &labels), 1.0);
    }
    installs.app.stop().await;
}

fn hub_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn delivered(number: &str, wamid: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": number},
            "statuses": [{"id": wamid, "status": "delivered", "timestamp": "1750000200",
                          "recipient_id": "2348031234567"}]
        }}]}]
    }))
    .expect("JSON")
}

async fn notify(app: &TestApp, body: &[u8], secret: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/whatsapp/webhook"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", hub_signature(secret, body))
        .body(body.to_vec())
        .send()
        .await
        .expect("request")
}

async fn status_of(app: &TestApp, wamid: &str) -> String {
    app.one(&format!(
        "SELECT status FROM messages WHERE wamid = '{wamid}'"
    ))
    .await
}

#[tokio::test]
async fn a_meta_status_is_verified_with_the_app_secret_of_the_number_it_is_about() {
    let (installs, _files) = installs().await;
    welcome_both(&installs).await;
    let app = &installs.app;

    let alfa = delivered(ALFA_NUMBER, "wamid.alfa");
    assert_eq!(
        json_of(notify(app, &alfa, ALFA_APP_SECRET).await, StatusCode::OK).await,
        json!({"status": "applied", "updated": 1, "ignored": 0})
    );
    assert_eq!(status_of(app, "wamid.alfa").await, "delivered");

    // beta's number, signed with alfa's app secret: refused, nothing moves.
    let beta = delivered(BETA_NUMBER, "wamid.beta");
    assert_error(
        notify(app, &beta, ALFA_APP_SECRET).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    )
    .await;
    assert_eq!(status_of(app, "wamid.beta").await, "sent");
    assert_eq!(
        json_of(notify(app, &beta, BETA_APP_SECRET).await, StatusCode::OK).await,
        json!({"status": "applied", "updated": 1, "ignored": 0})
    );
    assert_eq!(status_of(app, "wamid.beta").await, "delivered");

    // A number no instance sends from: acknowledged, ignored, counted.
    let stranger = delivered("3330003", "wamid.alfa");
    assert_eq!(
        json_of(
            notify(app, &stranger, ALFA_APP_SECRET).await,
            StatusCode::OK
        )
        .await,
        json!({"status": "applied", "updated": 0, "ignored": 1})
    );
    let metrics = app.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "puente_whatsapp_unknown_sender_statuses_total",
            ""
        ),
        1.0,
        "{metrics}"
    );
    installs.app.stop().await;
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

async fn post(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

/// The `instance` of every record of a list page.
async fn instances_listed(app: &TestApp, token: &str, path: &str, key: &str) -> Vec<String> {
    let page = json_of(get(app, token, path).await, StatusCode::OK).await;
    page[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {page}"))
        .iter()
        .map(|record| record["instance"].as_str().expect("instance").to_owned())
        .collect()
}

#[tokio::test]
async fn an_instances_admin_token_sees_and_retries_only_its_own_records() {
    let (installs, _files) = installs().await;
    welcome_both(&installs).await;
    let app = &installs.app;

    // Each staff token sees its own install's events and messages; the
    // global token sees both.
    assert_eq!(
        instances_listed(app, ALFA_ADMIN, "/v1/admin/events", "events").await,
        ["alfa"]
    );
    assert_eq!(
        instances_listed(app, BETA_ADMIN, "/v1/admin/messages", "messages").await,
        ["beta"]
    );
    assert_eq!(
        instances_listed(app, ALFA_ADMIN, "/v1/admin/events?instance=alfa", "events").await,
        ["alfa"]
    );
    let mut all = instances_listed(app, ADMIN_TOKEN, "/v1/admin/messages", "messages").await;
    all.sort();
    assert_eq!(all, ["alfa", "beta"]);

    // Asking for the other install, directly or through a record, is 403.
    for path in [
        "/v1/admin/events?instance=beta",
        "/v1/admin/events/evt_beta_welcome",
        "/v1/admin/messages?instance=beta",
        "/v1/admin/upgrades?instance=beta",
        "/v1/admin/cancellations?instance=beta",
        "/v1/admin/transfers?instance=beta",
    ] {
        assert_error(
            get(app, ALFA_ADMIN, path).await,
            StatusCode::FORBIDDEN,
            "forbidden_instance",
        )
        .await;
    }
    let beta_message = app
        .column("SELECT CAST(id AS TEXT) FROM messages WHERE instance = 'beta'")
        .await;
    app.execute("UPDATE messages SET status = 'dead'", &[])
        .await;
    let retry = |id: &str| format!("/v1/admin/messages/{id}/retry");
    assert_error(
        post(app, ALFA_ADMIN, &retry(&beta_message[0])).await,
        StatusCode::FORBIDDEN,
        "forbidden_instance",
    )
    .await;
    assert_eq!(
        app.column("SELECT status FROM messages WHERE instance = 'beta'")
            .await,
        ["dead"],
        "a refused retry changes nothing"
    );
    let alfa_message = app
        .column("SELECT CAST(id AS TEXT) FROM messages WHERE instance = 'alfa'")
        .await;
    assert_eq!(
        post(app, ALFA_ADMIN, &retry(&alfa_message[0]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(app, BETA_ADMIN, &retry(&beta_message[0]))
            .await
            .status(),
        StatusCode::ACCEPTED
    );

    // beta's failed upgrade and cancellation and a transfer waiting for
    // staff: alfa's staff can act on none of them, beta's on all.
    let beta_event = app
        .column("SELECT CAST(seq AS TEXT) FROM events WHERE id = 'evt_beta_welcome'")
        .await;
    app.batch(&format!(
            "INSERT INTO upgrade_applications (id, event_seq, instance, upgrade_id, upgrade_type,
                 service_id, client_id, product_id, billing_cycle, policy, enable_date, status,
                 planned_at_ms)
             VALUES (71, {seq}, 'beta', 233, 'package', 7731, 1842, 13, 'Annually', 'seed',
                     '2026-12-01', 'failed', 0);
             INSERT INTO cancellations (id, event_seq, instance, subject_kind, subject_id, client_id,
                 cancel_type, origin, requested_at_ms, requested_on, status, updated_at_ms)
             VALUES (72, {seq}, 'beta', 'service', 7731, 1842, 'Immediate', 'client_page', 0,
                     '2026-12-01', 'failed', 0);
             INSERT INTO transfers (id, event_seq, instance, service_id, owner_client_id,
                 recipient_client_id, recipient_email, approval, status, requested_at_ms,
                 expires_at_ms, updated_at_ms)
             VALUES (73, {seq}, 'beta', 7731, 1842, 1901, 'b@example.com', 'staff', 'accepted',
                     0, 9999999999999, 0);",
            seq = beta_event[0]
        ))
    .await;
    let actions = [
        "/v1/admin/upgrades/71/retry",
        "/v1/admin/cancellations/72/retry",
        "/v1/admin/transfers/73/approve",
    ];
    for action in actions {
        assert_error(
            post(app, ALFA_ADMIN, action).await,
            StatusCode::FORBIDDEN,
            "forbidden_instance",
        )
        .await;
    }
    assert_eq!(
        app.column(
            "SELECT status FROM upgrade_applications UNION ALL SELECT status FROM cancellations
             UNION ALL SELECT status FROM transfers"
        )
        .await,
        ["failed", "failed", "accepted"],
        "refused actions change nothing"
    );
    for action in actions {
        assert_eq!(
            post(app, BETA_ADMIN, action).await.status(),
            StatusCode::ACCEPTED,
            "{action}"
        );
    }

    // Every list of a staff token is its install's.
    for (path, key) in [
        ("/v1/admin/upgrades", "upgrades"),
        ("/v1/admin/cancellations", "cancellations"),
        ("/v1/admin/transfers", "transfers"),
    ] {
        assert!(
            instances_listed(app, ALFA_ADMIN, path, key)
                .await
                .is_empty()
        );
        assert_eq!(instances_listed(app, BETA_ADMIN, path, key).await, ["beta"]);
    }
    assert_error(
        get(app, "not-a-token-of-anyone", "/v1/admin/events").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    installs.app.stop().await;
}

#[tokio::test]
async fn a_pause_after_meta_refuses_one_numbers_token_leaves_the_other_sending() {
    let (installs, _files) = installs().await;
    let app = &installs.app;
    for (number, answer) in [
        (
            ALFA_NUMBER,
            wiremock::ResponseTemplate::new(401).set_body_json(json!({
                "error": {"message": "(#190) token expired", "code": 190, "fbtrace_id": "AXa"}
            })),
        ),
        (
            BETA_NUMBER,
            wiremock::ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp", "messages": [{"id": "wamid.beta"}]
            })),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{number}/messages")))
            .respond_with(answer)
            .mount(&installs.graph)
            .await;
    }
    event(
        app,
        "alfa",
        "evt_a1",
        "ClientAdd",
        json!({"client_id": 1842}),
    )
    .await;
    event(
        app,
        "alfa",
        "evt_a2",
        "ClientAdd",
        json!({"client_id": 1843}),
    )
    .await;
    event(
        app,
        "beta",
        "evt_b1",
        "ClientAdd",
        json!({"client_id": 1842}),
    )
    .await;

    let report = app.outbox.drain().await.expect("drain");

    // alfa's first refusal pauses alfa's number: its second message is not
    // even tried; beta's goes out.
    assert_eq!((report.sent, report.deferred), (1, 2), "{report:?}");
    let tried: Vec<String> = graph_requests(&installs.graph)
        .await
        .into_iter()
        .map(|(path, _, _)| path)
        .collect();
    assert_eq!(
        tried
            .iter()
            .filter(|path| path.contains(ALFA_NUMBER))
            .count(),
        1
    );
    assert_eq!(
        tried
            .iter()
            .filter(|path| path.contains(BETA_NUMBER))
            .count(),
        1
    );
    assert_eq!(
        app.column("SELECT status FROM messages WHERE instance = 'alfa'")
            .await,
        ["planned", "planned"]
    );
    let metrics = app.metrics().await;
    let paused = |instance: &str| {
        counter(
            &metrics,
            "puente_whatsapp_sending_paused",
            &format!("whmcs_instance=\"{instance}\""),
        )
    };
    assert_eq!((paused("alfa"), paused("beta")), (1.0, 0.0), "{metrics}");
    installs.app.stop().await;
}
