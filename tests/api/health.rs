//! Liveness, readiness and the metrics endpoint.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn liveness_answers_ok() {
    let app = spawn_app().await;
    let body = json_of(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("sent"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["status"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn readiness_follows_whether_the_database_takes_writes() {
    let app = spawn_app_with(&[("PUENTE_DATABASE_BUSY_TIMEOUT_MS", "20")], "").await;
    let ready = || app.client.get(app.url("/readyz")).send();
    let body = json_of(ready().await.expect("sent"), StatusCode::OK).await;
    assert_eq!(body["status"], "ready");

    let lock = app.backend.hold_write_lock().await;
    assert_error(
        ready().await.expect("sent"),
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
    )
    .await;
    lock.release().await;

    json_of(ready().await.expect("sent"), StatusCode::OK).await;
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_count_requests_by_route() {
    let app = spawn_app().await;
    app.client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    app.client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("sent");
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("text");
    assert!(
        text.contains("# TYPE puente_http_requests_total counter"),
        "{text}"
    );
    assert_eq!(
        counter(
            &text,
            "puente_http_requests_total",
            "route=\"/healthz\",method=\"GET\",status=\"200\""
        ),
        1.0
    );
    assert_eq!(
        counter(
            &text,
            "puente_http_requests_total",
            "route=\"unmatched\",method=\"GET\",status=\"404\""
        ),
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/v1/nothing"))
        .send()
        .await
        .expect("sent");
    assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    app.stop().await;
}

/// The value of the gauge `name{labels}` in `metrics`, if it is there.
fn gauge(metrics: &str, name: &str, labels: &str) -> Option<i64> {
    let prefix = format!("{name}{{{labels}}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.parse().expect("an integer gauge"))
}

#[tokio::test]
async fn each_scrape_reads_the_work_due_now_and_the_dead_letters() {
    let app = spawn_app().await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("\npuente_ready 1\n"), "{metrics}");
    for worker in ["outbox", "upgrades", "cancellations", "transfers"] {
        let labels = format!("worker=\"{worker}\",whmcs_instance=\"default\"");
        assert_eq!(
            gauge(&metrics, "puente_work_backlog", &labels),
            Some(0),
            "nothing due yet at {worker}: {metrics}"
        );
    }

    // One alert planned by a hook: due at once.
    fire(
        &app,
        "evt_due",
        "ClientAdd",
        json!({"client_id": 99}),
        system(),
    )
    .await;
    let hour_ago = now() * 1000 - 3_600_000;
    let seq = app
        .column("SELECT CAST(seq AS TEXT) FROM events WHERE id = 'evt_due'")
        .await
        .pop()
        .expect("stored");
    // Per worker, records it owes a step now and records waiting on a
    // person or a date.
    app.batch(&format!(
        "INSERT INTO upgrade_applications (id, event_seq, instance, upgrade_id, upgrade_type,
             service_id, client_id, product_id, billing_cycle, policy, enable_date, status,
             planned_at_ms)
         VALUES (1, {seq}, 'default', 1, 'package', 11, 5, 13, 'Annually', 'seed', '2026-12-01',
                 'planned', {hour_ago}),
                (2, {seq}, 'default', 2, 'package', 12, 5, 13, 'Annually', 'seed', '2026-12-01',
                 'failed', 0);
         INSERT INTO cancellations (id, event_seq, instance, subject_kind, subject_id, client_id,
             cancel_type, origin, requested_at_ms, requested_on, effective_date, status,
             updated_at_ms)
         VALUES (1, {seq}, 'default', 'service', 21, 5, 'Immediate', 'client_page', {hour_ago},
                 '2026-12-01', NULL, 'requested', 0),
                (2, {seq}, 'default', 'service', 22, 5, 'End of Billing Period', 'client_page', 0,
                 '2000-01-01', '2000-01-01', 'scheduled', 0),
                (3, {seq}, 'default', 'service', 23, 5, 'End of Billing Period', 'client_page', 0,
                 '2026-12-01', '2999-01-01', 'scheduled', 0),
                (4, {seq}, 'default', 'service', 24, 5, 'Immediate', 'whmcs_client_form', 0,
                 '2026-12-01', NULL, 'unconfirmed', 0);
         INSERT INTO transfers (id, event_seq, instance, service_id, owner_client_id,
             recipient_client_id, recipient_email, approval, status, requested_at_ms,
             expires_at_ms, updated_at_ms)
         VALUES (1, {seq}, 'default', 31, 5, 6, 'b@example.com', 'none', 'accepted', 0,
                 9999999999999, {hour_ago}),
                (2, {seq}, 'default', 32, 5, 6, 'b@example.com', 'staff', 'accepted', 0,
                 9999999999999, 0),
                (3, {seq}, 'default', 33, 5, 6, 'b@example.com', 'none', 'requested', 0,
                 1000, 0),
                (4, {seq}, 'default', 34, 5, 6, 'b@example.com', 'none', 'requested', 0,
                 9999999999999, 0);"
    ))
    .await;

    let metrics = app.metrics().await;
    let backlog = |worker: &str| {
        gauge(
            &metrics,
            "puente_work_backlog",
            &format!("worker=\"{worker}\",whmcs_instance=\"default\""),
        )
    };
    let oldest = |worker: &str| {
        gauge(
            &metrics,
            "puente_work_oldest_due_seconds",
            &format!("worker=\"{worker}\",whmcs_instance=\"default\""),
        )
        .expect("an oldest age beside each backlog")
    };
    assert_eq!(backlog("outbox"), Some(1), "{metrics}");
    assert_eq!(backlog("upgrades"), Some(1));
    assert_eq!(
        backlog("cancellations"),
        Some(2),
        "requested, and past its day"
    );
    assert_eq!(
        backlog("transfers"),
        Some(2),
        "to move, and past its expiry"
    );
    assert!(oldest("outbox") < 3600, "due since the hook");
    assert!((3600..3700).contains(&oldest("upgrades")));
    // The scheduled one's day ended on 2000-01-02, long before the request
    // of an hour ago; the expired transfer expired at 1 s past 1970.
    assert!(oldest("cancellations") > 26 * 365 * 86_400);
    assert!(oldest("transfers") > 56 * 365 * 86_400);
    assert_eq!(
        gauge(
            &metrics,
            "puente_dead_letters",
            "whmcs_instance=\"default\""
        ),
        Some(0)
    );

    // The alert is tried later, then gives up: not due, a dead letter.
    app.execute(
        "UPDATE messages SET next_attempt_at_ms = 99999999999999",
        &[],
    )
    .await;
    let metrics = app.metrics().await;
    assert_eq!(
        gauge(
            &metrics,
            "puente_work_backlog",
            "worker=\"outbox\",whmcs_instance=\"default\""
        ),
        Some(0),
        "a reading replaces the previous one"
    );
    assert_eq!(
        gauge(
            &metrics,
            "puente_work_oldest_due_seconds",
            "worker=\"outbox\",whmcs_instance=\"default\""
        ),
        Some(0)
    );
    app.execute("UPDATE messages SET status = 'dead'", &[])
        .await;
    let metrics = app.metrics().await;
    assert_eq!(
        gauge(
            &metrics,
            "puente_dead_letters",
            "whmcs_instance=\"default\""
        ),
        Some(1)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_scrape_while_the_database_refuses_writes_says_not_ready() {
    let app = spawn_app_with(&[("PUENTE_DATABASE_BUSY_TIMEOUT_MS", "20")], "").await;
    let lock = app.backend.hold_write_lock().await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("\npuente_ready 0\n"), "{metrics}");
    lock.release().await;
    assert!(app.metrics().await.contains("\npuente_ready 1\n"));
    app.stop().await;
}

#[tokio::test]
async fn every_metric_the_grafana_dashboard_and_the_alerts_read_is_in_a_scrape() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = std::process::Command::new("python3")
        .arg(root.join("scripts/dashboard-metrics.py"))
        .arg("--root")
        .arg(root)
        .output()
        .expect("run scripts/dashboard-metrics.py");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let names: Vec<String> = String::from_utf8(listed.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 20, "the dashboard and rules read {names:?}");

    // A fresh service sending through the Cloud API, whose template check
    // ran once at start-up (an empty account here), that answered one
    // request: what a first scrape sees.
    let graph = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&graph)
        .await;
    let base = format!("{}/v23.0", graph.uri());
    let app = spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_WHATSAPP_MODE", "cloud"),
            ("PUENTE_WHATSAPP_API_BASE", base.as_str()),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            ("PUENTE_WHATSAPP_BUSINESS_ACCOUNT_ID", "102290129340398"),
            ("PUENTE_WHATSAPP_TOKEN", "graph-token-abc"),
        ],
        "",
    )
    .await;
    assert_eq!(app.templates.check_all(jiff::Timestamp::now()).await, 1);
    app.client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    let metrics = app.metrics().await;
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            !metrics.lines().any(|line| {
                line.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "read by contrib/ but not in a scrape: {missing:?}\n{metrics}"
    );
    app.stop().await;
}
