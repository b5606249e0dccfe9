//! Alerts planned at ingest: each alert hook gives its outbox rows in the
//! event's own transaction, once however often the event arrives, and the
//! admin API lists them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// An envelope of `hook` with `data`, caused by `actor`.
fn event(hook: &str, data: Value, actor: Value) -> Value {
    let mut envelope = envelope(hook);
    envelope["data"] = data;
    envelope["context"]["actor"] = actor;
    envelope
}

fn system() -> Value {
    json!({"kind": "system"})
}

async fn messages(app: &TestApp, query: &str) -> Vec<Value> {
    let page = json_of(
        app.admin_get(&format!("/v1/admin/messages{query}")).await,
        StatusCode::OK,
    )
    .await;
    page["messages"].as_array().expect("messages").clone()
}

async fn send(app: &TestApp, id: &str, body: &Value) {
    let status = app.send_event(id, body).await.status();
    assert!(
        status == StatusCode::ACCEPTED || status == StatusCode::OK,
        "{id}: {status}"
    );
}

#[tokio::test]
async fn each_alert_hook_plans_its_message_with_the_event() {
    let app = spawn_app().await;
    let cases = [
        ("ClientAdd", "welcome", Some(1842), "client", None),
        (
            "ClientChangePassword",
            "password_changed",
            Some(1842),
            "client",
            None,
        ),
        (
            "InvoiceCreated",
            "invoice_created",
            None,
            "invoice",
            Some(30517),
        ),
        (
            "InvoiceCancelled",
            "invoice_cancelled",
            None,
            "invoice",
            Some(30522),
        ),
        (
            "AddInvoicePayment",
            "payment_received",
            None,
            "invoice",
            Some(30517),
        ),
        (
            "AfterModuleSuspend",
            "service_suspended",
            Some(1842),
            "service",
            Some(7731),
        ),
        (
            "AfterModuleUnsuspend",
            "service_reactivated",
            Some(1842),
            "service",
            Some(7731),
        ),
        (
            "AfterModuleTerminate",
            "service_terminated",
            Some(1842),
            "service",
            Some(7731),
        ),
        ("QuoteCreated", "quote_available", None, "quote", Some(88)),
        (
            "DomainDelete",
            "domain_deleted",
            Some(1842),
            "domain",
            Some(912),
        ),
    ];
    for (n, (hook, kind, client, subject, subject_id)) in cases.into_iter().enumerate() {
        let id = format!("evt_alert_{n}");
        send(&app, &id, &event(hook, fixture_vars(hook), system())).await;

        let planned = messages(&app, &format!("?event={id}")).await;
        assert_eq!(planned.len(), 1, "{hook}: {planned:?}");
        let message = &planned[0];
        assert_eq!(message["kind"], kind, "{hook}");
        assert_eq!(message["client_id"], json!(client), "{hook}");
        assert_eq!(message["subject_kind"], subject, "{hook}");
        assert_eq!(message["subject_id"], json!(subject_id), "{hook}");
        assert_eq!(message["status"], "planned", "{hook}");
        assert_eq!(message["recipient"], "current", "{hook}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_event_delivered_five_times_plans_one_message() {
    let app = spawn_app().await;
    let body = event("InvoiceCreated", fixture_vars("InvoiceCreated"), system());

    for _ in 0..5 {
        send(&app, "evt_five_times", &body).await;
    }
    // The same invoice reported again under a new id is still one alert.
    send(&app, "evt_same_invoice", &body).await;

    assert_eq!(messages(&app, "").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn one_password_change_reported_by_both_hooks_is_one_alert_per_client() {
    let app = spawn_app().await;
    send(
        &app,
        "evt_client_pw",
        &event(
            "ClientChangePassword",
            fixture_vars("ClientChangePassword"),
            system(),
        ),
    )
    .await;
    let user_change = json!({"userid": 1907, "_puente": {"client_ids": [1842, 2210]}});
    send(
        &app,
        "evt_user_pw",
        &event("UserChangePassword", user_change, system()),
    )
    .await;

    let planned = messages(&app, "?status=planned").await;
    let skipped = messages(&app, "?status=skipped").await;

    let clients = |rows: &[Value]| {
        rows.iter()
            .map(|m| m["client_id"].as_u64().expect("client"))
            .collect::<Vec<_>>()
    };
    assert_eq!(clients(&planned), [1842, 2210]);
    assert_eq!(clients(&skipped), [1842]);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("coalesced")
    );
    app.stop().await;
}

#[tokio::test]
async fn every_payment_alerts_once_and_the_invoice_paid_after_it_does_not() {
    let app = spawn_app().await;
    let payment = event(
        "AddInvoicePayment",
        fixture_vars("AddInvoicePayment"),
        system(),
    );
    send(&app, "evt_partial_1", &payment).await;
    send(&app, "evt_partial_2", &payment).await;
    send(
        &app,
        "evt_paid",
        &event("InvoicePaid", fixture_vars("InvoicePaid"), system()),
    )
    .await;

    assert_eq!(
        messages(&app, "?status=planned").await.len(),
        2,
        "two payments, two alerts"
    );
    let skipped = messages(&app, "?status=skipped").await;
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["event_id"], "evt_paid");
    app.stop().await;
}

#[tokio::test]
async fn a_bare_invoice_paid_alerts_on_its_own() {
    let app = spawn_app().await;

    send(
        &app,
        "evt_paid_by_credit",
        &event("InvoicePaid", fixture_vars("InvoicePaid"), system()),
    )
    .await;

    let planned = messages(&app, "?status=planned").await;
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0]["client_id"], 1842);
    app.stop().await;
}

#[tokio::test]
async fn client_edits_alert_only_the_client_and_a_new_number_tells_the_old_one() {
    let app = spawn_app().await;
    let edit = fixture_vars("ClientEdit");
    send(
        &app,
        "evt_by_admin",
        &event(
            "ClientEdit",
            edit.clone(),
            json!({"kind": "admin", "id": 3}),
        ),
    )
    .await;
    send(
        &app,
        "evt_by_api",
        &event("ClientEdit", edit.clone(), json!({"kind": "api"})),
    )
    .await;
    assert!(
        messages(&app, "").await.is_empty(),
        "staff and API edits send nothing"
    );

    send(
        &app,
        "evt_by_client",
        &event(
            "ClientEdit",
            edit,
            json!({"kind": "client", "id": 1842, "user_id": 1907}),
        ),
    )
    .await;

    let planned = messages(&app, "?client=1842").await;
    let recipients: Vec<&str> = planned
        .iter()
        .map(|m| m["recipient"].as_str().expect("recipient"))
        .collect();
    assert_eq!(recipients, ["current", "previous"]);
    app.stop().await;
}

#[tokio::test]
async fn quotes_alert_once_and_never_as_drafts() {
    let app = spawn_app().await;
    send(
        &app,
        "evt_draft",
        &event(
            "QuoteCreated",
            json!({"quoteid": 88, "status": "Draft"}),
            system(),
        ),
    )
    .await;
    assert!(messages(&app, "").await.is_empty());

    send(
        &app,
        "evt_delivered",
        &event(
            "QuoteStatusChange",
            json!({"quoteid": 88, "status": "Delivered"}),
            system(),
        ),
    )
    .await;
    send(
        &app,
        "evt_delivered_again",
        &event(
            "QuoteStatusChange",
            json!({"quoteid": 88, "status": "Delivered"}),
            system(),
        ),
    )
    .await;

    assert_eq!(messages(&app, "").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn hooks_without_alerts_plan_nothing_and_bad_filters_are_refused() {
    let app = spawn_app().await;
    send(
        &app,
        "evt_service_edit",
        &event("ServiceEdit", fixture_vars("ServiceEdit"), system()),
    )
    .await;
    send(
        &app,
        "evt_unknown",
        &event("SomethingNew", json!({"userid": 1}), system()),
    )
    .await;

    assert!(messages(&app, "").await.is_empty());
    for query in [
        "?status=lost",
        "?client=abc",
        "?event=bad.id",
        "?limit=0",
        "?colour=red",
    ] {
        let response = app.admin_get(&format!("/v1/admin/messages{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let unauthorised = app
        .client
        .get(app.url("/v1/admin/messages"))
        .send()
        .await
        .expect("request");
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}
