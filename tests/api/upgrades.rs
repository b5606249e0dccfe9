//! Paid upgrades applied after WHMCS did, against a fake WHMCS: the due
//! date moves once however often the upgrade is reported, the client is
//! told, and WHMCS's refusals and outages end where they should.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;
use puente::workers::Worker as _;

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
async fn application(app: &TestApp) -> (String, i64, Option<String>) {
    let mut rows = app
        .triples("SELECT status, attempts, last_error FROM upgrade_applications")
        .await;
    assert_eq!(rows.len(), 1, "one recorded upgrade");
    rows.remove(0)
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
    assert_eq!(application(&app).await.0, "applied");

    // One "upgrade applied" alert, with the service (the InvoicePaid also
    // told of the payment).
    let report = app.outbox.drain().await.expect("outbox");
    assert_eq!(report.sent, 2, "{report:?}");
    let kinds = app.column("SELECT kind FROM messages ORDER BY kind").await;
    assert_eq!(kinds, ["payment_received", "upgrade_applied"]);
    let messages = messages_of(&app, "evt_upgraded").await;
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
    assert_eq!(
        messages_of(&app, "evt_upgraded").await.len(),
        1,
        "still told"
    );
    app.stop().await;
}

#[tokio::test]
async fn whmcs_refusing_the_change_is_kept_with_its_answer_and_an_outage_is_retried() {
    let (whmcs, app) = app_with_a_refused_upgrade().await;

    let report = app.upgrades.drain().await.expect("drain");
    let again = app.upgrades.drain().await.expect("drain");

    assert_eq!((report.failed, again.failed), (1, 0));
    let (status, attempts, error) = application(&app).await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.expect("reason").contains("Service ID Not Found"));
    assert!(
        messages_of(&app, "evt_upgraded").await.is_empty(),
        "no alert"
    );

    // The administrator sees it, fixes WHMCS, and retries it once.
    let listed = json_of(
        app.admin_get("/v1/admin/upgrades?status=failed").await,
        StatusCode::OK,
    )
    .await;
    let upgrade = &listed["upgrades"][0];
    assert_eq!(
        (
            &upgrade["upgrade_id"],
            &upgrade["service_id"],
            &upgrade["event_id"]
        ),
        (&json!(77), &json!(7731), &json!("evt_upgraded"))
    );
    assert_eq!(upgrade["next_due_date"], "2027-11-28");
    Mock::given(method("POST"))
        .and(body_string_contains("action=UpdateClientProduct"))
        .respond_with(success())
        .with_priority(1)
        .mount(&whmcs)
        .await;
    let id = upgrade["id"].as_i64().expect("id");
    let retry = |id: String| format!("/v1/admin/upgrades/{id}/retry");
    already_woken(app.upgrades.woken());
    assert!(!already_woken(app.upgrades.woken()));
    assert_eq!(
        app.admin_post(&retry(id.to_string())).await.status(),
        StatusCode::ACCEPTED
    );
    assert!(
        already_woken(app.upgrades.woken()),
        "a retry wakes the upgrade worker"
    );
    assert_eq!(app.upgrades.drain().await.expect("drain").applied, 1);
    assert_eq!(application(&app).await.0, "applied");
    assert_retry_refused(&app, "upgrades", &id.to_string()).await;
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
    let (status, _, error) = application(&app).await;
    assert_eq!(status, "planned");
    assert!(error.expect("reason").contains("unavailable"));
    // It is left alone a while: the next pass does not ask WHMCS again.
    let asked = down.received_requests().await.expect("recorded").len();
    assert_eq!(app.upgrades.drain().await.expect("drain").waiting, 1);
    assert_eq!(
        down.received_requests().await.expect("recorded").len(),
        asked
    );
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(31);
    assert_eq!(
        app.upgrades.drain_at(later).await.expect("drain").waiting,
        1
    );
    assert!(down.received_requests().await.expect("recorded").len() > asked);
    app.stop().await;
}

#[tokio::test]
async fn configurable_option_upgrades_and_rows_of_another_client_are_listed_never_applied() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    mount_update(&whmcs, success()).await;
    let app = app_with(&whmcs, &[]).await;
    let mut options = upgrade_row("Completed");
    options["id"] = json!(78);
    options["type"] = json!("configoptions");
    options["newvalue"] = json!("4=>9");
    let mut foreign = upgrade_row("Completed");
    foreign["id"] = json!(79);
    foreign["userid"] = json!(2210);

    fire(
        &app,
        "evt_options",
        "AfterConfigOptionsUpgrade",
        json!({"upgradeid": 78, "_puente": {"upgrade": options}}),
        system(),
    )
    .await;
    fire(
        &app,
        "evt_paid",
        "InvoicePaid",
        json!({"invoiceid": 30517, "_puente": {"upgrades": [foreign]}}),
        system(),
    )
    .await;
    let report = app.upgrades.drain().await.expect("drain");

    assert_eq!(report, puente::workers::upgrades::ApplyReport::default());
    assert!(updates(&whmcs).await.is_empty(), "WHMCS is not changed");
    let listed = json_of(app.admin_get("/v1/admin/upgrades").await, StatusCode::OK).await;
    let rows = listed["upgrades"].as_array().expect("upgrades");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            &rows[0]["upgrade_id"],
            &rows[0]["upgrade_type"],
            &rows[0]["status"]
        ),
        (&json!(78), &json!("configoptions"), &json!("recorded"))
    );
    assert_eq!(
        (&rows[0]["product_id"], &rows[0]["next_due_date"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        (&rows[1]["upgrade_id"], &rows[1]["status"]),
        (&json!(79), &json!("refused"))
    );
    let reason = rows[1]["last_error"].as_str().expect("why");
    assert!(reason.contains("belongs to client 1842"), "{reason}");
    let refused = json_of(
        app.admin_get("/v1/admin/upgrades?status=refused").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refused["upgrades"].as_array().map(Vec::len), Some(1));
    assert_error(
        app.admin_post(&format!("/v1/admin/upgrades/{}/retry", rows[0]["id"]))
            .await,
        StatusCode::CONFLICT,
        "not_retryable",
    )
    .await;
    assert!(
        messages_of(&app, "evt_options").await.is_empty(),
        "no upgrade alert"
    );
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
    assert_eq!(report, puente::workers::upgrades::ApplyReport::default());
    assert_eq!(app.stored_ids().await, ["evt_bare"]);
    app.stop().await;
}

/// A client-area upgrade action of client 42 on service 7731, towards
/// product 13 priced `annual` a year.
fn client_action(route: &str, annual: &str, cycle: &str) -> Value {
    let mut envelope = envelope(&format!("client.upgrades.{route}"));
    envelope["data"] = json!({
        "service_id": 7731, "product_id": 13, "cycle": cycle, "note": "Necesito más disco",
        "_puente": {
            "service": {"pid": 12, "userid": 42, "billingcycle": "Annually",
                        "recurringamount": "100.00", "nextduedate": "2099-01-01"},
            "currency": "USD", "language": "spanish",
            "upgrade_targets": [13],
            "target_pricing": {"annually": annual, "monthly": "-1.00"},
            "paid_lines": [{"type": "Hosting", "amount": "90.00",
                            "duedate": "2098-01-01", "datepaid": "2097-12-30"}],
            "service_name": "Business Hosting", "target_name": "Pro Hosting"
        }
    });
    envelope
}

async fn act(app: &TestApp, route: &str, id: &str, body: &Value) -> reqwest::Response {
    app.post_signed(
        &format!("/v1/client/upgrades/{route}"),
        HookRequest::signed(SECRET, id, body.to_string()),
    )
    .await
}

#[tokio::test]
async fn the_client_preview_is_the_policy_s_quote_for_the_owner_only() {
    let app = spawn_app().await;

    let quote = json_of(
        act(
            &app,
            "quote",
            "cli_q1",
            &client_action("quote", "150.00", "annually"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // 150 for the year minus the 90 paid on the period's renewal invoice.
    assert_eq!(quote["kind"], "upgrade");
    assert_eq!(quote["charge"], "60.00");
    assert_eq!(quote["next_due_date"], "2099-01-01");
    assert_eq!(quote["policy"], "seed");
    assert_eq!(quote["breakdown"]["paid"], "90.00");
    assert_eq!(quote["breakdown"]["paid_source"], "invoices");

    let mut admin = client_action("quote", "150.00", "annually");
    admin["context"]["actor"] = json!({"kind": "admin", "id": 1});
    assert_error(
        act(&app, "quote", "cli_q2", &admin).await,
        StatusCode::FORBIDDEN,
        "actor_not_client",
    )
    .await;
    let mut other = client_action("quote", "150.00", "annually");
    other["context"]["actor"]["id"] = json!(43);
    assert_error(
        act(&app, "quote", "cli_q3", &other).await,
        StatusCode::FORBIDDEN,
        "not_owner",
    )
    .await;
    let mut suspended = client_action("quote", "150.00", "annually");
    suspended["data"]["_puente"]["service"]["status"] = json!("Suspended");
    let message = assert_error(
        act(&app, "quote", "cli_q5", &suspended).await,
        StatusCode::CONFLICT,
        "service_not_active",
    )
    .await;
    assert!(message.contains("Suspended"), "{message}");
    let mut unknown = client_action("quote", "150.00", "annually");
    unknown["data"]
        .as_object_mut()
        .expect("data")
        .remove("_puente");
    assert_error(
        act(&app, "quote", "cli_q4", &unknown).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn the_client_preview_names_the_rule_that_refuses() {
    let app = spawn_app().await;

    let message = assert_error(
        act(
            &app,
            "quote",
            "cli_r1",
            &client_action("quote", "80.00", "annually"),
        )
        .await,
        StatusCode::CONFLICT,
        "downgrade_not_allowed",
    )
    .await;
    assert!(
        message.starts_with("No es posible bajar de plan"),
        "{message}"
    );
    assert_error(
        act(
            &app,
            "quote",
            "cli_r2",
            &client_action("quote", "150.00", "monthly"),
        )
        .await,
        StatusCode::CONFLICT,
        "cycle_not_available",
    )
    .await;
    let mut elsewhere = client_action("quote", "150.00", "annually");
    elsewhere["data"]["product_id"] = json!(99);
    assert_error(
        act(&app, "quote", "cli_r3", &elsewhere).await,
        StatusCode::CONFLICT,
        "target_not_allowed",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_manual_request_opens_one_ticket_per_service_while_it_is_open() {
    let whmcs = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("action=OpenTicket"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"result": "success", "id": "55", "tid": "ABC-123456", "c": "k3Y"}),
        ))
        .mount(&whmcs)
        .await;
    // Open at the first look, closed at the second.
    Mock::given(method("POST"))
        .and(body_string_contains("action=GetTicket"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"result": "success", "status": "Open"})),
        )
        .up_to_n_times(1)
        .mount(&whmcs)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("action=GetTicket"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"result": "success", "status": "Closed"})),
        )
        .mount(&whmcs)
        .await;
    let app = app_with(&whmcs, &[("PUENTE_UPGRADE_MANUAL_DEPARTMENT", "4")]).await;
    let request = client_action("manual", "150.00", "annually");

    let opened = json_of(
        act(&app, "manual", "cli_m1", &request).await,
        StatusCode::CREATED,
    )
    .await;
    let refused = act(&app, "manual", "cli_m2", &request).await;
    let message = assert_error(refused, StatusCode::CONFLICT, "manual_request_open").await;
    let reopened = act(&app, "manual", "cli_m3", &request).await;

    assert_eq!(
        opened,
        json!({"ticket_id": 55, "ticket_number": "ABC-123456"})
    );
    assert!(message.contains("ABC-123456"), "{message}");
    assert_eq!(
        reopened.status(),
        StatusCode::CREATED,
        "the first ticket was closed"
    );
    let tickets: Vec<String> = whmcs
        .received_requests()
        .await
        .expect("recorded")
        .into_iter()
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .filter(|body| body.contains("action=OpenTicket"))
        .collect();
    assert_eq!(tickets.len(), 2);
    for field in [
        "deptid=4",
        "clientid=42",
        "serviceid=7731",
        "Pro+Hosting",
        "Annually",
        "disco",
    ] {
        assert!(tickets[0].contains(field), "{field} in {}", tickets[0]);
    }
    let statuses = app
        .column("SELECT status FROM manual_upgrade_requests ORDER BY id")
        .await;
    assert_eq!(statuses, ["closed", "open"]);
    app.stop().await;
}

#[tokio::test]
async fn a_manual_request_without_a_department_or_whmcs_is_refused_and_records_nothing() {
    let whmcs = MockServer::start().await;
    let app = app_with(&whmcs, &[]).await;
    let request = client_action("manual", "150.00", "annually");
    let message = assert_error(
        act(&app, "manual", "cli_d1", &request).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "whmcs_unavailable",
    )
    .await;
    assert!(
        message.contains("PUENTE_UPGRADE_MANUAL_DEPARTMENT"),
        "{message}"
    );
    let rows: i64 = app
        .one("SELECT COUNT(*) FROM manual_upgrade_requests")
        .await;
    assert_eq!(rows, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_pass_takes_at_most_a_hundred_upgrades_and_says_more_are_due() {
    let whmcs = fake_whmcs(fixture("api-GetClientsDetails")).await;
    mount_update(&whmcs, success()).await;
    let app = app_with(&whmcs, &[]).await;
    let count = puente::workers::upgrades::PASS_LIMIT + 1;
    for n in 0..count {
        let mut row = upgrade_row("Completed");
        row["id"] = json!(1000 + n);
        let after = json!({"upgradeid": 1000 + n, "_puente": {"upgrade": row}});
        fire(
            &app,
            &format!("evt_up_{n}"),
            "AfterProductUpgrade",
            after,
            system(),
        )
        .await;
    }
    let first = app.upgrades.drain().await.expect("drain");
    assert_eq!(
        (first.applied, first.more),
        (puente::workers::upgrades::PASS_LIMIT, true)
    );
    let second = app.upgrades.drain().await.expect("drain");
    assert_eq!((second.applied, second.more), (1, false));
    app.stop().await;
}
