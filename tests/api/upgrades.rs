//! Paid upgrades applied after WHMCS did, against a fake WHMCS: the due
//! date moves once however often the upgrade is reported, the client is
//! told, and WHMCS's refusals and outages end where they should.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::outbox::{app_with, fake_whmcs, fire, fixture, messages_of, system};

/// The tblupgrades row the addon adds: service 7731 of client 1842 moves
/// to product 13, annually, 150.00 USD.
fn upgrade_row(status: &str) -> Value {
    json!({"id": 77, "type": "package", "relid": "7731", "userid": "1842",
           "originalvalue": "12", "newvalue": "13,annually", "status": status,
           "currency": "USD", "new_price": "150.00"})
}

async fn mount_update(whmcs: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(body_string_contains("action=UpdateClientProduct"))
        .respond_with(answer)
        .mount(whmcs)
        .await;
}

fn success() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"result": "success", "serviceid": 7731}))
}

/// The bodies of the UpdateClientProduct calls WHMCS received.
async fn updates(whmcs: &MockServer) -> Vec<String> {
    whmcs
        .received_requests()
        .await
        .expect("recorded")
        .into_iter()
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .filter(|body| body.contains("action=UpdateClientProduct"))
        .collect()
}

/// (status, attempts, last_error) of the only recorded upgrade.
fn application(app: &TestApp) -> (String, i64, Option<String>) {
    app.open_database()
        .query_row(
            "SELECT status, attempts, last_error FROM upgrade_applications",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("one recorded upgrade")
}

#[tokio::test]
async fn the_due_date_moves_once_after_payment_and_the_client_is_told() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    mount_update(&whmcs, success()).await;
    let app = app_with(&whmcs, &[]).await;

    // WHMCS applied the paid upgrade; the event's day (2026-11-28, UTC) is
    // the enable date. The same upgrade is then reported again: by the
    // invoice's InvoicePaid and by a second AfterProductUpgrade.
    let after = json!({"upgradeid": 77, "_puente": {"upgrade": upgrade_row("Pending")}});
    fire(
        &app,
        "evt_upgraded",
        "AfterProductUpgrade",
        after.clone(),
        system(),
    )
    .await;
    let paid = json!({"invoiceid": 30517, "_puente": {"upgrades": [upgrade_row("Completed")]}});
    fire(&app, "evt_paid", "InvoicePaid", paid, system()).await;
    let first = app.upgrades.drain().await.expect("drain");
    fire(
        &app,
        "evt_upgraded_again",
        "AfterProductUpgrade",
        after,
        system(),
    )
    .await;
    let second = app.upgrades.drain().await.expect("drain");

    assert_eq!(first.applied, 1, "{first:?}");
    assert_eq!(second.applied, 0, "{second:?}");
    let calls = updates(&whmcs).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    for field in [
        "serviceid=7731",
        "nextduedate=2027-11-28",
        "billingcycle=Annually",
        "recurringamount=150.00",
    ] {
        assert!(calls[0].contains(field), "{field} in {}", calls[0]);
    }
    assert_eq!(application(&app).0, "applied");

    // One "upgrade applied" alert, with the service (the InvoicePaid also
    // told of the payment).
    let report = app.outbox.drain().await.expect("outbox");
    assert_eq!(report.sent, 2, "{report:?}");
    let kinds: Vec<String> = {
        let connection = app.open_database();
        let mut statement = connection
            .prepare("SELECT kind FROM messages ORDER BY kind")
            .expect("query");
        statement
            .query_map([], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(kinds, ["payment_received", "upgrade_applied"]);
    let messages = messages_of(&app, "evt_upgraded");
    assert_eq!(messages.len(), 1);
    let body = messages[0].2.as_ref().expect("body").to_string();
    assert!(body.contains("puente_upgrade_applied"), "{body}");
    assert!(body.contains("Business Hosting"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_policy_that_keeps_the_due_date_records_the_upgrade_without_calling_whmcs() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    mount_update(&whmcs, success()).await;
    let app = app_with(&whmcs, &[("PUENTE_UPGRADE_POLICY", "prorata")]).await;

    let after = json!({"upgradeid": 77, "_puente": {"upgrade": upgrade_row("Completed")}});
    fire(&app, "evt_upgraded", "AfterProductUpgrade", after, system()).await;
    let report = app.upgrades.drain().await.expect("drain");

    assert_eq!(report.applied, 1);
    assert!(updates(&whmcs).await.is_empty());
    assert_eq!(messages_of(&app, "evt_upgraded").len(), 1, "still told");
    app.stop().await;
}

#[tokio::test]
async fn whmcs_refusing_the_change_is_kept_with_its_answer_and_an_outage_is_retried() {
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

    let report = app.upgrades.drain().await.expect("drain");
    let again = app.upgrades.drain().await.expect("drain");

    assert_eq!((report.failed, again.failed), (1, 0));
    let (status, attempts, error) = application(&app);
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.expect("reason").contains("Service ID Not Found"));
    assert!(messages_of(&app, "evt_upgraded").is_empty(), "no alert");
    app.stop().await;

    // WHMCS down: the upgrade waits, planned, with the reason.
    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let app = app_with(&down, &[]).await;
    let after = json!({"upgradeid": 78, "_puente": {"upgrade": upgrade_row("Completed")}});
    fire(&app, "evt_upgraded", "AfterProductUpgrade", after, system()).await;
    let report = app.upgrades.drain().await.expect("drain");
    assert_eq!(report.waiting, 1);
    let (status, _, error) = application(&app);
    assert_eq!(status, "planned");
    assert!(error.expect("reason").contains("unavailable"));
    app.stop().await;
}

#[tokio::test]
async fn an_upgrade_event_without_the_row_is_stored_and_applies_nothing() {
    let app = spawn_app().await;
    let mut envelope = envelope("AfterProductUpgrade");
    envelope["data"] = json!({"upgradeid": 77});
    assert_eq!(
        app.send_event("evt_bare", &envelope).await.status(),
        StatusCode::ACCEPTED
    );
    let report = app.upgrades.drain().await.expect("drain");
    assert_eq!(report, puente::upgrades::ApplyReport::default());
    assert_eq!(app.stored_ids().await, ["evt_bare"]);
    app.stop().await;
}
