//! Retention: each instance's old events go with their messages and
//! attempts, on its own schedule; what an open rule or a record still needs
//! stays.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const ALFA_SECRET: &str = "whsec_QWxmYS1ob29rLXNlY3JldC0wMTIzNDU2Nzg5";

async fn event(app: &TestApp, instance: &str, id: &str, hook: &str) {
    let mut body = envelope_for(hook, instance);
    body["data"] = json!({"client_id": 1842});
    body["context"]["actor"] = json!({"kind": "system"});
    let secret = if instance == "alfa" {
        ALFA_SECRET
    } else {
        SECRET
    };
    let request =
        HookRequest::signed(secret, id, body.to_string()).header("puente-instance", instance);
    assert_eq!(
        app.post_hook(request).await.status(),
        StatusCode::ACCEPTED,
        "{id}"
    );
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.one(sql).await
}

#[tokio::test]
async fn each_instance_keeps_events_for_its_own_days_and_what_rules_need_stays() {
    let toml = format!("[instances.alfa]\nsecrets = \"{ALFA_SECRET}\"\nretention_days = 7\n");
    let app = spawn_app_with(&[("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)], &toml).await;
    event(&app, "alfa", "evt_alfa_welcome", "ClientAdd").await;
    event(&app, "alfa", "evt_alfa_login", "UserLogin").await;
    event(&app, "default", "evt_welcome", "ClientAdd").await;
    event(&app, "default", "evt_login", "UserLogin").await;
    event(&app, "default", "evt_audited", "UserLogin").await;
    // alfa's alert went out (one attempt); default's is still planned.
    app.batch(
        "UPDATE messages SET status = 'sent' WHERE instance = 'alfa';
         INSERT INTO message_attempts (message_id, at_ms, outcome, detail)
              SELECT id, 0, 'accepted', '' FROM messages WHERE instance = 'alfa';",
    )
    .await;
    app.execute(
        "INSERT INTO whatsapp_notifications (body_sha256, received_at_ms) VALUES (?1, ?2)",
        &[
            SqlValue::Bytes(vec![1]),
            jiff::Timestamp::now().as_millisecond().into(),
        ],
    )
    .await;
    // A message a client sent, received now.
    app.execute(
        "INSERT INTO inbound_messages (wamid, instance, from_number, sent_at_ms, received_at_ms,
             kind, text, intent)
         VALUES ('wamid.IN', 'default', '2348031234567', ?1, ?1, 'text', 'Hola', 'reply')",
        &[jiff::Timestamp::now().as_millisecond().into()],
    )
    .await;
    // A cancellation record points at one of default's events.
    app.execute(
        "INSERT INTO cancellations (event_seq, instance, subject_kind, subject_id, client_id,
             cancel_type, origin, requested_at_ms, requested_on, status, updated_at_ms)
         SELECT seq, 'default', 'service', 7731, 1842, 'Immediate', 'whmcs', 0,
                '2026-12-01', 'terminated', 0 FROM events WHERE id = 'evt_audited'",
        &[],
    )
    .await;
    let now = jiff::Timestamp::now();
    let days = |n: i64| now + jiff::SignedDuration::from_hours(24 * n);

    // A week and a day on: alfa's (7 days) are gone, default's (90) stay.
    let week = app.retention.purge_at(days(8)).await.expect("purge");
    assert_eq!(
        (week.events, week.messages, week.attempts, week.kept),
        (2, 1, 1, 0)
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM events WHERE instance = 'alfa'").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM message_attempts").await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE instance = 'default'"
        )
        .await,
        3
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM whatsapp_notifications").await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM inbound_messages").await,
        1,
        "kept for the longest instance's days"
    );

    // Past 90 days: default's plain event goes; the one with a planned
    // alert and the one a cancellation record points at stay.
    let season = app.retention.purge_at(days(91)).await.expect("purge");
    assert_eq!((season.events, season.kept), (1, 2));
    assert_eq!(
        app.column("SELECT id FROM events ORDER BY seq").await,
        ["evt_welcome", "evt_audited"]
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM messages WHERE status = 'planned'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM whatsapp_notifications").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM inbound_messages").await,
        0
    );

    // The admin API still lists what is left, and says what went.
    assert_eq!(app.stored_ids().await, ["evt_welcome", "evt_audited"]);
    let metrics = app.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "puente_retention_deleted_total",
            "table=\"events\",whmcs_instance=\"alfa\""
        ),
        2.0,
        "{metrics}"
    );
    // A pass with nothing old deletes nothing.
    let again = app.retention.purge_at(days(91)).await.expect("purge");
    assert_eq!((again.events, again.kept), (0, 2));
    app.stop().await;
}
