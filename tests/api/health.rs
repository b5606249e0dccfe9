//! Liveness, readiness and the metrics endpoint.

use reqwest::StatusCode;

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
