//! Meta's webhook: the verification handshake, `X-Hub-Signature-256` over
//! the raw body, redeliveries, and statuses that arrive out of order.

use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

pub(crate) const APP_SECRET: &str = "test_app_secret";
const VERIFY_TOKEN: &str = "verify-me-0123";

pub(crate) fn hub_signature(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("key");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

async fn webhook_app() -> TestApp {
    spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_WHATSAPP_APP_SECRET", APP_SECRET),
            ("PUENTE_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
            // The number the notifications below are about.
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
        ],
        "",
    )
    .await
}

pub(crate) async fn post_notification(
    app: &TestApp,
    body: &[u8],
    signature: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/whatsapp/webhook"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.expect("request")
}

fn statuses(wamid: &str, updates: &[(&str, i64)]) -> Vec<u8> {
    let statuses: Vec<Value> = updates
        .iter()
        .map(|(status, at)| {
            let mut report = json!({"id": wamid, "status": status, "timestamp": at.to_string(), "recipient_id": "2348031234567"});
            if *status == "failed" {
                report["errors"] = json!([{"code": 131026, "title": "Message undeliverable"}]);
            }
            report
        })
        .collect();
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": statuses
        }}]}]
    }))
    .expect("JSON")
}

/// A message puente sent, as the outbox will record it: planned from an
/// event, then given Meta's id.
async fn sent_message(app: &TestApp, wamid: &str) {
    let mut envelope = envelope("ClientAdd");
    envelope["data"] = json!({"client_id": 1842});
    assert_eq!(
        app.send_event("evt_welcome", &envelope).await.status(),
        StatusCode::ACCEPTED
    );
    app.execute(
        "UPDATE messages SET status = 'sent', wamid = ?1",
        &[wamid.into()],
    )
    .await;
}

async fn stored_status(app: &TestApp, wamid: &str) -> (String, Option<i64>) {
    app.backend
        .pairs(&format!(
            "SELECT status, meta_error_code FROM messages WHERE wamid = '{wamid}'"
        ))
        .await
        .pop()
        .expect("message")
}

#[test]
fn the_signature_reproduces_every_x_hub_signature_vector() {
    let vectors = signature_vectors("x_hub_signature_256");
    assert_eq!(vectors.len(), 2);
    for vector in &vectors {
        let secret = vector["secret"].as_str().expect("secret").as_bytes();
        let payload = vector["payload"].as_str().expect("payload").as_bytes();
        let header = vector["header"].as_str().expect("header");
        assert!(
            puente::signature::verify_hub_signature(secret, header, payload),
            "{vector}"
        );
        assert!(!puente::signature::verify_hub_signature(
            secret,
            header,
            &[payload, b" "].concat()
        ));
        assert!(!puente::signature::verify_hub_signature(
            b"other", header, payload
        ));
        assert!(!puente::signature::verify_hub_signature(
            secret,
            &header.replace("sha256=", "sha1="),
            payload
        ));
    }
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_verify_token() {
    let app = webhook_app().await;
    let get = |query: &'static str| {
        let url = app.url(&format!("/v1/whatsapp/webhook?{query}"));
        let client = app.client.clone();
        async move { client.get(url).send().await.expect("request") }
    };

    let answer =
        get("hub.mode=subscribe&hub.verify_token=verify-me-0123&hub.challenge=1158201444").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.text().await.expect("body"), "1158201444");
    let refused = get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1").await;
    assert_error(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let refused = get("hub.mode=unsubscribe&hub.verify_token=verify-me-0123&hub.challenge=1").await;
    assert_error(refused, StatusCode::FORBIDDEN, "forbidden").await;
    app.stop().await;

    let unconfigured = spawn_app().await;
    let answer = unconfigured
        .client
        .get(
            unconfigured
                .url("/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    unconfigured.stop().await;
}

#[tokio::test]
async fn statuses_move_a_message_forward_whatever_order_they_arrive_in() {
    let app = webhook_app().await;
    sent_message(&app, "wamid.A").await;

    for (n, updates) in [
        vec![("read", 1_750_000_300)],
        vec![("delivered", 1_750_000_200)],
        vec![("failed", 1_750_000_400), ("sent", 1_750_000_100)],
    ]
    .into_iter()
    .enumerate()
    {
        let body = statuses("wamid.A", &updates);
        let answer = post_notification(&app, &body, Some(&hub_signature(&body))).await;
        let answer = json_of(answer, StatusCode::OK).await;
        assert_eq!(answer["status"], "applied", "delivery {n}");
    }

    assert_eq!(
        stored_status(&app, "wamid.A").await,
        ("read".to_owned(), None)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failure_is_recorded_with_metas_code_and_a_later_delivery_overrides_it() {
    let app = webhook_app().await;
    sent_message(&app, "wamid.B").await;

    let failed = statuses("wamid.B", &[("failed", 1_750_000_100)]);
    json_of(
        post_notification(&app, &failed, Some(&hub_signature(&failed))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        stored_status(&app, "wamid.B").await,
        ("failed".to_owned(), Some(131026))
    );

    let delivered = statuses("wamid.B", &[("delivered", 1_750_000_200)]);
    json_of(
        post_notification(&app, &delivered, Some(&hub_signature(&delivered))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored_status(&app, "wamid.B").await.0, "delivered");
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_notification_changes_nothing() {
    let app = webhook_app().await;
    sent_message(&app, "wamid.C").await;
    let body = statuses("wamid.C", &[("delivered", 1_750_000_200)]);

    let first = json_of(
        post_notification(&app, &body, Some(&hub_signature(&body))).await,
        StatusCode::OK,
    )
    .await;
    let again = json_of(
        post_notification(&app, &body, Some(&hub_signature(&body))).await,
        StatusCode::OK,
    )
    .await;

    assert_eq!(
        first,
        json!({"status": "applied", "updated": 1, "ignored": 0})
    );
    assert_eq!(again, json!({"status": "duplicate"}));
    app.stop().await;
}

#[tokio::test]
async fn unsigned_tampered_or_malformed_notifications_are_refused_and_change_nothing() {
    let app = webhook_app().await;
    sent_message(&app, "wamid.D").await;
    let body = statuses("wamid.D", &[("read", 1_750_000_200)]);
    let signature = hub_signature(&body);

    assert_error(
        post_notification(&app, &body, None).await,
        StatusCode::UNAUTHORIZED,
        "missing_signature",
    )
    .await;
    let tampered = String::from_utf8(body.clone())
        .expect("text")
        .replace("read", "sent")
        .into_bytes();
    assert_error(
        post_notification(&app, &tampered, Some(&signature)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    )
    .await;
    assert_error(
        post_notification(&app, &body, Some("sha256=zz")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
    )
    .await;
    let not_json = b"{\"entry\": [".to_vec();
    assert_error(
        post_notification(&app, &not_json, Some(&hub_signature(&not_json))).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;

    assert_eq!(stored_status(&app, "wamid.D").await.0, "sent");
    app.stop().await;

    let unconfigured = spawn_app().await;
    assert_eq!(
        post_notification(&unconfigured, &body, Some(&signature))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    unconfigured.stop().await;
}

/// A notification of messages clients sent to the instance's number.
pub(crate) fn inbound(messages: Value, contacts: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": contacts,
            "messages": messages
        }}]}]
    }))
    .expect("JSON")
}

#[tokio::test]
async fn messages_clients_send_are_kept_once_with_the_alert_they_answer_and_what_they_ask() {
    let app = webhook_app().await;
    // The welcome alert puente sent to client 1842, as Meta knows it.
    welcome(&app).await;
    app.execute(
        "UPDATE messages SET status = 'sent', wamid = 'wamid.ALERT'",
        &[],
    )
    .await;
    let alert: i64 = app.one("SELECT id FROM messages").await;

    let body = inbound(
        json!([
            {"from": "2348031234567", "id": "wamid.IN1", "timestamp": "1764900000", "type": "text",
             "text": {"body": "¡BAJA!"}, "context": {"from": "15550783881", "id": "wamid.ALERT"}},
            {"from": "5215512345678", "id": "wamid.IN2", "timestamp": "1764900060", "type": "text",
             "text": {"body": "Hola, ya pagué la factura"}},
            {"from": "2348031234567", "id": "wamid.IN3", "timestamp": "1764900120", "type": "image",
             "image": {"id": "media.1", "mime_type": "image/jpeg"}}
        ]),
        json!([
            {"wa_id": "2348031234567", "profile": {"name": "Amina"}},
            {"wa_id": "5215512345678", "profile": {"name": "Luis"}}
        ]),
    );
    let response = post_notification(&app, &body, Some(&hub_signature(&body))).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Meta delivers the same body again, and the first message in a batch
    // of its own: nothing is kept twice.
    post_notification(&app, &body, Some(&hub_signature(&body))).await;
    let again = inbound(
        json!([{"from": "2348031234567", "id": "wamid.IN1", "timestamp": "1764900000",
                "type": "text", "text": {"body": "¡BAJA!"}}]),
        json!([]),
    );
    let response = post_notification(&app, &again, Some(&hub_signature(&again))).await;
    assert_eq!(response.status(), StatusCode::OK);

    let rows: Vec<(String, String, String)> = app
        .triples(
            "SELECT wamid, intent, COALESCE(CAST(client_id AS TEXT), '') || '/' ||
                    COALESCE(CAST(message_id AS TEXT), '') || '/' || COALESCE(text, '') ||
                    '/' || COALESCE(profile_name, '')
               FROM inbound_messages ORDER BY id",
        )
        .await;
    assert_eq!(
        rows,
        [
            (
                "wamid.IN1".to_owned(),
                "opt_out".to_owned(),
                format!("1842/{alert}/¡BAJA!/Amina")
            ),
            (
                "wamid.IN2".to_owned(),
                "reply".to_owned(),
                "//Hola, ya pagué la factura/Luis".to_owned()
            ),
            (
                "wamid.IN3".to_owned(),
                "reply".to_owned(),
                "///Amina".to_owned()
            ),
        ],
        "the unknown number stays without a client; the image has no text"
    );

    // Staff read them on the dashboard.
    let cookie = crate::dashboard::sign_in(&app, ADMIN_TOKEN).await;
    let (status, page) = crate::dashboard::get_page(&app, &cookie, "/admin/replies").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "¡BAJA!",
        "opt out",
        "+5215512345678",
        "Luis",
        "unknown",
        "(image)",
    ] {
        assert!(page.contains(shown), "{shown} in the page");
    }
    assert!(page.contains(&format!("href=\"/admin/messages/{alert}\"")));
    app.stop().await;
}

#[tokio::test]
async fn an_install_reads_replies_with_its_own_words() {
    let app = spawn_app_with(
        &[
            ("PUENTE_WHATSAPP_APP_SECRET", APP_SECRET),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            ("PUENTE_ALERTS_OPTOUT_WORDS", "quitar, ya no"),
        ],
        "",
    )
    .await;
    let body = inbound(
        json!([
            {"from": "2348031234567", "id": "wamid.A", "timestamp": "1764900000", "type": "text",
             "text": {"body": "Ya no."}},
            {"from": "2348031234567", "id": "wamid.B", "timestamp": "1764900001", "type": "text",
             "text": {"body": "STOP"}},
            {"from": "2348031234567", "id": "wamid.C", "timestamp": "1764900002", "type": "button",
             "button": {"text": "Sí", "payload": "START"}}
        ]),
        json!([]),
    );
    let response = post_notification(&app, &body, Some(&hub_signature(&body))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.column("SELECT intent FROM inbound_messages ORDER BY id")
            .await,
        ["opt_out", "reply", "opt_in"],
        "its opt-out words replace the built-in ones; the opt-in ones stay"
    );
    app.stop().await;
}
