//! The outbox worker in dry-run mode against a fake WHMCS: each alert goes
//! to the right client and number, in their language, with the template's
//! parameters filled from WHMCS; opt-outs, unusable numbers, missing
//! records and a WHMCS outage each end where they should.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;
use puente::workers::Worker as _;

async fn app_with_whmcs(whmcs: &MockServer) -> TestApp {
    app_with(whmcs, &[]).await
}

/// The usual cloud test: the fake WHMCS (kept alive by the caller), a fake
/// Graph API with no answer mounted yet, and an app sending through it.
async fn cloud_setup() -> (MockServer, MockServer, TestApp) {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let graph = MockServer::start().await;
    let app = cloud_app(&whmcs, &graph).await;
    (whmcs, graph, app)
}

/// An app sending through the Cloud API of the fake Graph server `graph`.
async fn cloud_app(whmcs: &MockServer, graph: &MockServer) -> TestApp {
    let base = format!("{}/v23.0", graph.uri());
    app_with(
        whmcs,
        &[
            ("PUENTE_WHATSAPP_MODE", "cloud"),
            ("PUENTE_WHATSAPP_API_BASE", base.as_str()),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            ("PUENTE_WHATSAPP_TOKEN", "graph-token-abc"),
            ("PUENTE_WHATSAPP_TIMEOUT_MS", "300"),
        ],
    )
    .await
}

fn graph_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn accepted(wamid: &str) -> ResponseTemplate {
    graph_answer(
        200,
        json!({"messaging_product": "whatsapp", "contacts": [{"input": "2348031234567", "wa_id": "2348031234567"}], "messages": [{"id": wamid}]}),
    )
}

fn graph_error(status: u16, code: i64) -> ResponseTemplate {
    graph_answer(
        status,
        json!({"error": {"message": format!("(#{code}) refused"), "type": "OAuthException", "code": code, "fbtrace_id": "AXtrace"}}),
    )
}

async fn mount_graph(graph: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/v23.0/106540352242922/messages"))
        .respond_with(answer)
        .mount(graph)
        .await;
}

/// (status, attempts, wamid) of the only message.
async fn message_state(app: &TestApp) -> (String, i64, Option<String>) {
    let mut rows = app
        .triples("SELECT status, attempts, wamid FROM messages")
        .await;
    assert_eq!(rows.len(), 1, "one message");
    rows.remove(0)
}

/// (outcome, HTTP status, Meta code) of every attempt, in order.
async fn attempts(app: &TestApp) -> Vec<(String, Option<i64>, Option<i64>)> {
    app.triples("SELECT outcome, http_status, meta_code FROM message_attempts ORDER BY id")
        .await
}

fn parameters(body: &Value) -> Vec<String> {
    body["template"]["components"][0]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["text"].as_str().expect("text").to_owned())
        .collect()
}

#[tokio::test]
async fn each_alert_reaches_the_right_client_and_number_with_its_template_and_values() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let app = app_with_whmcs(&whmcs).await;
    let vars = |hook: &str| fixture(hook)["vars"].clone();
    let invoice = [
        "Amina",
        "2025-0317",
        "24.95 USD",
        "https://panel.example/viewinvoice.php?id=30517",
    ];
    let service = ["Amina", "Business Hosting", "okafordesign.example"];
    let cases: Vec<(&str, Value, Value, &str, Vec<&str>)> = vec![
        (
            "ClientAdd",
            vars("ClientAdd"),
            system(),
            "puente_welcome",
            vec!["Amina", "https://panel.example/clientarea.php"],
        ),
        (
            "ClientChangePassword",
            vars("ClientChangePassword"),
            system(),
            "puente_password_changed",
            vec!["Amina", "https://panel.example/clientarea.php"],
        ),
        (
            "InvoiceCreated",
            vars("InvoiceCreated"),
            system(),
            "puente_invoice_created",
            invoice.to_vec(),
        ),
        (
            "InvoiceCancelled",
            json!({"invoiceid": 30517}),
            system(),
            "puente_invoice_cancelled",
            vec!["Amina", "2025-0317"],
        ),
        (
            "AddInvoicePayment",
            vars("AddInvoicePayment"),
            system(),
            "puente_payment_received",
            invoice.to_vec(),
        ),
        (
            "AfterModuleSuspend",
            vars("AfterModuleSuspend"),
            system(),
            "puente_service_suspended",
            service.to_vec(),
        ),
        (
            "AfterModuleUnsuspend",
            vars("AfterModuleUnsuspend"),
            system(),
            "puente_service_reactivated",
            service.to_vec(),
        ),
        (
            "AfterModuleTerminate",
            vars("AfterModuleTerminate"),
            system(),
            "puente_service_terminated",
            service.to_vec(),
        ),
        (
            "QuoteCreated",
            vars("QuoteCreated"),
            system(),
            "puente_quote_available",
            vec![
                "Amina",
                "88",
                "150.00 USD",
                "https://panel.example/viewquote.php?id=88",
            ],
        ),
        (
            "DomainDelete",
            vars("DomainDelete"),
            system(),
            "puente_domain_deleted",
            vec!["Amina", "okafor-studio.example"],
        ),
        (
            "ClientEdit",
            vars("ClientEdit"),
            json!({"kind": "client", "id": 1842}),
            "puente_details_changed",
            vec!["Amina", "https://panel.example/clientarea.php"],
        ),
    ];
    for (n, (hook, data, actor, _, _)) in cases.iter().enumerate() {
        fire(&app, &format!("evt_{n}"), hook, data.clone(), actor.clone()).await;
    }

    let report = app.outbox.drain().await.expect("drain");

    assert_eq!(
        report.sent, 12,
        "eleven alerts, and the old number of the ClientEdit: {report:?}"
    );
    for (n, (hook, _, _, template, values)) in cases.iter().enumerate() {
        let sent = messages_of(&app, &format!("evt_{n}")).await;
        let (status, _, body) = &sent[0];
        assert_eq!(status, "sent", "{hook}");
        let body = body.as_ref().expect("request body");
        assert_eq!(body["to"], "2348031234567", "{hook}");
        assert_eq!(body["template"]["name"], *template, "{hook}");
        assert_eq!(
            body["template"]["language"]["code"], "es",
            "{hook}: WHMCS language empty means the default"
        );
        assert_eq!(parameters(body), *values, "{hook}");
    }
    let edit = messages_of(&app, "evt_10").await;
    assert_eq!(
        edit[1].2.as_ref().expect("body")["to"],
        "2348031234567",
        "the number before the change"
    );
    assert_eq!(
        app.outbox.drain().await.expect("again"),
        Default::default(),
        "nothing is sent twice"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_clients_language_and_opt_outs_decide_the_text_and_whether_to_send() {
    let mut client = fixture("api-GetClientsDetails");
    client["client"]["language"] = json!("english");
    client["client"]["email_preferences"]["invoice"] = json!("0");
    let whmcs = fake_whmcs(client).await;
    let app = app_with_whmcs(&whmcs).await;
    fire(
        &app,
        "evt_invoice",
        "InvoiceCreated",
        fixture("InvoiceCreated")["vars"].clone(),
        system(),
    )
    .await;
    fire(
        &app,
        "evt_password",
        "ClientChangePassword",
        json!({"userid": 1842}),
        system(),
    )
    .await;

    let report = app.outbox.drain().await.expect("drain");

    assert_eq!((report.sent, report.skipped), (1, 1));
    let (status, reason, _) = &messages_of(&app, "evt_invoice").await[0];
    assert_eq!(status, "skipped");
    assert!(
        reason
            .as_deref()
            .expect("reason")
            .contains("opted out of `invoice`")
    );
    let (_, _, body) = &messages_of(&app, "evt_password").await[0];
    assert_eq!(
        body.as_ref().expect("body")["template"]["language"]["code"],
        "en",
        "security alerts ignore opt-outs"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_without_a_usable_number_is_skipped_with_the_reason_and_not_retried() {
    let mut client = fixture("api-GetClientsDetails");
    client["client"]["phonenumber"] = json!("");
    let whmcs = fake_whmcs(client).await;
    let app = app_with_whmcs(&whmcs).await;
    welcome(&app).await;

    assert_eq!(app.outbox.drain().await.expect("drain").skipped, 1);

    let (status, reason, body) = &messages_of(&app, "evt_welcome").await[0];
    assert_eq!(status, "skipped");
    assert!(
        reason
            .as_deref()
            .expect("reason")
            .contains("no phone number")
    );
    assert!(body.is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_client_whmcs_does_not_know_is_a_dead_letter() {
    let whmcs = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("api-error")))
        .mount(&whmcs)
        .await;
    let app = app_with_whmcs(&whmcs).await;
    fire(
        &app,
        "evt_welcome",
        "ClientAdd",
        json!({"client_id": 99}),
        system(),
    )
    .await;

    assert_eq!(app.outbox.drain().await.expect("drain").dead, 1);

    let (status, reason, _) = &messages_of(&app, "evt_welcome").await[0];
    assert_eq!(status, "dead");
    assert!(
        reason
            .as_deref()
            .expect("reason")
            .contains("Client Not Found")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_whmcs_outage_leaves_the_message_planned_for_a_later_try() {
    let whmcs = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&whmcs)
        .await;
    let app = app_with_whmcs(&whmcs).await;
    welcome(&app).await;

    assert_eq!(app.outbox.drain().await.expect("drain").retried, 1);
    assert_eq!(
        app.outbox.drain().await.expect("drain again"),
        Default::default(),
        "not due again yet"
    );

    let (status, reason, _) = &messages_of(&app, "evt_welcome").await[0];
    assert_eq!(status, "planned");
    assert!(reason.as_deref().expect("reason").contains("unavailable"));
    let attempts: i64 = app.one("SELECT attempts FROM messages").await;
    assert_eq!(attempts, 1);
    // A retry is not a final outcome: nothing in the client's WHMCS log.
    assert!(whmcs_log(&whmcs).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_cloud_send_posts_the_recorded_body_with_the_token_and_keeps_the_wamid() {
    let (_whmcs, graph, app) = cloud_setup().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer graph-token-abc",
        ))
        .respond_with(accepted("wamid.OK"))
        .expect(1)
        .mount(&graph)
        .await;
    welcome(&app).await;

    assert_eq!(app.outbox.drain().await.expect("drain").sent, 1);

    assert_eq!(
        message_state(&app).await,
        ("sent".to_owned(), 1, Some("wamid.OK".to_owned()))
    );
    let (_, _, recorded) = &messages_of(&app, "evt_welcome").await[0];
    let posted: Value =
        serde_json::from_slice(&graph.received_requests().await.expect("requests")[0].body)
            .expect("JSON");
    assert_eq!(
        Some(&posted),
        recorded.as_ref(),
        "Meta got exactly the recorded body"
    );
    assert_eq!(
        attempts(&app).await,
        [("accepted".to_owned(), Some(200), None)]
    );
    let listed = json_of(app.admin_get("/v1/admin/messages").await, StatusCode::OK).await;
    let shown = &listed["messages"][0];
    assert_eq!(
        (&shown["status"], &shown["attempts"], &shown["wamid"]),
        (&json!("sent"), &json!(1), &json!("wamid.OK"))
    );
    assert_eq!(
        Some(&shown["request_body"]),
        recorded.as_ref(),
        "the admin API shows the exact body"
    );
    app.stop().await;
}

#[tokio::test]
async fn rate_limits_and_outages_are_retried_later_and_permanent_refusals_are_dead_letters() {
    let cases = [
        (graph_error(429, 130429), "planned", Some(130429)),
        (
            ResponseTemplate::new(502).set_body_string("Bad Gateway"),
            "planned",
            None,
        ),
        (graph_error(400, 131026), "dead", Some(131026)),
        (graph_error(404, 132001), "dead", Some(132001)),
    ];
    for (answer, status, code) in cases {
        let (_whmcs, graph, app) = cloud_setup().await;
        mount_graph(&graph, answer).await;
        welcome(&app).await;

        app.outbox.drain().await.expect("drain");

        let (stored, tries, _) = message_state(&app).await;
        assert_eq!((stored.as_str(), tries), (status, 1), "{code:?}");
        assert_eq!(attempts(&app).await[0].2, code);
        if status == "planned" {
            assert_eq!(
                app.outbox.drain().await.expect("again").retried,
                0,
                "not due again yet"
            );
        }
        app.stop().await;
    }
}

/// When the only message may be tried again.
async fn next_attempt(app: &TestApp) -> jiff::Timestamp {
    let at: i64 = app.one("SELECT next_attempt_at_ms FROM messages").await;
    jiff::Timestamp::from_millisecond(at).expect("time")
}

#[tokio::test]
async fn a_failing_message_follows_the_configured_schedule_into_the_dead_letters_and_back_out() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let graph = MockServer::start().await;
    let base = format!("{}/v23.0", graph.uri());
    let app = app_with(
        &whmcs,
        &[
            ("PUENTE_WHATSAPP_MODE", "cloud"),
            ("PUENTE_WHATSAPP_API_BASE", base.as_str()),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            ("PUENTE_WHATSAPP_TOKEN", "graph-token-abc"),
            ("PUENTE_OUTBOX_RETRY_DELAYS", "1m 5m 1h"),
        ],
    )
    .await;
    // Meta fails the first four tries (a transient platform error), then
    // takes the message.
    Mock::given(method("POST"))
        .respond_with(graph_error(500, 131000))
        .up_to_n_times(4)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("wamid.LATE"))
        .mount(&graph)
        .await;
    welcome(&app).await;

    // Each failed try waits the schedule's next delay, ±20 %.
    let mut now = jiff::Timestamp::now();
    for (tries, delay_s) in [(1, 60), (2, 300), (3, 3600)] {
        let report = app.outbox.drain_at(now).await.expect("drain");
        assert_eq!(report.retried, 1, "try {tries}: {report:?}");
        let wait = next_attempt(&app).await.duration_since(now).as_secs();
        assert!(
            (delay_s * 8 / 10..=delay_s * 12 / 10).contains(&wait),
            "try {tries} waits {wait} s, not about {delay_s} s"
        );
        let early = app
            .outbox
            .drain_at(next_attempt(&app).await - jiff::SignedDuration::from_secs(1))
            .await
            .expect("drain");
        assert_eq!(early, Default::default(), "not due before its time");
        now = next_attempt(&app).await;
    }
    // The fourth try is the last: a dead letter, with every try recorded.
    assert_eq!(app.outbox.drain_at(now).await.expect("drain").dead, 1);
    let (status, reason, _) = &messages_of(&app, "evt_welcome").await[0];
    assert_eq!(status, "dead");
    assert!(
        reason
            .as_deref()
            .expect("reason")
            .starts_with("gave up after 4 tries"),
        "{reason:?}"
    );
    assert_eq!(attempts(&app).await.len(), 4);

    // An operator sends it again: it goes out at the next pass.
    let id = app.column("SELECT CAST(id AS TEXT) FROM messages").await[0].clone();
    assert_eq!(
        app.admin_post(&format!("/v1/admin/messages/{id}/retry"))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(app.outbox.drain_at(now).await.expect("drain").sent, 1);
    assert_eq!(
        message_state(&app).await,
        ("sent".to_owned(), 1, Some("wamid.LATE".to_owned()))
    );
    assert_eq!(graph.received_requests().await.expect("requests").len(), 5);
    app.stop().await;
}

#[tokio::test]
async fn a_backlog_is_recorded_in_group_commits() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    let app = app_with(&whmcs, &[]).await;
    for n in 0..40 {
        fire(
            &app,
            &format!("evt_paid_{n}"),
            "InvoicePaid",
            json!({"invoiceid": 3000 + n}),
            system(),
        )
        .await;
    }
    let before = commits(&app.metrics().await);
    assert!(before >= 40.0, "each event committed: {before}");

    let report = app.outbox.drain().await.expect("drain");

    assert_eq!(report.sent, 40, "{report:?}");
    let used = commits(&app.metrics().await) - before;
    assert!(used <= 2.0, "40 dry-run outcomes took {used} commits");
    app.stop().await;
}

/// Group commits so far, from the commit batch histogram's count.
fn commits(metrics: &str) -> f64 {
    counter(metrics, "puente_commit_batch_size_count", "")
}

#[tokio::test]
async fn a_refused_token_pauses_sending_and_raises_the_alarm() {
    let (_whmcs, graph, app) = cloud_setup().await;
    mount_graph(&graph, graph_error(401, 190)).await;
    welcome(&app).await;
    fire(
        &app,
        "evt_invoice",
        "InvoiceCreated",
        fixture("InvoiceCreated")["vars"].clone(),
        system(),
    )
    .await;

    let report = app.outbox.drain().await.expect("drain");
    let again = app.outbox.drain().await.expect("again");

    assert_eq!(
        graph.received_requests().await.expect("requests").len(),
        1,
        "one refusal stops the queue"
    );
    assert_eq!((report.deferred, again), (2, Default::default()));
    assert_eq!(
        message_state_of(&app, "evt_welcome").await,
        "planned",
        "not burnt: sent once the token is fixed"
    );
    assert_eq!(
        counter(&app.metrics().await, "puente_whatsapp_sending_paused", ""),
        1.0
    );
    app.stop().await;
}

async fn message_state_of(app: &TestApp, event: &str) -> String {
    messages_of(app, event).await[0].0.clone()
}

#[tokio::test]
async fn a_send_without_an_answer_is_uncertain_and_only_an_operator_sends_it_again() {
    let (_whmcs, graph, app) = cloud_setup().await;
    Mock::given(method("POST"))
        .respond_with(accepted("wamid.LATE").set_delay(std::time::Duration::from_secs(2)))
        .up_to_n_times(1)
        .mount(&graph)
        .await;
    mount_graph(&graph, accepted("wamid.AGAIN")).await;
    welcome(&app).await;

    assert_eq!(app.outbox.drain().await.expect("drain").uncertain, 1);
    assert_eq!(
        app.outbox.drain().await.expect("again"),
        Default::default(),
        "never resent by itself"
    );
    assert_eq!(message_state(&app).await.0, "uncertain");

    let id: i64 = app.one("SELECT id FROM messages").await;
    let retry = |id: String| format!("/v1/admin/messages/{id}/retry");
    already_woken(app.outbox.woken());
    assert!(!already_woken(app.outbox.woken()));
    assert_eq!(
        app.admin_post(&retry(id.to_string())).await.status(),
        StatusCode::ACCEPTED
    );
    assert!(
        already_woken(app.outbox.woken()),
        "a retry wakes the outbox"
    );
    assert_eq!(app.outbox.drain().await.expect("after retry").sent, 1);
    assert_eq!(
        message_state(&app).await,
        ("sent".to_owned(), 1, Some("wamid.AGAIN".to_owned()))
    );

    assert_retry_refused(&app, "messages", &id.to_string()).await;
    app.stop().await;
}

#[tokio::test]
async fn a_message_left_sending_by_a_crash_becomes_uncertain_and_is_not_resent() {
    let (_whmcs, graph, app) = cloud_setup().await;
    mount_graph(&graph, accepted("wamid.X")).await;
    welcome(&app).await;
    app.execute("UPDATE messages SET status = 'sending'", &[])
        .await;

    // What the service does when it starts again.
    assert_eq!(app.outbox.recover_interrupted().await.expect("recover"), 1);
    app.outbox.drain().await.expect("drain");

    assert_eq!(message_state(&app).await.0, "uncertain");
    assert!(
        graph
            .received_requests()
            .await
            .expect("requests")
            .is_empty()
    );
    app.stop().await;
}

#[tokio::test]
async fn messages_to_one_recipient_are_spaced_by_the_pair_rate() {
    let (_whmcs, graph, app) = cloud_setup().await;
    mount_graph(&graph, accepted("wamid.P")).await;
    welcome(&app).await;
    fire(
        &app,
        "evt_invoice",
        "InvoiceCreated",
        fixture("InvoiceCreated")["vars"].clone(),
        system(),
    )
    .await;

    let report = app.outbox.drain().await.expect("drain");

    assert_eq!((report.sent, report.deferred), (1, 1));
    let (_, reason, _) = &messages_of(&app, "evt_invoice").await[0];
    assert!(reason.as_deref().expect("reason").contains("pair rate"));
    // The worker comes back when the deferred message is due, not a minute
    // later; after a full batch it comes back at once.
    let pause = app.outbox.pause_after(&report).await;
    assert!(
        pause > std::time::Duration::ZERO && pause <= std::time::Duration::from_secs(6),
        "{pause:?}"
    );
    let full = puente::workers::outbox::DrainReport {
        sent: 100,
        ..Default::default()
    };
    assert_eq!(
        app.outbox.pause_after(&full).await,
        std::time::Duration::ZERO
    );
    app.stop().await;
}

#[tokio::test]
async fn explicit_consent_sends_only_to_clients_who_opted_in() {
    for (answer, expected) in [("Sí", "sent"), ("", "skipped"), ("no", "skipped")] {
        let mut client = fixture("api-GetClientsDetails");
        client["client"]["customfields"] = json!([{"id": 7, "value": answer}]);
        let whmcs = fake_whmcs(client).await;
        let app = app_with(
            &whmcs,
            &[
                ("PUENTE_ALERTS_CONSENT", "explicit"),
                ("PUENTE_ALERTS_OPTIN_FIELD", "7"),
            ],
        )
        .await;
        welcome(&app).await;

        app.outbox.drain().await.expect("drain");

        let (status, reason, _) = &messages_of(&app, "evt_welcome").await[0];
        assert_eq!(status, expected, "opt-in answer {answer:?}: {reason:?}");
        app.stop().await;
    }
}

/// A client whose opt-out field (custom field 9) says `opted_out`, an
/// invoice alert and a welcome alert for them, and one pass of the outbox.
async fn invoice_and_welcome_after_opting_out_of(opted_out: &str) -> (MockServer, TestApp) {
    let mut client = fixture("api-GetClientsDetails");
    client["client"]["customfields"] = json!([{"id": 9, "value": opted_out}]);
    let whmcs = fake_whmcs(client).await;
    let app = app_with(&whmcs, &[("PUENTE_ALERTS_OPTOUT_FIELD", "9")]).await;
    fire(
        &app,
        "evt_invoice",
        "InvoiceCreated",
        fixture("InvoiceCreated")["vars"].clone(),
        system(),
    )
    .await;
    welcome(&app).await;
    app.outbox.drain().await.expect("drain");
    (whmcs, app)
}

#[tokio::test]
async fn each_final_outcome_is_noted_in_the_clients_whmcs_log() {
    let (whmcs, app) = invoice_and_welcome_after_opting_out_of("invoice_created").await;

    let client_id = fixture("api-GetClientsDetails")["client"]["id"].to_string();
    let log = whmcs_log(&whmcs).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter()
            .all(|(client, _)| client.trim_matches('"') == client_id),
        "{log:?}"
    );
    let notes: Vec<&str> = log.iter().map(|(_, note)| note.as_str()).collect();
    assert!(
        notes.contains(&"puente: WhatsApp alert welcome recorded, not sent (dry-run mode)"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|note| note
            .starts_with("puente: WhatsApp alert invoice_created not sent:")
            && note.contains("opted out of `invoice_created`")),
        "{notes:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_can_silence_single_alert_kinds_or_all_of_them() {
    let (_whmcs, app) =
        invoice_and_welcome_after_opting_out_of("invoice_created, service_suspended").await;

    let (status, reason, _) = &messages_of(&app, "evt_invoice").await[0];
    assert_eq!(status, "skipped");
    assert!(
        reason
            .as_deref()
            .expect("reason")
            .contains("`invoice_created`")
    );
    assert_eq!(messages_of(&app, "evt_welcome").await[0].0, "sent");
    app.stop().await;
}
