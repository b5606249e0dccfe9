//! Cancellations end to end against a stateful fake WHMCS: the client's
//! re-authenticated request, WHMCS's own requests (its hook), the worker
//! that terminates on the right day exactly once, the decision that holds
//! WHMCS's automation, domains that only stop renewing, and never a call
//! that refunds or credits.

use jiff::ToSpan as _;
use jiff::civil::Date;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::fake_whmcs::{FakeWhmcs, Invoice, Service, noon, serve, today};
use crate::support::*;

/// Client 1842's annual service 7731, paid until `next_due`; its domain
/// 912; client 9 owns nothing here.
fn whmcs_with(next_due: Date, module: bool) -> FakeWhmcs {
    let fake = FakeWhmcs::default();
    {
        let mut state = fake.state();
        state.services.insert(
            7731,
            Service {
                client: 1842,
                status: "Active",
                cycle: "Annually",
                next_due,
                module,
            },
        );
        state.domains.insert(912, (1842, "Active", false));
    }
    fake
}

/// As [`whmcs_with`], with a cancellation request of `kind` WHMCS already
/// holds for service 7731 (its `tblcancelrequests` row).
fn whmcs_holding(next_due: Date, module: bool, kind: &str) -> FakeWhmcs {
    let fake = whmcs_with(next_due, module);
    fake.state().cancel_requests.insert(7731, kind.into());
    fake
}

/// The client action the addon signs once the client re-entered their
/// email and password.
fn cancel_action(client: u64, data: Value, reauthenticated: bool) -> Value {
    json!({
        "type": "client.cancellations",
        "timestamp": jiff::Timestamp::now().to_string(),
        "data": data,
        "context": {"instance": "default", "actor": {"kind": "client", "id": client, "user_id": 1907},
                    "source": "clientarea", "reauthenticated": reauthenticated,
                    "shim_version": "0.1.0"},
    })
}

async fn post(app: &TestApp, route: &str, id: &str, body: &Value) -> reqwest::Response {
    app.post_signed(
        &format!("/v1/client/{route}"),
        HookRequest::signed(SECRET, id, body.to_string()),
    )
    .await
}

async fn cancel(app: &TestApp, id: &str, kind: &str) -> reqwest::Response {
    let data = json!({"service_id": 7731, "type": kind, "reason": "Closing the studio", "language": "english"});
    post(app, "cancellations", id, &cancel_action(1842, data, true)).await
}

/// What the client's cancel page shows for service 7731.
async fn preview(app: &TestApp, id: &str) -> Value {
    let data = json!({"service_id": 7731, "language": "english"});
    json_of(
        post(
            app,
            "cancellations/preview",
            id,
            &cancel_action(1842, data, false),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// `PreModuleTerminate` as the addon asks it, from `source`.
async fn pre_terminate(app: &TestApp, id: &str, source: &str) -> Value {
    let mut envelope = envelope("PreModuleTerminate");
    envelope["data"] = json!({"serviceid": 7731, "userid": 1842});
    envelope["context"]["source"] = json!(source);
    envelope["context"]["actor"] = if source == "cron" {
        json!({"kind": "system"})
    } else {
        json!({"kind": "admin", "id": 1})
    };
    let answer = app
        .post_signed(
            "/v1/decisions",
            HookRequest::signed(SECRET, id, envelope.to_string()),
        )
        .await;
    json_of(answer, StatusCode::OK).await["return"].clone()
}

/// The one cancellation row: (status, effective_date, termination_date, backup_retention_end).
async fn row(app: &TestApp) -> (String, Option<String>, Option<String>, Option<String>) {
    let mut rows = app
        .backend
        .quads(
            "SELECT status, effective_date, termination_date, backup_retention_end FROM cancellations",
        )
        .await;
    assert_eq!(rows.len(), 1, "one cancellation");
    rows.remove(0)
}

#[tokio::test]
async fn immediate_terminates_the_same_day_exactly_once_whatever_else_reports_it() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;

    let answer = json_of(
        cancel(&app, "cli_cancel_1", "Immediate").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answer["outcome"], "cancellation_requested");
    assert_eq!(answer["effective_date"], today().to_string());
    assert_eq!(answer["open_invoices"], json!([]));
    // WHMCS's hook for puente's own AddCancelRequest, delivered twice (and
    // once more under the same id).
    let hook =
        json!({"userid": 1842, "relid": 7731, "reason": "Closing the studio", "type": "Immediate"});
    for id in ["evt_cancel_hook_a", "evt_cancel_hook_b"] {
        fire(&app, id, "CancellationRequest", hook.clone(), system()).await;
    }
    let mut repeated = envelope("CancellationRequest");
    repeated["data"] = hook;
    assert_eq!(
        app.send_event("evt_cancel_hook_a", &repeated)
            .await
            .status(),
        StatusCode::OK
    );

    let first = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    // WHMCS's own cron runs too, then puente's worker again.
    fake.cron_terminates(7731);
    fire(
        &app,
        "evt_terminated",
        "AfterModuleTerminate",
        json!({"params": {"serviceid": 7731, "userid": 1842}}),
        system(),
    )
    .await;
    let second = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");

    assert_eq!(first.terminated, 1, "{first:?}");
    assert_eq!(
        second,
        puente::workers::cancellations::CancellationReport::default()
    );
    assert_eq!(fake.state().terminations, [(7731, "puente")]);
    assert_eq!(fake.count("ModuleTerminate"), 1);
    assert_eq!(fake.count("AddCancelRequest"), 1);
    let (status, effective, terminated, retention) = row(&app).await;
    assert_eq!(status, "terminated");
    assert_eq!(effective.as_deref(), Some(today().to_string().as_str()));
    assert_eq!(terminated.as_deref(), Some(today().to_string().as_str()));
    let ten_years = today().checked_add(10.years()).expect("date").to_string();
    assert_eq!(retention.as_deref(), Some(ten_years.as_str()));
    assert_eq!(
        app.column("SELECT CAST(COUNT(*) AS TEXT) FROM cancellations")
            .await,
        ["1"],
        "one cancellation however often it was reported"
    );

    // The client is told once of the request (its type in their language)
    // and once of the termination.
    let report = app.outbox.drain().await.expect("outbox");
    assert_eq!(report.sent, 2, "{report:?}");
    let requested = messages_of(&app, "cli_cancel_1").await;
    assert_eq!(requested.len(), 1);
    let body = requested[0].2.as_ref().expect("body").to_string();
    assert!(body.contains("puente_cancellation_requested"), "{body}");
    assert!(body.contains("inmediata"), "{body}");
    assert!(body.contains(&today().to_string()), "{body}");
    assert_eq!(messages_of(&app, "evt_terminated").await.len(), 1);

    // The client's page shows the record with its dates from now on.
    let shown = preview(&app, "cli_preview_after").await;
    assert_eq!(shown["cancellation"]["status"], "terminated");
    assert_eq!(
        shown["cancellation"]["termination_date"],
        today().to_string()
    );
    assert_eq!(shown["cancellation"]["backup_retention_end"], ten_years);
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn an_immediate_cancellation_waits_for_the_configured_hour_of_its_day() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[("PUENTE_CANCELLATION_IMMEDIATE_HOUR", "22")]).await;
    let at = |hour: i8| {
        jiff::tz::TimeZone::UTC
            .to_timestamp(today().at(hour, 30, 0, 0))
            .expect("time")
    };
    assert_eq!(
        cancel(&app, "cli_cancel_hour", "Immediate").await.status(),
        StatusCode::CREATED
    );

    let noon_pass = app.cancellations.drain_at(at(12)).await.expect("drain");
    let evening_pass = app.cancellations.drain_at(at(21)).await.expect("drain");

    assert_eq!(noon_pass.terminated, 0, "{noon_pass:?}");
    assert_eq!(evening_pass.terminated, 0, "{evening_pass:?}");
    assert_eq!(fake.count("ModuleTerminate"), 0, "not before 22:00");
    assert_eq!(row(&app).await.0, "scheduled");

    let late = app.cancellations.drain_at(at(22)).await.expect("drain");
    assert_eq!(late.terminated, 1);
    assert_eq!(fake.count("ModuleTerminate"), 1);
    assert_eq!(
        row(&app).await.2.as_deref(),
        Some(today().to_string().as_str())
    );
    app.stop().await;
}

#[tokio::test]
async fn when_whmcs_terminated_first_puente_records_it_without_a_second_termination() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    assert_eq!(
        cancel(&app, "cli_cancel_2", "Immediate").await.status(),
        StatusCode::CREATED
    );

    fake.cron_terminates(7731);
    let report = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");

    assert_eq!(report.terminated, 1);
    assert_eq!(fake.count("ModuleTerminate"), 0);
    assert_eq!(fake.state().terminations, [(7731, "cron")]);
    assert_eq!(row(&app).await.0, "terminated");
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn end_of_period_runs_until_the_last_invoiced_period_ends_and_holds_whmcs_until_then() {
    // Paid until `due`; the renewal for the next year is already invoiced
    // (unpaid): the service runs until a year after `due`.
    let due = today().checked_add(20.days()).expect("date");
    let fake = whmcs_with(due, true);
    fake.state().invoices.push(Invoice {
        id: 902,
        client: 1842,
        status: "Unpaid",
        due,
        lines: vec![("Hosting", 7731)],
    });
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    let end = due.checked_add(1.year()).expect("date");

    let preview = preview(&app, "cli_preview").await;
    assert_eq!(preview["options"][0]["effective_date"], today().to_string());
    assert_eq!(preview["options"][1]["effective_date"], end.to_string());
    let answer = json_of(
        cancel(&app, "cli_cancel_3", "End of Billing Period").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answer["effective_date"], end.to_string());
    assert_eq!(answer["open_invoices"][0]["id"], 902);
    assert_eq!(
        answer["open_invoices"][0]["url"],
        "https://panel.example/viewinvoice.php?id=902"
    );

    // Before the day: nothing happens, and WHMCS's automation is held
    // (staff are not).
    for day in [today(), due, end.checked_sub(1.day()).expect("date")] {
        let report = app.cancellations.drain_at(noon(day)).await.expect("drain");
        assert_eq!(report.terminated, 0, "{day}");
    }
    assert_eq!(
        pre_terminate(&app, "evt_pre_cron", "cron").await,
        json!({"abortcmd": true})
    );
    assert_eq!(
        pre_terminate(&app, "evt_pre_admin", "adminarea").await,
        json!({})
    );
    assert_eq!(row(&app).await.0, "scheduled");

    // On the day: terminated, once.
    let report = app.cancellations.drain_at(noon(end)).await.expect("drain");
    assert_eq!(report.terminated, 1);
    let (status, _, terminated, _) = row(&app).await;
    assert_eq!(
        (status.as_str(), terminated.as_deref()),
        ("terminated", Some(end.to_string().as_str()))
    );
    assert_eq!(fake.count("ModuleTerminate"), 1);
    assert_eq!(
        pre_terminate(&app, "evt_pre_after", "cron").await,
        json!({}),
        "nothing to hold once terminated"
    );
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn a_domain_only_stops_renewing() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;

    let data = json!({"domain_id": 912, "reason": "Not needed"});
    let answer = json_of(
        post(
            &app,
            "cancellations",
            "cli_domain",
            &cancel_action(1842, data.clone(), true),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answer["outcome"], "renewal_disabled");
    assert_eq!(answer["effective_date"], Value::Null);
    assert_eq!(fake.changes(), ["UpdateClientDomain"]);
    let (_, form) = fake
        .state()
        .calls
        .iter()
        .find(|(action, _)| action == "UpdateClientDomain")
        .cloned()
        .expect("the call");
    assert_eq!(form.get("donotrenew").map(String::as_str), Some("1"));
    assert!(fake.state().domains[&912].2);

    // Asked again: its renewal is off already.
    assert_error(
        post(
            &app,
            "cancellations",
            "cli_domain_again",
            &cancel_action(1842, data, true),
        )
        .await,
        StatusCode::CONFLICT,
        "already_cancelled",
    )
    .await;
    let report = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!(
        report,
        puente::workers::cancellations::CancellationReport::default()
    );
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn only_the_reauthenticated_owner_of_an_active_service_can_cancel_it() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    let data = json!({"service_id": 7731, "type": "Immediate", "language": "english"});

    let message = assert_error(
        post(
            &app,
            "cancellations",
            "cli_not_reauth",
            &cancel_action(1842, data.clone(), false),
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_reauthenticated",
    )
    .await;
    assert!(message.contains("password"), "{message}");
    assert!(fake.actions().is_empty(), "no WHMCS call without it");

    let message = assert_error(
        post(
            &app,
            "cancellations",
            "cli_not_owner",
            &cancel_action(9, data.clone(), true),
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_owner",
    )
    .await;
    assert!(message.contains("owner"), "{message}");
    assert!(fake.changes().is_empty(), "{:?}", fake.actions());

    let mut admin = cancel_action(1842, data.clone(), true);
    admin["context"]["actor"] = json!({"kind": "admin", "id": 1});
    assert_error(
        post(&app, "cancellations", "cli_admin", &admin).await,
        StatusCode::FORBIDDEN,
        "actor_not_client",
    )
    .await;

    fake.state()
        .services
        .get_mut(&7731)
        .expect("service")
        .status = "Pending";
    assert_error(
        post(
            &app,
            "cancellations",
            "cli_pending",
            &cancel_action(1842, data.clone(), true),
        )
        .await,
        StatusCode::CONFLICT,
        "service_not_active",
    )
    .await;
    fake.state()
        .services
        .get_mut(&7731)
        .expect("service")
        .status = "Active";

    assert_eq!(
        cancel(&app, "cli_first", "End of Billing Period")
            .await
            .status(),
        StatusCode::CREATED
    );
    // The same request again (the same id) gets the same answer; a new
    // one is refused.
    assert_eq!(
        cancel(&app, "cli_first", "End of Billing Period")
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_error(
        cancel(&app, "cli_second", "Immediate").await,
        StatusCode::CONFLICT,
        "already_cancelled",
    )
    .await;
    assert_eq!(fake.changes(), ["AddCancelRequest"]);
    assert_error(
        post(
            &app,
            "cancellations",
            "cli_missing",
            &cancel_action(1842, json!({"service_id": 1, "type": "Immediate"}), true),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn while_whmcs_is_down_the_termination_waits_and_is_never_asked_twice() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    assert_eq!(
        cancel(&app, "cli_cancel_down", "Immediate").await.status(),
        StatusCode::CREATED
    );

    // Down for every try of two passes, a quarter of an hour apart (the
    // longest a waiting cancellation is left alone).
    let pass = |n: i64| noon(today()) + jiff::SignedDuration::from_mins(16 * n);
    fake.state().down = 1_000;
    for n in 0..2 {
        let report = app.cancellations.drain_at(pass(n)).await.expect("drain");
        assert_eq!(report.waiting, 1, "{report:?}");
    }
    // Within its wait, a pass leaves it alone: WHMCS is not asked.
    let calls = fake.state().calls.len();
    let report = app
        .cancellations
        .drain_at(pass(1) + jiff::SignedDuration::from_secs(10))
        .await
        .expect("drain");
    assert_eq!(report.waiting, 1, "{report:?}");
    assert_eq!(fake.state().calls.len(), calls, "no call while it waits");
    let (status, ..) = row(&app).await;
    assert_eq!(status, "scheduled");
    let error: Vec<String> = app.column("SELECT last_error FROM cancellations").await;
    assert!(error[0].contains("unavailable"), "{error:?}");

    // Back, but the terminate's answer is lost after WHMCS carried it out.
    {
        let mut state = fake.state();
        state.down = 0;
        state.lose_next_terminate_answer = true;
    }
    let lost = app.cancellations.drain_at(pass(2)).await.expect("drain");
    assert_eq!(lost.waiting, 1, "{lost:?}");
    let done = app.cancellations.drain_at(pass(3)).await.expect("drain");
    assert_eq!(done.terminated, 1, "{done:?}");

    assert_eq!(fake.state().terminations, [(7731, "puente")]);
    let carried_out = fake
        .state()
        .calls
        .iter()
        .filter(|(action, _)| action == "ModuleTerminate")
        .count();
    assert_eq!(carried_out, 1, "the lost answer was not asked again");
    assert_eq!(row(&app).await.0, "terminated");
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn a_request_made_in_whmcs_gets_its_dates_alert_and_termination_too() {
    let due = today().checked_add(10.days()).expect("date");
    let fake = whmcs_holding(due, false, "End of Billing Period");
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;

    fire(
        &app,
        "evt_native",
        "CancellationRequest",
        json!({"userid": 1842, "relid": 7731, "reason": "Too expensive", "type": "End of Billing Period"}),
        system(),
    )
    .await;
    let first = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!(first.scheduled, 1, "{first:?}");
    let listed = json_of(
        app.admin_get("/v1/admin/cancellations?service=7731").await,
        StatusCode::OK,
    )
    .await;
    let recorded = &listed["cancellations"][0];
    assert_eq!(recorded["origin"], "whmcs");
    assert_eq!(recorded["reauthenticated"], false);
    assert_eq!(recorded["status"], "scheduled");
    assert_eq!(recorded["effective_date"], due.to_string());
    assert_eq!(recorded["event_id"], "evt_native");
    assert_eq!(
        messages_of(&app, "evt_native").await.len(),
        1,
        "the request alert"
    );

    // On the day: the service has no provisioning module, so puente sets
    // it Terminated and tells the client itself.
    let report = app.cancellations.drain_at(noon(due)).await.expect("drain");
    assert_eq!(report.terminated, 1);
    let (_, form) = fake
        .state()
        .calls
        .iter()
        .rfind(|(action, _)| action == "UpdateClientProduct")
        .cloned()
        .expect("status change");
    assert_eq!(form.get("status").map(String::as_str), Some("Terminated"));
    assert_eq!(
        form.get("terminationdate").map(String::as_str),
        Some(due.to_string().as_str())
    );
    let kinds = app.column("SELECT kind FROM messages ORDER BY id").await;
    assert_eq!(kinds, ["cancellation_requested", "service_terminated"]);
    let terminated = json_of(
        app.admin_get("/v1/admin/cancellations?status=terminated")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        terminated["cancellations"][0]["backup_retention_end"],
        due.checked_add(10.years()).expect("date").to_string()
    );
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn a_termination_whmcs_refuses_is_kept_for_the_administrator_and_retried_on_request() {
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    fake.state().refuse_terminate = Some("Could not connect to the cPanel server");
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    assert_eq!(
        cancel(&app, "cli_cancel_refused", "Immediate")
            .await
            .status(),
        StatusCode::CREATED
    );

    let refused = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!(refused.failed, 1, "{refused:?}");
    let listed = json_of(
        app.admin_get("/v1/admin/cancellations?status=failed").await,
        StatusCode::OK,
    )
    .await;
    let failed = &listed["cancellations"][0];
    assert!(
        failed["last_error"]
            .as_str()
            .expect("why")
            .contains("cPanel"),
        "{failed}"
    );
    // Failed stays the service's open cancellation: no second request.
    assert_error(
        cancel(&app, "cli_again", "Immediate").await,
        StatusCode::CONFLICT,
        "already_cancelled",
    )
    .await;

    // The administrator fixes the server and retries.
    fake.state().refuse_terminate = None;
    let id = failed["id"].as_i64().expect("id");
    let retry = |id: i64| format!("/v1/admin/cancellations/{id}/retry");
    assert_eq!(
        app.admin_post(&retry(id)).await.status(),
        StatusCode::ACCEPTED
    );
    let report = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!(report.terminated, 1);
    assert_eq!(row(&app).await.0, "terminated");
    assert_retry_refused(&app, "cancellations", &id.to_string()).await;
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn a_pass_advances_at_most_a_hundred_cancellations_and_says_more_are_due() {
    // No WHMCS API settings: every request WHMCS recorded waits.
    let app = spawn_app().await;
    let count = puente::workers::cancellations::PASS_LIMIT + 1;
    for n in 0..count {
        let service = 20_000 + n;
        fire(
            &app,
            &format!("evt_cancel_{n}"),
            "CancellationRequest",
            json!({"userid": 1842, "relid": service, "reason": "r", "type": "Immediate"}),
            system(),
        )
        .await;
    }
    let now = noon(today());
    let first = app.cancellations.drain_at(now).await.expect("drain");
    assert_eq!(
        (first.waiting, first.more),
        (puente::workers::cancellations::PASS_LIMIT, true)
    );
    // The hundred wait their turn; the last one is taken now.
    let second = app.cancellations.drain_at(now).await.expect("drain");
    assert_eq!((second.waiting, second.more), (count, false));
    app.stop().await;
}

/// Tomorrow noon: a pass long after any request of the test was recorded.
fn tomorrow() -> jiff::Timestamp {
    noon(today().checked_add(1.day()).expect("date"))
}

#[tokio::test]
async fn a_request_staff_deleted_in_whmcs_is_withdrawn_and_never_terminated() {
    // The reproduction: WHMCS answered the first ModuleTerminate with a 503
    // whose body says `result: error`; staff deleted the request meanwhile.
    let fake = whmcs_with(today().checked_add(40.days()).expect("date"), true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    assert_eq!(
        cancel(&app, "cli_cancel_withdrawn", "Immediate")
            .await
            .status(),
        StatusCode::CREATED
    );
    fake.state().fail_next = Some((
        "ModuleTerminate",
        json!({"result": "error", "message": "SQLSTATE[HY000] [2002] Connection refused"}),
    ));
    let first = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!(
        (first.waiting, first.failed),
        (1, 0),
        "a 503 is an outage, not a refusal: {first:?}"
    );
    assert_eq!(row(&app).await.0, "scheduled");

    // Staff delete the request in WHMCS's admin area (no API, no hook).
    fake.state().cancel_requests.remove(&7731);
    let second = app.cancellations.drain_at(tomorrow()).await.expect("drain");

    assert_eq!(second.withdrawn, 1, "{second:?}");
    assert_eq!(row(&app).await.0, "withdrawn");
    assert!(fake.state().terminations.is_empty(), "never terminated");
    assert_eq!(
        fake.count("ModuleTerminate"),
        1,
        "only the call that failed"
    );
    assert_eq!(fake.state().services[&7731].status, "Active");
    let listed = json_of(
        app.admin_get("/v1/admin/cancellations?status=withdrawn")
            .await,
        StatusCode::OK,
    )
    .await;
    let why = listed["cancellations"][0]["last_error"]
        .as_str()
        .expect("why")
        .to_owned();
    assert!(why.contains("no longer holds"), "{why}");
    let metrics = app.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "puente_cancellations_total",
            "outcome=\"withdrawn\""
        ),
        1.0
    );
    // The client may ask again: the withdrawn request stands in no way.
    let preview = preview(&app, "cli_preview_after").await;
    assert_eq!(preview["options"].as_array().map(Vec::len), Some(2));
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn a_scheduled_cancellation_is_withdrawn_when_whmcs_no_longer_holds_it_before_its_day() {
    let due = today().checked_add(30.days()).expect("date");
    let fake = whmcs_with(due, true);
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    assert_eq!(
        cancel(&app, "cli_cancel_eobp", "End of Billing Period")
            .await
            .status(),
        StatusCode::CREATED
    );
    // WHMCS still holds it: the check changes nothing.
    let held = app.cancellations.drain_at(tomorrow()).await.expect("drain");
    assert_eq!(
        held,
        puente::workers::cancellations::CancellationReport::default()
    );
    assert_eq!(row(&app).await.0, "scheduled");

    fake.state().cancel_requests.remove(&7731);
    // Within the six hours between checks, nothing is asked.
    let asked = fake.state().actions_asked.len();
    let soon = tomorrow() + jiff::SignedDuration::from_hours(1);
    app.cancellations.drain_at(soon).await.expect("drain");
    assert_eq!(fake.state().actions_asked.len(), asked);
    assert_eq!(row(&app).await.0, "scheduled");
    let later = tomorrow() + jiff::SignedDuration::from_hours(7);
    let report = app.cancellations.drain_at(later).await.expect("drain");
    assert_eq!(report.withdrawn, 1, "{report:?}");
    assert_eq!(row(&app).await.0, "withdrawn");
    // On its day nothing happens: it is no longer open.
    let day = app.cancellations.drain_at(noon(due)).await.expect("drain");
    assert_eq!(
        day,
        puente::workers::cancellations::CancellationReport::default()
    );
    assert_eq!(fake.count("ModuleTerminate"), 0);
    app.stop().await;
}

/// `CancellationRequest` as the addon forwards it when the client submits
/// WHMCS's own cancellation form (`clientarea.php?action=cancel`, POST
/// `sub=submit`): the client in the client area, no re-authentication.
async fn whmcs_form_request(app: &TestApp, id: &str, handled_by_puente: bool) {
    let mut envelope = envelope("CancellationRequest");
    envelope["data"] = json!({"userid": 1842, "relid": 7731, "reason": "from WHMCS's form",
                              "type": "Immediate",
                              "_puente": {"handles_cancellations": handled_by_puente}});
    envelope["context"]["actor"] = json!({"kind": "client", "id": 1842, "user_id": 1907});
    envelope["context"]["source"] = json!("clientarea");
    assert_eq!(
        app.send_event(id, &envelope).await.status(),
        StatusCode::ACCEPTED
    );
}

/// `PreModuleTerminate` from WHMCS's cron, with what the addon read of
/// `tblcancelrequests`.
async fn cron_terminates(app: &TestApp, id: &str, request_held: bool) -> Value {
    let mut envelope = envelope("PreModuleTerminate");
    let request = request_held.then(|| json!({"id": 1, "type": "Immediate"}));
    envelope["data"] = json!({"serviceid": 7731, "userid": 1842,
                              "_puente": {"cancellation_request": request}});
    envelope["context"]["source"] = json!("cron");
    envelope["context"]["actor"] = json!({"kind": "system"});
    let answer = app
        .post_signed(
            "/v1/decisions",
            HookRequest::signed(SECRET, id, envelope.to_string()),
        )
        .await;
    json_of(answer, StatusCode::OK).await["return"].clone()
}

#[tokio::test]
async fn a_request_from_whmcs_own_form_is_never_carried_out_until_the_client_confirms_it() {
    // WHMCS took the form's request: its row is in tblcancelrequests.
    let fake = whmcs_holding(
        today().checked_add(40.days()).expect("date"),
        true,
        "Immediate",
    );
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    whmcs_form_request(&app, "evt_form_post", true).await;

    let (status, ..) = row(&app).await;
    assert_eq!(status, "unconfirmed");
    let origin: Vec<String> = app.column("SELECT origin FROM cancellations").await;
    assert_eq!(origin, ["whmcs_client_form"]);
    // Days pass: puente never terminates it, nor tells the client it was
    // requested, and WHMCS's cron is held.
    for day in 0..3 {
        let at = noon(today().checked_add(day.days()).expect("date"));
        app.cancellations.drain_at(at).await.expect("drain");
    }
    assert_eq!(fake.count("ModuleTerminate"), 0);
    assert!(fake.state().terminations.is_empty());
    assert!(
        messages_of(&app, "evt_form_post").await.is_empty(),
        "no alert"
    );
    assert_eq!(
        cron_terminates(&app, "dec_cron_1", true).await,
        json!({"abortcmd": true})
    );
    // Staff may still terminate by hand.
    assert_eq!(
        pre_terminate(&app, "dec_admin_1", "adminarea").await,
        json!({})
    );

    // The client's page asks them to confirm it.
    let preview = preview(&app, "cli_preview_form").await;
    assert_eq!(preview["awaiting_confirmation"]["type"], "Immediate");
    assert_eq!(preview["options"].as_array().map(Vec::len), Some(2));

    // The client confirms with their email and password: it is carried out.
    let confirmed = json_of(
        cancel(&app, "cli_confirm", "Immediate").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(confirmed["status"], "scheduled");
    let stored: Vec<(String, String, bool)> = app
        .triples("SELECT status, origin, reauthenticated FROM cancellations")
        .await;
    assert_eq!(stored, [("scheduled".into(), "client_page".into(), true)]);
    let report = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!(report.terminated, 1, "{report:?}");
    assert_eq!(fake.state().terminations, [(7731, "puente")]);
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn an_unconfirmed_request_staff_deleted_is_withdrawn_and_no_longer_holds_the_cron() {
    let fake = whmcs_holding(
        today().checked_add(40.days()).expect("date"),
        true,
        "Immediate",
    );
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    whmcs_form_request(&app, "evt_form_deleted", true).await;
    app.cancellations.drain_at(tomorrow()).await.expect("drain");
    assert_eq!(row(&app).await.0, "unconfirmed");

    fake.state().cancel_requests.remove(&7731);
    // WHMCS's cron, e.g. terminating the service for non-payment, is no
    // longer held once the request is gone.
    assert_eq!(
        cron_terminates(&app, "dec_cron_gone", false).await,
        json!({})
    );
    let later = tomorrow() + jiff::SignedDuration::from_hours(7);
    let report = app.cancellations.drain_at(later).await.expect("drain");
    assert_eq!(report.withdrawn, 1, "{report:?}");
    assert_eq!(row(&app).await.0, "withdrawn");
    assert_eq!(fake.count("ModuleTerminate"), 0);
    app.stop().await;
}

#[tokio::test]
async fn with_puente_not_handling_cancellations_whmcs_form_requests_are_whmcs_business() {
    let due = today().checked_add(10.days()).expect("date");
    let fake = whmcs_holding(due, true, "Immediate");
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    whmcs_form_request(&app, "evt_form_not_handled", false).await;
    assert_eq!(row(&app).await.0, "requested");
    let report = app
        .cancellations
        .drain_at(noon(today()))
        .await
        .expect("drain");
    assert_eq!((report.scheduled, report.terminated), (1, 1), "{report:?}");
    app.stop().await;
}

#[tokio::test]
async fn every_open_invoice_of_the_service_stays_payable_and_a_payment_pending_renewal_extends_the_period()
 {
    let due = today().checked_add(10.days()).expect("date");
    let fake = whmcs_with(due, true);
    {
        let mut state = fake.state();
        state.addons.insert(31, 7731);
        state.upgrades.push((601, "configoptions", 7731));
        for (id, status, invoice_due, line) in [
            // Next year's renewal, paid by a gateway that has not confirmed.
            (960, "Payment Pending", due, ("Hosting", 7731)),
            (961, "Collections", today(), ("Addon", 31)),
            (962, "Unpaid", today(), ("Upgrade", 601)),
            // Not issued, and another service's.
            (963, "Draft", due, ("Hosting", 7731)),
            (964, "Unpaid", today(), ("Hosting", 7732)),
        ] {
            state.invoices.push(Invoice {
                id,
                client: 1842,
                status,
                due: invoice_due,
                lines: vec![line],
            });
        }
    }
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;

    let preview = preview(&app, "cli_preview_open").await;
    let listed: Vec<u64> = preview["open_invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .map(|invoice| invoice["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(listed, [960, 961, 962]);
    let next_year = due.checked_add(1.year()).expect("date").to_string();
    let end_of_period = preview["options"]
        .as_array()
        .expect("options")
        .iter()
        .find(|option| option["type"] == "End of Billing Period")
        .expect("option")["effective_date"]
        .clone();
    assert_eq!(end_of_period, json!(next_year));

    let answer = json_of(
        cancel(&app, "cli_cancel_open", "End of Billing Period").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answer["effective_date"], json!(next_year));
    assert_eq!(answer["open_invoices"].as_array().map(Vec::len), Some(3));
    fake.assert_no_money_moved();
    app.stop().await;
}
