//! `POST /v1/hooks`: what is accepted, what is refused and why, and that
//! refusals store nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_valid_event_is_accepted_and_stored_once_with_its_exact_bytes() {
    let app = spawn_app().await;
    let body = envelope("InvoicePaid").to_string();
    let response = app
        .post_hook(HookRequest::signed(SECRET, "evt_first", body.clone()))
        .await;
    let answer = json_of(response, StatusCode::ACCEPTED).await;
    assert_eq!(answer, json!({ "status": "accepted", "id": "evt_first" }));

    let stored = json_of(
        app.admin_get("/v1/admin/events/evt_first").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["type"], "InvoicePaid");
    assert_eq!(stored["instance"], "default");
    assert_eq!(stored["status"], "received");
    assert_eq!(
        stored["actor"],
        json!({ "kind": "client", "id": 42, "user_id": 9 })
    );
    assert_eq!(stored["source"], "clientarea");
    assert_eq!(stored["occurred_at"], "2026-11-28T01:00:00Z");
    assert_eq!(stored["payload"].to_string(), body);
    assert_eq!(app.stored_ids().await, vec!["evt_first"]);
    app.stop().await;
}

#[tokio::test]
async fn a_repeated_id_is_a_duplicate_whatever_its_body_and_the_first_body_wins() {
    let app = spawn_app().await;
    let first = envelope("InvoicePaid");
    let mut second = envelope("InvoicePaid");
    second["data"]["invoiceid"] = json!(9999);

    json_of(
        app.send_event("evt_dup", &first).await,
        StatusCode::ACCEPTED,
    )
    .await;
    for body in [&first, &second] {
        let answer = json_of(app.send_event("evt_dup", body).await, StatusCode::OK).await;
        assert_eq!(answer, json!({ "status": "duplicate", "id": "evt_dup" }));
    }

    assert_eq!(app.stored_ids().await, vec!["evt_dup"]);
    let stored = json_of(
        app.admin_get("/v1/admin/events/evt_dup").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["payload"]["data"]["invoiceid"], 1001);
    app.stop().await;
}

#[tokio::test]
async fn duplicates_are_recognised_long_after_the_signature_window() {
    let app = spawn_app().await;
    let body = envelope("InvoicePaid");
    json_of(app.send_event("evt_old", &body).await, StatusCode::ACCEPTED).await;
    // The shim replays a spooled event days later: same id, fresh timestamp.
    app.execute(
        "UPDATE events SET received_at_ms = received_at_ms - 7 * 86400000 WHERE id = 'evt_old'",
        &[],
    )
    .await;
    let answer = json_of(app.send_event("evt_old", &body).await, StatusCode::OK).await;
    assert_eq!(answer["status"], "duplicate");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_hook_type_is_stored_but_marked_unhandled() {
    let app = spawn_app().await;
    json_of(
        app.send_event("evt_new_hook", &envelope("TicketOpen"))
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let stored = json_of(
        app.admin_get("/v1/admin/events/evt_new_hook").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["status"], "unhandled");
    app.stop().await;
}

#[tokio::test]
async fn signature_failures_are_401_with_their_code_and_store_nothing() {
    let app = spawn_app().await;
    let body = envelope("InvoicePaid").to_string();
    let good = || HookRequest::signed(SECRET, "evt_x", body.clone());
    // An hour out, so the seconds this test takes cannot bring the future
    // timestamp back inside the window; the 300 s edge itself is pinned by
    // the unit tests of `signature::verify`, which take `now` as an argument.
    let hour = 3600;
    let cases: Vec<(&str, HookRequest, &str)> = vec![
        (
            "tampered body",
            good().body(body.replace("1001", "1002")),
            "invalid_signature",
        ),
        (
            "wrong secret",
            HookRequest::signed(OTHER_SECRET, "evt_x", body.clone()),
            "invalid_signature",
        ),
        (
            "changed id",
            good().header("webhook-id", "evt_y"),
            "invalid_signature",
        ),
        (
            "stale timestamp",
            HookRequest::signed_at(SECRET, "evt_x", now() - hour, body.clone()),
            "stale_timestamp",
        ),
        (
            "future timestamp",
            HookRequest::signed_at(SECRET, "evt_x", now() + hour, body.clone()),
            "stale_timestamp",
        ),
        (
            "no webhook-id",
            good().without("webhook-id"),
            "missing_signature",
        ),
        (
            "no webhook-timestamp",
            good().without("webhook-timestamp"),
            "missing_signature",
        ),
        (
            "no webhook-signature",
            good().without("webhook-signature"),
            "missing_signature",
        ),
        (
            "signature without version",
            good().header("webhook-signature", "garbage"),
            "invalid_signature",
        ),
        (
            "only unknown versions",
            good().header("webhook-signature", "v1a,AAAA v2,BBBB"),
            "invalid_signature",
        ),
        (
            "signature not base64",
            good().header("webhook-signature", "v1,%%%"),
            "invalid_signature",
        ),
        (
            "timestamp not a number",
            good().header("webhook-timestamp", "soon"),
            "invalid_signature",
        ),
    ];
    for (case, request, code) in cases {
        let response = app.post_hook(request).await;
        let message = assert_error(response, StatusCode::UNAUTHORIZED, code).await;
        assert!(!message.contains(SECRET), "{case}: {message}");
    }
    assert!(app.stored_ids().await.is_empty());
    let metrics = app.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "puente_events_total",
            "reason=\"invalid_signature\""
        ),
        7.0
    );
    assert_eq!(
        counter(
            &metrics,
            "puente_events_total",
            "reason=\"stale_timestamp\""
        ),
        2.0
    );
    assert_eq!(
        counter(
            &metrics,
            "puente_events_total",
            "reason=\"missing_signature\""
        ),
        3.0
    );
    app.stop().await;
}

#[tokio::test]
async fn signed_bodies_that_are_not_envelopes_are_400_and_store_nothing() {
    let app = spawn_app().await;
    let mut no_actor_id = envelope("InvoicePaid");
    no_actor_id["context"]["actor"] = json!({ "kind": "admin" });
    let mut data_not_object = envelope("InvoicePaid");
    data_not_object["data"] = json!("invoice 1001");
    let cases: Vec<(String, &str)> = vec![
        ("this is not json".into(), "malformed_json"),
        ("{\"type\":\"InvoicePaid\",".into(), "malformed_json"),
        ("[1,2,3]".into(), "invalid_envelope"),
        ("{\"type\":\"InvoicePaid\"}".into(), "invalid_envelope"),
        (no_actor_id.to_string(), "invalid_envelope"),
        (data_not_object.to_string(), "invalid_envelope"),
    ];
    for (index, (body, code)) in cases.into_iter().enumerate() {
        let response = app
            .post_hook(HookRequest::signed(SECRET, &format!("evt_{index}"), body))
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, code).await;
    }
    let response = app
        .post_hook(HookRequest::signed(
            SECRET,
            "evt.dotted",
            envelope("InvoicePaid").to_string(),
        ))
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "invalid_webhook_id").await;
    assert!(app.stored_ids().await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn only_json_is_accepted_and_the_media_type_is_checked_first() {
    let app = spawn_app().await;
    let body = envelope("InvoicePaid").to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = app
            .post_hook(
                HookRequest::signed(SECRET, "evt_ct", body.clone()).content_type(content_type),
            )
            .await;
        assert_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    let with_charset = HookRequest::signed(SECRET, "evt_ct", body.clone())
        .content_type(Some("application/json; charset=utf-8"));
    json_of(app.post_hook(with_charset).await, StatusCode::ACCEPTED).await;

    let huge_and_wrong_type = HookRequest::signed(SECRET, "evt_big", vec![b' '; 300 * 1024])
        .content_type(Some("text/plain"));
    assert_error(
        app.post_hook(huge_and_wrong_type).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_256_kib_are_413_before_the_signature_is_checked() {
    let app = spawn_app().await;
    let limit = 256 * 1024;
    let mut padded = envelope("InvoicePaid");
    let filler = limit - padded.to_string().len() - "\"pad\":\"\",".len();
    padded["data"]["pad"] = json!("x".repeat(filler));
    let at_limit = padded.to_string();
    assert_eq!(at_limit.len(), limit);
    json_of(
        app.post_hook(HookRequest::signed(
            SECRET,
            "evt_at_limit",
            at_limit.clone(),
        ))
        .await,
        StatusCode::ACCEPTED,
    )
    .await;

    let over = format!("{at_limit} ");
    let unsigned =
        HookRequest::signed(SECRET, "evt_over", over.clone()).without("webhook-signature");
    assert_error(
        app.post_hook(unsigned).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;

    // Without a Content-Length the limit holds while reading.
    let chunked = raw_chunked_post(app.port, "evt_chunked", over.as_bytes()).await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("payload_too_large"), "{chunked}");
    assert_eq!(app.stored_ids().await, vec!["evt_at_limit"]);
    app.stop().await;
}

/// A chunked POST written by hand: reqwest always declares the length.
async fn raw_chunked_post(port: u16, id: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let signature = puente::signature::sign(&SECRET.parse().expect("secret"), id, now(), body);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/hooks HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nwebhook-id: {id}\r\nwebhook-timestamp: {}\r\n\
         webhook-signature: {signature}\r\nconnection: close\r\n\r\n",
        now()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in body.chunks(16 * 1024) {
        let sent = async {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await
        };
        // The server may answer and close before the whole body is sent.
        if sent.await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_secret_of_one_instance_never_authenticates_another() {
    let toml = format!(
        "[instances.alpha]\nsecrets = \"{SECRET}\"\n[instances.beta]\nsecrets = \"{OTHER_SECRET}\"\n"
    );
    let global = "whsec_dGVzdC1zZWNyZXQtZm9yLXdobWNzLXdhLWJyaWRnZQ==";
    let app = spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_HOOK_SECRETS", global),
        ],
        &toml,
    )
    .await;
    let alpha_body = envelope_for("InvoicePaid", "alpha").to_string();
    let beta_body = envelope_for("InvoicePaid", "beta").to_string();

    let alpha_signs_for_beta =
        HookRequest::signed(SECRET, "evt_1", beta_body.clone()).header("puente-instance", "beta");
    assert_error(
        app.post_hook(alpha_signs_for_beta).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    )
    .await;

    let global_signs_for_alpha =
        HookRequest::signed(global, "evt_2", alpha_body.clone()).header("puente-instance", "alpha");
    assert_error(
        app.post_hook(global_signs_for_alpha).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    )
    .await;

    let alpha_claims_beta_in_body =
        HookRequest::signed(SECRET, "evt_3", beta_body.clone()).header("puente-instance", "alpha");
    assert_error(
        app.post_hook(alpha_claims_beta_in_body).await,
        StatusCode::UNAUTHORIZED,
        "instance_mismatch",
    )
    .await;

    let alpha_without_header = HookRequest::signed(SECRET, "evt_4", alpha_body.clone());
    assert_error(
        app.post_hook(alpha_without_header).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    )
    .await;

    let global_without_header_claims_alpha =
        HookRequest::signed(global, "evt_5", alpha_body.clone());
    assert_error(
        app.post_hook(global_without_header_claims_alpha).await,
        StatusCode::UNAUTHORIZED,
        "instance_mismatch",
    )
    .await;

    assert!(app.stored_ids().await.is_empty());

    let alpha =
        HookRequest::signed(SECRET, "evt_alpha", alpha_body).header("puente-instance", "alpha");
    json_of(app.post_hook(alpha).await, StatusCode::ACCEPTED).await;
    let beta =
        HookRequest::signed(OTHER_SECRET, "evt_beta", beta_body).header("puente-instance", "beta");
    json_of(app.post_hook(beta).await, StatusCode::ACCEPTED).await;
    let gamma_body = envelope_for("InvoicePaid", "gamma").to_string();
    let gamma =
        HookRequest::signed(global, "evt_gamma", gamma_body).header("puente-instance", "gamma");
    json_of(app.post_hook(gamma).await, StatusCode::ACCEPTED).await;
    let default = HookRequest::signed(global, "evt_default", envelope("InvoicePaid").to_string());
    json_of(app.post_hook(default).await, StatusCode::ACCEPTED).await;

    let stored = json_of(
        app.admin_get("/v1/admin/events/evt_beta").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["instance"], "beta");
    assert_eq!(app.stored_ids().await.len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn a_locked_database_answers_503_stores_nothing_and_the_retry_succeeds() {
    let app = spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_DATABASE_BUSY_TIMEOUT_MS", "20"),
        ],
        "",
    )
    .await;
    let body = envelope("InvoicePaid");
    let lock = app.backend.hold_write_lock().await;
    let response = app.send_event("evt_locked", &body).await;
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
    )
    .await;
    lock.release().await;

    assert!(app.stored_ids().await.is_empty());
    json_of(
        app.send_event("evt_locked", &body).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(app.stored_ids().await, vec!["evt_locked"]);
    app.stop().await;
}

#[tokio::test]
async fn outcomes_are_counted_in_the_metrics() {
    let app = spawn_app().await;
    let body = envelope("InvoicePaid");
    app.send_event("evt_m1", &body).await;
    app.send_event("evt_m1", &body).await;
    app.send_event("evt_m2", &body).await;
    app.post_hook(HookRequest::signed(
        OTHER_SECRET,
        "evt_m3",
        body.to_string(),
    ))
    .await;
    let metrics = app.metrics().await;
    assert_eq!(
        counter(&metrics, "puente_events_total", "outcome=\"accepted\""),
        2.0
    );
    assert_eq!(
        counter(&metrics, "puente_events_total", "outcome=\"duplicate\""),
        1.0
    );
    assert_eq!(
        counter(&metrics, "puente_events_total", "outcome=\"rejected\""),
        1.0
    );
    assert_eq!(
        counter(
            &metrics,
            "puente_http_requests_total",
            "route=\"/v1/hooks\",method=\"POST\",status=\"202\""
        ),
        2.0
    );
    assert_eq!(
        counter(
            &metrics,
            "puente_http_requests_total",
            "route=\"/v1/hooks\",method=\"POST\",status=\"401\""
        ),
        1.0
    );
    assert!(
        counter(&metrics, "puente_commit_batch_size_count", "") >= 3.0,
        "{metrics}"
    );
    assert!(
        counter(&metrics, "puente_commit_seconds_count", "") >= 3.0,
        "{metrics}"
    );
    app.stop().await;
}
