//! Templates checked before sending: the account's templates read from a
//! fake Graph API (page by page), an alert whose template differs from
//! Meta's not sent at all, sent once the account is fixed, and
//! `puente templates check` saying what to fix.

use std::process::Command;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;
use puente::domain::alerts::AlertKind;
use puente::domain::templates::TemplateCatalog;

const WABA: &str = "102290129340398";
const TOKEN: &str = "graph-token-abc";
const TEMPLATES_PATH: &str = "/v23.0/102290129340398/message_templates";

/// Every shipped template in every language as Meta lists an approved one,
/// with `change` applied to each (name, language, body text).
fn account(change: impl Fn(&str, &str, &mut String)) -> Vec<Value> {
    let catalogue = TemplateCatalog::defaults();
    let mut templates = Vec::new();
    for kind in AlertKind::ALL {
        let template = catalogue.template(kind);
        for (language, text) in &template.text {
            let mut body = text.clone();
            change(&template.template, language, &mut body);
            templates.push(json!({
                "name": template.template,
                "language": language,
                "status": "APPROVED",
                "category": "UTILITY",
                "components": [
                    {"type": "BODY", "text": body},
                    {"type": "FOOTER", "text": "puente"},
                ],
                "id": format!("{}-{language}", template.template),
            }));
        }
    }
    templates
}

/// Serves `templates` in two pages, as the Graph API pages a list: the
/// second is asked for with the first's `after` cursor.
async fn serve_account(graph: &MockServer, templates: Vec<Value>) {
    graph.reset().await;
    let (first, second) = templates.split_at(templates.len() / 2);
    Mock::given(method("GET"))
        .and(path(TEMPLATES_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": first,
            "paging": {
                "cursors": {"before": "b1", "after": "page2"},
                "next": "https://elsewhere.example/steal?after=page2",
            },
        })))
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path(TEMPLATES_PATH))
        .and(query_param("after", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": second,
            "paging": {"cursors": {"before": "b2", "after": "end"}},
        })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/v23.0/106540352242922/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "2348031234567", "wa_id": "2348031234567"}],
            "messages": [{"id": "wamid.sent"}],
        })))
        .mount(graph)
        .await;
}

/// The welcome template with a third parameter at Meta (puente fills two).
fn welcome_with_three(name: &str, _: &str, body: &mut String) {
    if name == "puente_welcome" {
        body.push_str(" {{3}}");
    }
}

fn cloud_settings(graph_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PUENTE_WHATSAPP_MODE", "cloud".into()),
        ("PUENTE_WHATSAPP_API_BASE", format!("{graph_uri}/v23.0")),
        ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922".into()),
        ("PUENTE_WHATSAPP_BUSINESS_ACCOUNT_ID", WABA.into()),
        ("PUENTE_WHATSAPP_TOKEN", TOKEN.into()),
        ("PUENTE_WHATSAPP_TIMEOUT_MS", "2000".into()),
    ]
}

async fn sends(graph: &MockServer) -> usize {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.method.as_str() == "POST")
        .count()
}

fn gauge(metrics: &str, labels: &str) -> Option<String> {
    let prefix = format!("puente_whatsapp_templates{{{labels}}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(str::to_owned)
}

#[tokio::test]
async fn an_alert_whose_template_differs_at_meta_is_not_sent_until_the_account_is_fixed() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let graph = MockServer::start().await;
    serve_account(&graph, account(welcome_with_three)).await;
    let settings = cloud_settings(&graph.uri());
    let vars: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = app_with(&whmcs, &vars).await;

    let now = jiff::Timestamp::now();
    assert_eq!(app.templates.check_all(now).await, 1, "one account read");
    let metrics = app.metrics().await;
    let instance = "whmcs_instance=\"default\"";
    assert_eq!(
        gauge(&metrics, &format!("{instance},state=\"parameters_differ\"")).as_deref(),
        Some("2"),
        "{metrics}"
    );
    let total = AlertKind::ALL.len() * 2;
    assert_eq!(
        gauge(&metrics, &format!("{instance},state=\"ready\"")),
        Some((total - 2).to_string())
    );

    welcome(&app).await;
    let report = app.outbox.drain_at(now).await.expect("drain");
    assert_eq!((report.sent, report.retried), (0, 1));
    assert_eq!(sends(&graph).await, 0, "no round trip to Meta");
    let messages = messages_of(&app, "evt_welcome").await;
    let (status, reason, _) = &messages[0];
    assert_eq!(status, "planned", "tried again later");
    let reason = reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("has 3 body parameters at Meta, puente fills 2"),
        "{reason}"
    );

    // The template is fixed at Meta; the next hourly reading sees it, and
    // the alert's next try sends it.
    serve_account(&graph, account(|_, _, _| {})).await;
    let later = now + jiff::SignedDuration::from_hours(1);
    assert_eq!(app.templates.check_all(later).await, 1);
    let report = app.outbox.drain_at(later).await.expect("drain");
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(sends(&graph).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn an_account_that_cannot_be_read_stops_nothing_and_is_reported() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let graph = MockServer::start().await;
    serve_account(&graph, account(|_, _, _| {})).await;
    let settings = cloud_settings(&graph.uri());
    let vars: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = app_with(&whmcs, &vars).await;
    graph.reset().await;
    Mock::given(method("GET"))
        .and(path(TEMPLATES_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": {"message": "(#200) Requires whatsapp_business_management permission",
                      "type": "OAuthException", "code": 200, "fbtrace_id": "AXtrace"}
        })))
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/v23.0/106540352242922/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp", "messages": [{"id": "wamid.sent"}],
        })))
        .mount(&graph)
        .await;

    let now = jiff::Timestamp::now();
    assert_eq!(app.templates.check_all(now).await, 0, "nothing read");
    let found = app.templates.checks().snapshot();
    let (_, reason) = found["default"]
        .failed
        .clone()
        .expect("the failure is kept");
    assert!(
        reason.contains("HTTP 403") && reason.contains("(#200)"),
        "{reason}"
    );
    assert!(!reason.contains(TOKEN), "no token in {reason}");

    welcome(&app).await;
    let report = app.outbox.drain_at(now).await.expect("drain");
    assert_eq!(report.sent, 1, "Meta decides while puente cannot tell");
    app.stop().await;
}

/// `puente templates check` against the fake Graph API at `graph_uri`, on
/// a blocking thread: the fake answers on this test's own runtime.
async fn check_command(graph_uri: String, dir: std::path::PathBuf) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_puente"))
            .args(["templates", "check"])
            .env_clear()
            .env("PUENTE_HOOK_SECRETS", SECRET)
            .env("PUENTE_DATABASE", dir.join("unused.db"))
            .envs(cloud_settings(&graph_uri))
            .output()
            .expect("run puente")
    })
    .await
    .expect("ran")
}

#[tokio::test]
async fn templates_check_lists_what_to_fix_and_exits_1_until_every_template_is_ready() {
    let graph = MockServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    serve_account(
        &graph,
        account(|name, language, body| {
            welcome_with_three(name, language, body);
        })
        .into_iter()
        .filter(|template| {
            !(template["name"] == "puente_invoice_created" && template["language"] == "en")
        })
        .collect(),
    )
    .await;
    let output = check_command(graph.uri(), dir.path().to_owned()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let total = AlertKind::ALL.len() * 2;
    assert!(
        stdout.contains(&format!(
            "default: account {WABA}: {} of {total} templates ready",
            total - 3
        )),
        "{stdout}"
    );
    assert!(stdout.contains("welcome"), "{stdout}");
    assert!(stdout.contains("parameters_differ"), "{stdout}");
    assert!(stdout.contains("invoice_created"), "{stdout}");
    assert!(stdout.contains("missing"), "{stdout}");

    serve_account(&graph, account(|_, _, _| {})).await;
    let output = check_command(graph.uri(), dir.path().to_owned()).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("{total} of {total} templates ready")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_templates_page_lists_what_to_fix_first() {
    use crate::dashboard::{ChromeDriver, follow, screenshot, sign_in_in_browser, text_of};
    use fantoccini::Locator;
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let graph = MockServer::start().await;
    serve_account(
        &graph,
        account(welcome_with_three)
            .into_iter()
            .filter(|template| {
                !(template["name"] == "puente_invoice_created" && template["language"] == "en")
            })
            .collect(),
    )
    .await;
    let settings = cloud_settings(&graph.uri());
    let vars: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = app_with(&whmcs, &vars).await;
    assert_eq!(app.templates.check_all(jiff::Timestamp::now()).await, 1);

    let driver = ChromeDriver::start();
    let browser = driver.session().await;
    browser.goto(&app.url("/admin/login")).await.expect("goto");
    sign_in_in_browser(&browser, &app).await;
    follow(
        &browser,
        &app,
        Locator::LinkText("Templates"),
        "/admin/templates",
    )
    .await;
    assert_eq!(text_of(&browser, "h1").await, "Templates");
    let total = AlertKind::ALL.len() * 2;
    let summary = text_of(&browser, "section.card p").await;
    assert!(
        summary.contains(&format!("Account {WABA}"))
            && summary.contains(&format!("3 of {total} not ready")),
        "{summary}"
    );
    let rows = browser
        .find_all(Locator::Css("section.card tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), total);
    // What is not ready comes first, each with what to fix.
    let first = rows[0].text().await.expect("text");
    assert!(
        first.contains("parameters differ") || first.contains("missing"),
        "{first}"
    );
    let table = text_of(&browser, "section.card table").await;
    assert!(table.contains("puente_invoice_created"), "{table}");
    assert!(
        table.contains("has 3 body parameters at Meta, puente fills 2"),
        "{table}"
    );
    screenshot(&browser, "9-templates").await;
    browser.close().await.expect("close");
    app.stop().await;
}
