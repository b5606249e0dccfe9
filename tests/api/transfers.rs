//! Transfers end to end against a stateful fake WHMCS and its addon's
//! `action.php`: both clients' consent, every precondition at request,
//! acceptance and move time, the move exactly once, expiry, staff approval,
//! and the audit trail.

use jiff::ToSpan as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::fake_whmcs::{Client, FakeWhmcs, Invoice, Service, serve, today};
use crate::support::*;

/// Juan (client 1842, user 1907) owns service 7731 (with addon 501); José
/// (2210, user 2300) may receive it. Two clients share an email; Kofi
/// (3001) owns nothing here.
fn whmcs() -> FakeWhmcs {
    let fake = FakeWhmcs::default();
    {
        let mut state = fake.state();
        state.services.insert(
            7731,
            Service {
                client: 1842,
                status: "Active",
                cycle: "Annually",
                next_due: today().checked_add(100.days()).expect("date"),
                module: true,
            },
        );
        state.addons.insert(501, 7731);
        // Gateway subscriptions on the service and its addon: a move must
        // not leave them charging Juan.
        state.subscriptions.insert(("service", 7731), "sub_1QwErTy");
        state.subscriptions.insert(("addon", 501), "sub_2AddOn");
        for (id, email, status, owner_user) in [
            (1842, "juan@example.com", "Active", 1907),
            (2210, "jose@example.com", "Inactive", 2300),
            (3001, "kofi@example.com", "Active", 3100),
            (4000, "shared@example.com", "Active", 4100),
            (4001, "shared@example.com", "Active", 4101),
            (5000, "closed@example.com", "Closed", 5100),
        ] {
            state.clients.insert(
                id,
                Client {
                    email,
                    status,
                    owner_user,
                },
            );
        }
    }
    fake
}

/// A client action as the addon signs it.
fn action(client: u64, user: u64, data: Value) -> Value {
    json!({
        "type": "client.transfers",
        "timestamp": jiff::Timestamp::now().to_string(),
        "data": data,
        "context": {"instance": "default", "actor": {"kind": "client", "id": client, "user_id": user},
                    "source": "clientarea", "shim_version": "0.1.0"},
    })
}

async fn post(app: &TestApp, route: &str, id: &str, body: &Value) -> reqwest::Response {
    app.post_signed(
        &format!("/v1/client/transfers{route}"),
        HookRequest::signed(SECRET, id, body.to_string()),
    )
    .await
}

/// Juan asks to move 7731 to `email`.
async fn ask(app: &TestApp, id: &str, email: &str) -> reqwest::Response {
    let data = json!({"service_id": 7731, "recipient_email": email, "language": "english"});
    post(app, "", id, &action(1842, 1907, data)).await
}

/// `client` (as `user`) takes `step` on transfer `transfer`.
async fn step(
    app: &TestApp,
    transfer: i64,
    step: &str,
    client: u64,
    user: u64,
    id: &str,
) -> reqwest::Response {
    let body = action(client, user, json!({"language": "english"}));
    post(app, &format!("/{transfer}/{step}"), id, &body).await
}

async fn requested(app: &TestApp, id: &str) -> i64 {
    let answer = json_of(ask(app, id, "jose@example.com").await, StatusCode::CREATED).await;
    assert_eq!(answer["status"], "requested");
    answer["transfer_id"].as_i64().expect("id")
}

/// The addon's `MoveService` requests: (webhook-id, body).
fn moves_asked(fake: &FakeWhmcs) -> Vec<(String, Value)> {
    fake.state()
        .actions_asked
        .iter()
        .filter(|(_, body)| body["type"] == "MoveService")
        .cloned()
        .collect()
}

async fn admin_transfers(app: &TestApp) -> Vec<Value> {
    json_of(app.admin_get("/v1/admin/transfers").await, StatusCode::OK).await["transfers"]
        .as_array()
        .expect("transfers")
        .clone()
}

async fn alerts(app: &TestApp) -> Vec<(String, String)> {
    app.column("SELECT kind || ' to ' || client_id FROM messages ORDER BY id")
        .await
        .into_iter()
        .map(|row| {
            let (kind, client) = row.split_once(" to ").expect("row");
            (kind.to_owned(), client.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn with_both_clients_consent_the_service_moves_to_the_recipient_exactly_once() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;

    let answer = json_of(
        ask(&app, "cli_ask", "jose@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let id = answer["transfer_id"].as_i64().expect("id");
    let expires: jiff::Timestamp = answer["expires_at"]
        .as_str()
        .expect("expiry")
        .parse()
        .expect("time");
    let week = expires.as_second() - jiff::Timestamp::now().as_second();
    assert!((7 * 86_400 - 60..=7 * 86_400).contains(&week), "{week}");
    // The same request again (same id) is the same transfer.
    let again = json_of(
        ask(&app, "cli_ask", "jose@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["transfer_id"], id);
    let listed = json_of(
        post(&app, "/list", "cli_list", &action(2210, 2300, json!({}))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["incoming"][0]["transfer_id"], id);
    assert_eq!(listed["outgoing"], json!([]));

    let accepted = json_of(
        step(&app, id, "accept", 2210, 2300, "cli_accept").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["status"], "accepted");
    let report = app.transfers.drain().await.expect("drain");
    let again = app.transfers.drain().await.expect("drain");

    assert_eq!(report.completed, 1, "{report:?}");
    assert_eq!(again, puente::workers::transfers::TransferReport::default());
    assert_eq!(fake.state().moves, [(7731, 1842, 2210)]);
    assert_eq!(fake.state().services[&7731].client, 2210);
    let (asked_id, asked) = moves_asked(&fake).remove(0);
    assert_eq!(asked_id, format!("move_{id}"));
    assert_eq!(asked["type"], "MoveService");
    assert_eq!(
        asked["data"],
        json!({"transfer_id": id, "service_id": 7731, "from_client_id": 1842,
               "to_client_id": 2210, "domain_id": null, "recipient_email": "jose@example.com"})
    );

    // The audit trail: every step, who took it and what was checked.
    let [transfer] = &admin_transfers(&app).await[..] else {
        panic!("one transfer");
    };
    assert_eq!(transfer["status"], "completed");
    // Every subscription the move cleared is named for staff, on the
    // record and in the audit trail.
    assert_eq!(
        transfer["subscriptions_cleared"],
        json!([{"kind": "service", "id": 7731, "subscription": "sub_1QwErTy"},
               {"kind": "addon", "id": 501, "subscription": "sub_2AddOn"}])
    );
    let completed = transfer["steps"]
        .as_array()
        .expect("steps")
        .last()
        .expect("a step")["note"]
        .as_str()
        .expect("note")
        .to_owned();
    assert!(
        completed.contains("service #7731: sub_1QwErTy")
            && completed.contains("addon #501: sub_2AddOn")
            && completed.contains("cancel at the gateway"),
        "{completed}"
    );
    let steps = transfer["steps"].as_array().expect("steps");
    let trail: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| {
            (
                s["to"].as_str().expect("to"),
                s["party"].as_str().expect("party"),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            ("requested", "owner"),
            ("accepted", "recipient"),
            ("moving", "system"),
            ("completed", "system"),
        ]
    );
    assert_eq!(steps[0]["actor_user_id"], 1907);
    assert_eq!(steps[1]["actor_client_id"], 2210);
    let checks = steps[1]["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 10);
    assert!(checks.iter().all(|check| check["passed"] == true));

    // Told: the recipient when asked, the owner when accepted, both when done.
    assert_eq!(
        alerts(&app).await,
        [
            ("transfer_requested".to_owned(), "2210".to_owned()),
            ("transfer_accepted".to_owned(), "1842".to_owned()),
            ("transfer_completed".to_owned(), "1842".to_owned()),
            ("transfer_completed".to_owned(), "2210".to_owned()),
        ]
    );
    let report = app.outbox.drain().await.expect("outbox");
    assert_eq!(report.sent, 4, "{report:?}");
    let body: String = app
        .column("SELECT request_body FROM messages WHERE kind = 'transfer_requested'")
        .await
        .remove(0);
    assert!(body.contains("Business Hosting"), "{body}");
    assert!(
        body.contains("https://panel.example/index.php?m=puente&action=transfers"),
        "{body}"
    );
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn each_precondition_failing_at_request_time_refuses_and_records_nothing() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    let asking = |client: u64, user: u64, email: &str| {
        action(
            client,
            user,
            json!({"service_id": 7731, "recipient_email": email, "language": "english"}),
        )
    };
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "kofi asks",
            asking(3001, 3100, "jose@example.com"),
            StatusCode::FORBIDDEN,
            "not_owner",
        ),
        (
            "not the owner user",
            asking(1842, 55, "jose@example.com"),
            StatusCode::FORBIDDEN,
            "not_owner",
        ),
        (
            "nobody",
            asking(1842, 1907, "nobody@example.com"),
            StatusCode::CONFLICT,
            "recipient_not_found",
        ),
        (
            "shared",
            asking(1842, 1907, "shared@example.com"),
            StatusCode::CONFLICT,
            "ambiguous_recipient",
        ),
        (
            "himself",
            asking(1842, 1907, "JUAN@example.com"),
            StatusCode::CONFLICT,
            "recipient_is_owner",
        ),
        (
            "closed",
            asking(1842, 1907, "closed@example.com"),
            StatusCode::CONFLICT,
            "client_not_active",
        ),
    ];
    for (n, (name, body, status, code)) in cases.into_iter().enumerate() {
        let message = assert_error(
            post(&app, "", &format!("cli_refused_{n}"), &body).await,
            status,
            code,
        )
        .await;
        assert!(!message.is_empty(), "{name}");
    }
    // An open line of the service, of its addon, and of an upgrade of the
    // service, in each open status (fixtures/open-invoices.json).
    fake.state().upgrades.push((601, "package", 7731));
    for (n, (status, line)) in [
        ("Unpaid", ("Hosting", 7731)),
        ("Collections", ("Addon", 501)),
        ("Payment Pending", ("Upgrade", 601)),
    ]
    .into_iter()
    .enumerate()
    {
        fake.state().invoices = vec![Invoice {
            id: 950 + n as u64,
            client: 1842,
            status,
            due: today(),
            lines: vec![line],
        }];
        let message = assert_error(
            ask(&app, &format!("cli_unpaid_{n}"), "jose@example.com").await,
            StatusCode::CONFLICT,
            "unpaid_invoices",
        )
        .await;
        assert!(message.contains(&format!("#{}", 950 + n)), "{message}");
    }
    fake.state().invoices.clear();
    fake.state()
        .services
        .get_mut(&7731)
        .expect("service")
        .status = "Suspended";
    assert_error(
        ask(&app, "cli_suspended", "jose@example.com").await,
        StatusCode::CONFLICT,
        "service_not_active",
    )
    .await;
    fake.state()
        .services
        .get_mut(&7731)
        .expect("service")
        .status = "Active";
    assert!(admin_transfers(&app).await.is_empty(), "nothing recorded");

    requested(&app, "cli_first").await;
    assert_error(
        ask(&app, "cli_second", "jose@example.com").await,
        StatusCode::CONFLICT,
        "transfer_open",
    )
    .await;
    assert_eq!(admin_transfers(&app).await.len(), 1);
    assert!(fake.state().moves.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn only_the_recipients_owner_user_accepts_and_a_failure_at_move_time_moves_nothing() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    let id = requested(&app, "cli_ask").await;

    // Not addressed to them: a stranger does not even see it; the owner
    // cannot accept for the recipient; a user of the recipient's account
    // who does not own it cannot either.
    assert_error(
        step(&app, id, "accept", 3001, 3100, "cli_k").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        step(&app, id, "accept", 1842, 1907, "cli_o").await,
        StatusCode::FORBIDDEN,
        "not_recipient",
    )
    .await;
    assert_error(
        step(&app, id, "accept", 2210, 9, "cli_u").await,
        StatusCode::FORBIDDEN,
        "not_recipient",
    )
    .await;
    assert_eq!(admin_transfers(&app).await[0]["status"], "requested");

    assert_eq!(
        step(&app, id, "accept", 2210, 2300, "cli_a").await.status(),
        StatusCode::OK
    );
    // An invoice of the service became unpaid after the acceptance: the
    // addon's own check at move time refuses.
    fake.state().invoices.push(Invoice {
        id: 960,
        client: 1842,
        status: "Unpaid",
        due: today(),
        lines: vec![("Hosting", 7731)],
    });
    let report = app.transfers.drain().await.expect("drain");

    assert_eq!(report.failed, 1, "{report:?}");
    assert!(fake.state().moves.is_empty());
    assert_eq!(fake.state().services[&7731].client, 1842);
    let transfer = &admin_transfers(&app).await[0];
    assert_eq!(transfer["status"], "failed");
    assert!(
        transfer["last_error"]
            .as_str()
            .expect("why")
            .contains("unpaid_invoices"),
        "{transfer}"
    );
    fake.assert_no_money_moved();
    app.stop().await;
}

#[tokio::test]
async fn a_lost_answer_or_an_unreachable_addon_never_moves_twice() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    let id = requested(&app, "cli_ask").await;
    assert_eq!(
        step(&app, id, "accept", 2210, 2300, "cli_a").await.status(),
        StatusCode::OK
    );

    fake.state().addon_down = 1;
    let start = jiff::Timestamp::now();
    let at = |seconds: i64| start + jiff::SignedDuration::from_secs(seconds);
    let down = app.transfers.drain_at(start).await.expect("drain");
    // An unreachable addon is left alone 30 s, not asked on every wake.
    let resting = app.transfers.drain_at(at(29)).await.expect("drain");
    assert_eq!((resting.waiting, moves_asked(&fake).len()), (1, 1));
    fake.state().lose_next_move_answer = true;
    let lost = app.transfers.drain_at(at(30)).await.expect("drain");
    // Then twice as long.
    let resting = app.transfers.drain_at(at(89)).await.expect("drain");
    assert_eq!((resting.waiting, moves_asked(&fake).len()), (1, 2));
    let done = app.transfers.drain_at(at(90)).await.expect("drain");

    assert_eq!((down.waiting, lost.waiting, done.completed), (1, 1, 1));
    assert_eq!(fake.state().moves, [(7731, 1842, 2210)], "moved once");
    let moves = moves_asked(&fake);
    assert_eq!(moves.len(), 3);
    assert!(
        moves
            .iter()
            .all(|(asked, _)| *asked == format!("move_{id}")),
        "every try is the same request"
    );
    let transfer = &admin_transfers(&app).await[0];
    let last = transfer["steps"]
        .as_array()
        .expect("steps")
        .last()
        .cloned()
        .expect("step");
    assert_eq!(last["note"], "the addon had moved it already");
    app.stop().await;
}

#[tokio::test]
async fn a_pass_asks_for_at_most_a_hundred_moves_and_says_more_are_due() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    requested(&app, "cli_ask").await;
    let count = puente::workers::transfers::PASS_LIMIT + 1;
    // Accepted moves of other services, and an addon that answers none.
    let rows = (0..count)
        .map(|n| {
            format!(
                "({id}, (SELECT seq FROM events LIMIT 1), 'default', {service}, 1842, 2210,
                  'jose@example.com', 'none', 'accepted', 0, 9999999999999, 0)",
                id = 500 + n,
                service = 9000 + n
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    app.batch(&format!(
        "INSERT INTO transfers (id, event_seq, instance, service_id, owner_client_id,
                 recipient_client_id, recipient_email, approval, status, requested_at_ms,
                 expires_at_ms, updated_at_ms)
             VALUES {rows}"
    ))
    .await;
    fake.state().addon_down = usize::MAX;
    let now = jiff::Timestamp::now();
    let first = app.transfers.drain_at(now).await.expect("drain");
    assert_eq!(
        (first.waiting, first.more),
        (puente::workers::transfers::PASS_LIMIT, true)
    );
    let second = app.transfers.drain_at(now).await.expect("drain");
    assert_eq!((second.waiting, second.more), (count, false));
    assert_eq!(moves_asked(&fake).len(), count, "each asked once");
    app.stop().await;
}

#[tokio::test]
async fn an_unanswered_request_expires_and_the_owner_is_told() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[("PUENTE_TRANSFER_EXPIRY_DAYS", "1")]).await;
    let id = requested(&app, "cli_ask").await;

    let early = app.transfers.drain().await.expect("drain");
    let later = jiff::Timestamp::now()
        .checked_add(25.hours())
        .expect("time");
    let lapsed = app.transfers.drain_at(later).await.expect("drain");

    assert_eq!((early.expired, lapsed.expired), (0, 1));
    assert_eq!(admin_transfers(&app).await[0]["status"], "expired");
    assert_error(
        step(&app, id, "accept", 2210, 2300, "cli_late").await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        alerts(&app).await.last().cloned(),
        Some(("transfer_expired".to_owned(), "1842".to_owned()))
    );
    assert!(fake.state().moves.is_empty());
    // Expired, the service may be asked for again.
    requested(&app, "cli_ask_again").await;
    app.stop().await;
}

#[tokio::test]
async fn declined_or_withdrawn_transfers_end_and_staff_approval_comes_before_the_move() {
    let fake = whmcs();
    let server = serve(&fake).await;
    let app = app_with(&server, &[("PUENTE_TRANSFER_APPROVAL", "staff")]).await;

    let declined = requested(&app, "cli_ask_1").await;
    let answer = json_of(
        step(&app, declined, "decline", 2210, 2300, "cli_d").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["status"], "declined");
    assert_eq!(
        alerts(&app).await.last().cloned(),
        Some(("transfer_declined".to_owned(), "1842".to_owned()))
    );

    let withdrawn = requested(&app, "cli_ask_2").await;
    assert_error(
        step(&app, withdrawn, "withdraw", 2210, 2300, "cli_w1").await,
        StatusCode::FORBIDDEN,
        "not_owner",
    )
    .await;
    let answer = json_of(
        step(&app, withdrawn, "withdraw", 1842, 1907, "cli_w2").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["status"], "withdrawn");

    let approved = requested(&app, "cli_ask_3").await;
    assert_eq!(
        step(&app, approved, "accept", 2210, 2300, "cli_a")
            .await
            .status(),
        StatusCode::OK
    );
    let waiting = app.transfers.drain().await.expect("drain");
    assert_eq!(
        waiting,
        puente::workers::transfers::TransferReport::default(),
        "not before staff approve"
    );
    assert!(fake.state().moves.is_empty());
    let approve = |id: i64| format!("/v1/admin/transfers/{id}/approve");
    assert_eq!(
        app.admin_post(&approve(approved)).await.status(),
        StatusCode::ACCEPTED
    );
    assert_error(
        app.admin_post(&approve(approved)).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_error(
        app.admin_post(&approve(declined)).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    assert_error(
        app.admin_post(&approve(999)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let moved = app.transfers.drain().await.expect("drain");

    assert_eq!(moved.completed, 1);
    assert_eq!(fake.state().moves, [(7731, 1842, 2210)]);
    let statuses: Vec<Value> = admin_transfers(&app)
        .await
        .iter()
        .map(|transfer| transfer["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("declined"), json!("withdrawn"), json!("completed")]
    );
    let trail: Vec<Value> = admin_transfers(&app).await[2]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| step["party"].clone())
        .collect();
    assert_eq!(
        trail,
        [
            json!("owner"),
            json!("recipient"),
            json!("staff"),
            json!("system"),
            json!("system")
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_with_more_open_invoices_than_puente_reads_is_not_taken_as_up_to_date() {
    let fake = whmcs();
    // 150 open invoices, none of the service's: puente reads the newest
    // hundred, in a bounded number of calls, and cannot say the rest are
    // unrelated.
    for n in 0..150u64 {
        fake.state().invoices.push(Invoice {
            id: 10_000 + n,
            client: 1842,
            status: "Unpaid",
            due: today().checked_sub((n as i64).days()).expect("date"),
            lines: vec![("Item", 0)],
        });
    }
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;

    assert_error(
        ask(&app, "cli_many_open", "jose@example.com").await,
        StatusCode::CONFLICT,
        "unpaid_invoices",
    )
    .await;

    assert_eq!(fake.count("GetInvoices"), 3, "one per open status");
    assert_eq!(fake.count("GetInvoice"), 100, "at most a hundred read");
    // With fewer, the same client is up to date.
    fake.state().invoices.truncate(20);
    let answer = json_of(
        ask(&app, "cli_few_open", "jose@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answer["status"], "requested");
    app.stop().await;
}

#[tokio::test]
async fn alerts_about_a_service_that_moved_go_to_the_client_who_owned_it_when_it_happened() {
    let fake = whmcs();
    fake.state().distinct_clients = true;
    let server = serve(&fake).await;
    let app = app_with(&server, &[]).await;
    // Juan's service is suspended and reactivated while still his...
    for (id, hook) in [
        ("evt_suspended", "AfterModuleSuspend"),
        ("evt_unsuspended", "AfterModuleUnsuspend"),
    ] {
        crate::support::fire(
            &app,
            id,
            hook,
            json!({"params": {"serviceid": 7731, "userid": 1842}}),
            crate::support::system(),
        )
        .await;
    }
    // ...then moves to José before the alerts are prepared.
    let id = requested(&app, "cli_ask_moved").await;
    assert_eq!(
        step(&app, id, "accept", 2210, 2300, "cli_accept_moved")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.transfers.drain().await.expect("drain").completed, 1);
    // A suspension after the move is José's.
    crate::support::fire(
        &app,
        "evt_suspended_after",
        "AfterModuleSuspend",
        json!({"params": {"serviceid": 7731, "userid": 2210}}),
        crate::support::system(),
    )
    .await;

    let report = app.outbox.drain().await.expect("outbox");

    let sent: Vec<(String, String, String)> = app
        .triples("SELECT kind, CAST(client_id AS TEXT), status FROM messages ORDER BY id")
        .await;
    let of = |kind: &str| -> Vec<(String, String)> {
        sent.iter()
            .filter(|(k, ..)| k == kind)
            .map(|(_, client, status)| (client.clone(), status.clone()))
            .collect()
    };
    assert_eq!(
        of("service_suspended"),
        [
            ("1842".to_owned(), "sent".to_owned()),
            ("2210".to_owned(), "sent".to_owned())
        ]
    );
    assert_eq!(
        of("service_reactivated"),
        [("1842".to_owned(), "sent".to_owned())]
    );
    assert!(
        sent.iter().all(|(.., status)| status == "sent"),
        "no dead letter: {sent:?} {report:?}"
    );
    // Each went to its own client's number.
    let to: Vec<String> = app
        .column("SELECT request_body FROM messages WHERE kind = 'service_reactivated'")
        .await
        .iter()
        .map(|body| {
            let body: Value = serde_json::from_str(body).expect("request body JSON");
            body["to"].as_str().expect("to").to_owned()
        })
        .collect();
    assert_eq!(to, ["2348030001842"]);
    app.stop().await;
}
