//! Alerts staff send by hand from the dashboard, against the stateful fake
//! WHMCS and a fake Graph API: a client found by email, the exact message
//! previewed from WHMCS, sent by the outbox and kept with who sent it; the
//! same alert to three pasted clients, sent by the outbox in order, one
//! after another (paced by the number's limits), or cancelled before it
//! goes; and a session scoped to one instance sends for no other.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::dashboard::{
    addon_link, browser_like, cookie_pair, csrf_of, get_page, set_cookie, sign_in,
};
use crate::support::fake_whmcs::{Client, FakeWhmcs, serve};
use crate::support::*;

const BETA_TOKEN: &str = "beta-admin-token-0123456789";

/// The fake WHMCS with clients 1842, 2210 and 3001 (each with a number of
/// its own), the fake Graph API, and an app sending through it; a second
/// instance `beta` with an admin token of its own.
async fn setup() -> (FakeWhmcs, MockServer, MockServer, TestApp) {
    let fake = FakeWhmcs::default();
    {
        let mut state = fake.state();
        state.distinct_clients = true;
        for (id, email) in [
            (1842, "amina@okafordesign.example"),
            (2210, "luis@example.com"),
            (3001, "sofia@example.org"),
        ] {
            state.clients.insert(
                id,
                Client {
                    email,
                    status: "Active",
                    owner_user: id + 5000,
                },
            );
        }
    }
    let whmcs = serve(&fake).await;
    let graph = numbered_graph().await;
    let url = whmcs.uri();
    let base = format!("{}/v23.0", graph.uri());
    let toml = format!(
        r#"
        [instances.beta]
        secrets = "{OTHER_SECRET}"
        admin_token = "{BETA_TOKEN}"
        "#
    );
    let app = spawn_app_with(
        &[
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
            ("PUENTE_WHMCS_URL", url.as_str()),
            ("PUENTE_WHMCS_IDENTIFIER", "puente"),
            ("PUENTE_WHMCS_SECRET", "api-secret-123"),
            ("PUENTE_PUBLIC_URL", "https://panel.example"),
            ("PUENTE_WHATSAPP_MODE", "cloud"),
            ("PUENTE_WHATSAPP_API_BASE", base.as_str()),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            ("PUENTE_WHATSAPP_TOKEN", "graph-token-abc"),
        ],
        &toml,
    )
    .await;
    (fake, whmcs, graph, app)
}

async fn post_send(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    browser_like()
        .post(app.url("/admin/send"))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// (client, status, reason) of every message of manual sends, in order.
async fn sent_by_hand(app: &TestApp) -> Vec<(i64, String, String)> {
    app.triples(
        "SELECT COALESCE(m.client_id, 0), m.status, COALESCE(m.reason, '') FROM messages m
           JOIN events e ON e.seq = m.event_seq WHERE e.type = 'puente.send' ORDER BY m.id",
    )
    .await
}

async fn graph_recipients(graph: &MockServer) -> Vec<String> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_slice(&request.body).expect("JSON");
            body["to"].as_str().expect("to").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_client_found_by_email_is_previewed_from_whmcs_sent_by_the_outbox_and_audited() {
    let (_fake, _whmcs, graph, app) = setup().await;
    let cookie = sign_in(&app, ADMIN_TOKEN).await;

    let (status, page) = get_page(
        &app,
        &cookie,
        "/admin/send?instance=default&kind=welcome&to=luis%40example.com",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The exact body the outbox would send, read from WHMCS now.
    for shown in [
        "#2210",
        "+2348030002210",
        "Cliente 2210",
        "&quot;to&quot;",
        ">Send</button>",
    ] {
        assert!(page.contains(shown), "{shown} in the preview");
    }
    assert!(
        graph_recipients(&graph).await.is_empty(),
        "a preview sends nothing"
    );
    assert!(sent_by_hand(&app).await.is_empty(), "nor plans anything");

    let response = post_send(
        &app,
        &cookie,
        &csrf_of(&page),
        &[
            ("instance", "default"),
            ("kind", "welcome"),
            ("targets", "2210"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(sent_by_hand(&app).await[0].1, "planned");
    let report = app.outbox.drain().await.expect("drain");
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(graph_recipients(&graph).await.len(), 1);

    // Who sent it is kept with the send, and shown.
    let id: String = app
        .one("SELECT id FROM events WHERE type = 'puente.send'")
        .await;
    let event = app
        .store
        .event(puente::domain::ids::EventId::parse(&id).expect("id"))
        .await
        .expect("read")
        .expect("the send's event");
    assert_eq!(
        event.actor.kind.as_str(),
        "system",
        "the admin token is no WHMCS admin"
    );
    let body: Value = serde_json::from_slice(&event.body.expect("body")).expect("JSON");
    assert_eq!(body["data"]["sent_by"], "token");
    assert_eq!(body["data"]["targets"], json!([2210]));
    let (_, sends) = get_page(&app, &cookie, "/admin/sends").await;
    assert!(
        sends.contains("the admin token") && sends.contains("1 sent"),
        "{sends}"
    );

    // A name several clients share lists them to pick from, each a link
    // to its own preview.
    let (_, page) = get_page(
        &app,
        &cookie,
        "/admin/send?instance=default&kind=welcome&to=Cliente",
    )
    .await;
    assert!(page.contains("Pick the client"), "{page}");
    for id in [1842, 2210, 3001] {
        assert!(
            page.contains(&format!("kind=welcome&amp;to={id}\"")),
            "client {id} to pick"
        );
    }
    assert!(
        !page.contains(">Send</button>"),
        "nothing to send before picking"
    );

    // A search that matches no client says so, and offers nothing to send.
    let (_, page) = get_page(
        &app,
        &cookie,
        "/admin/send?instance=default&kind=welcome&to=nobody",
    )
    .await;
    assert!(page.contains("No client matches.") && !page.contains(">Send</button>"));
    app.stop().await;
}

#[tokio::test]
async fn the_same_alert_to_three_pasted_clients_goes_through_the_outbox_in_order_or_is_cancelled() {
    let (_fake, _whmcs, graph, app) = setup().await;
    let cookie = sign_in(&app, ADMIN_TOKEN).await;
    let (_, page) = get_page(&app, &cookie, "/admin/send").await;
    let csrf = csrf_of(&page);

    let response = post_send(
        &app,
        &cookie,
        &csrf,
        &[
            ("instance", "default"),
            ("kind", "welcome"),
            ("targets", "1842, 2210\n3001"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let planned = sent_by_hand(&app).await;
    let clients: Vec<i64> = planned.iter().map(|(client, _, _)| *client).collect();
    assert_eq!(clients, [1842, 2210, 3001]);
    assert!(planned.iter().all(|(_, status, _)| status == "planned"));
    assert!(
        graph_recipients(&graph).await.is_empty(),
        "the dashboard only plans: the outbox sends, at the number's pace"
    );
    let (_, sends) = get_page(&app, &cookie, "/admin/sends").await;
    assert!(sends.contains("3 planned") && sends.contains("Cancel the 3 not sent"));

    let report = app.outbox.drain().await.expect("drain");
    assert_eq!(report.sent, 3, "{report:?}");
    assert_eq!(
        graph_recipients(&graph).await,
        ["2348030001842", "2348030002210", "2348030003001"],
        "one message each, in the order pasted"
    );
    let (_, sends) = get_page(&app, &cookie, "/admin/sends").await;
    assert!(sends.contains("3 sent") && !sends.contains("Cancel the"));

    // A second list, cancelled before the outbox takes it.
    post_send(
        &app,
        &cookie,
        &csrf,
        &[
            ("instance", "default"),
            ("kind", "welcome"),
            ("targets", "1842 2210 3001"),
        ],
    )
    .await;
    let send: String = app
        .one("SELECT id FROM events WHERE type = 'puente.send' ORDER BY seq DESC LIMIT 1")
        .await;
    let response = browser_like()
        .post(app.url(&format!("/admin/sends/{send}/cancel")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("cancel");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cancelled: Vec<(i64, String, String)> = sent_by_hand(&app).await.split_off(3);
    assert_eq!(cancelled.len(), 3);
    assert!(
        cancelled
            .iter()
            .all(|(_, status, reason)| status == "skipped"
                && reason == "cancelled from the dashboard by the admin token")
    );
    assert_eq!(app.outbox.drain().await.expect("drain").handled(), 0);
    assert_eq!(graph_recipients(&graph).await.len(), 3, "nothing more went");
    app.stop().await;
}

#[tokio::test]
async fn bad_sends_change_nothing_and_a_scoped_session_sends_only_for_its_instance() {
    let (_fake, _whmcs, _graph, app) = setup().await;
    // WHMCS admin #4 opens beta's dashboard from its addon.
    let link = addon_link(&app, OTHER_SECRET, "beta", 4);
    let response = browser_like().get(&link).send().await.expect("link");
    assert_eq!(response.status(), StatusCode::OK);
    let beta = cookie_pair(&set_cookie(&response).expect("a session"));
    let (_, page) = get_page(&app, &beta, "/admin/send").await;
    let csrf = csrf_of(&page);
    assert!(
        !page.contains(r#"<option value="default""#),
        "only its own instance"
    );
    let refused = post_send(
        &app,
        &beta,
        &csrf,
        &[
            ("instance", "default"),
            ("kind", "welcome"),
            ("targets", "1842"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Its own instance is fine.
    let own = post_send(
        &app,
        &beta,
        &csrf,
        &[
            ("instance", "beta"),
            ("kind", "welcome"),
            ("targets", "1842"),
        ],
    )
    .await;
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    let (_, sends) = get_page(&app, &beta, "/admin/sends").await;
    assert!(sends.contains("WHMCS admin #4"), "who sent it");
    let (actor_kind, actor_id, _): (String, i64, String) = app
        .triples("SELECT actor_kind, actor_id, id FROM events WHERE type = 'puente.send'")
        .await
        .remove(0);
    assert_eq!((actor_kind.as_str(), actor_id), ("admin", 4));

    let admin = sign_in(&app, ADMIN_TOKEN).await;
    let (_, page) = get_page(&app, &admin, "/admin/send").await;
    let csrf = csrf_of(&page);
    for (fields, status) in [
        (
            [
                ("instance", "default"),
                ("kind", "transfer_requested"),
                ("targets", "1842"),
            ],
            StatusCode::BAD_REQUEST,
        ),
        (
            [
                ("instance", "default"),
                ("kind", "welcome"),
                ("targets", "1842, x"),
            ],
            StatusCode::BAD_REQUEST,
        ),
        (
            [
                ("instance", "default"),
                ("kind", "welcome"),
                ("targets", ""),
            ],
            StatusCode::BAD_REQUEST,
        ),
        (
            [
                ("instance", "nowhere"),
                ("kind", "welcome"),
                ("targets", "1842"),
            ],
            StatusCode::FORBIDDEN,
        ),
    ] {
        let response = post_send(&app, &admin, &csrf, &fields).await;
        assert_eq!(response.status(), status, "{fields:?}");
    }
    let stale = post_send(
        &app,
        &admin,
        "not-the-token",
        &[
            ("instance", "default"),
            ("kind", "welcome"),
            ("targets", "1842"),
        ],
    )
    .await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert_eq!(sent_by_hand(&app).await.len(), 1, "only beta's own send");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_staff_preview_a_message_send_it_and_watch_it_go() {
    use crate::dashboard::{ChromeDriver, follow, screenshot, sign_in_in_browser, text_of};
    use fantoccini::Locator;
    let (_fake, _whmcs, graph, app) = setup().await;
    let driver = ChromeDriver::start();
    let browser = driver.session().await;
    browser.goto(&app.url("/admin/")).await.expect("goto");
    sign_in_in_browser(&browser, &app).await;

    follow(&browser, &app, Locator::LinkText("Send"), "/admin/sends").await;
    assert!(text_of(&browser, "main").await.contains("No send yet."));
    follow(&browser, &app, Locator::LinkText("New send"), "/admin/send").await;
    for choice in [
        "select[name=instance] option[value=default]",
        "select[name=kind] option[value=welcome]",
    ] {
        browser
            .find(Locator::Css(&format!("form[method=get] {choice}")))
            .await
            .expect("an option")
            .click()
            .await
            .expect("choose");
    }
    browser
        .find(Locator::Css("input[name=to]"))
        .await
        .expect("the To field")
        .send_keys("luis@example.com")
        .await
        .expect("type");
    follow(
        &browser,
        &app,
        Locator::XPath("//button[text()='Preview']"),
        "/admin/send?instance=default&kind=welcome&to=luis%40example.com",
    )
    .await;
    let preview = text_of(&browser, "section.card dl").await;
    assert!(
        preview.contains("#2210") && preview.contains("+2348030002210"),
        "{preview}"
    );
    assert!(
        text_of(&browser, "section.card pre")
            .await
            .contains("\"template\"")
    );
    screenshot(&browser, "10-send-preview").await;

    follow(
        &browser,
        &app,
        Locator::XPath("//button[text()='Send']"),
        "/admin/sends?done=planned",
    )
    .await;
    let row = text_of(&browser, "tbody tr").await;
    assert!(
        row.contains("1 planned") && row.contains("the admin token"),
        "{row}"
    );
    assert_eq!(app.outbox.drain().await.expect("drain").sent, 1);
    assert_eq!(graph_recipients(&graph).await, ["2348030002210"]);
    browser.refresh().await.expect("reload");
    assert!(text_of(&browser, "tbody tr").await.contains("1 sent"));
    screenshot(&browser, "10-sends").await;
    browser.close().await.expect("close");
    app.stop().await;
}

#[tokio::test]
async fn the_sends_page_shows_the_newest_sends_however_many_there_were() {
    use puente::domain::envelope::{Actor, ActorKind, Source};
    use puente::domain::ids::{EventId, HookType, InstanceName};
    let (_fake, _whmcs, _graph, app) = setup().await;
    // 1030 earlier sends (more than one page of them, and more than the
    // first listing could hold), stored as the
    // dashboard stores them, without alerts.
    let now = jiff::Timestamp::now();
    let sends = (0..1030).map(|n| {
        let store = std::sync::Arc::clone(&app.store);
        async move {
            let body = json!({"type": "puente.send", "data": {"kind": "welcome",
                "targets": [1842], "sent_by": format!("whmcs-admin-{n}")}});
            store
                .insert_event(puente::store::NewEvent {
                    id: EventId::parse(&format!("dash_old_{n:04}")).expect("id"),
                    instance: InstanceName::parse("default").expect("name"),
                    hook: HookType::parse("puente.send").expect("type"),
                    actor: Actor {
                        kind: ActorKind::Admin,
                        id: Some(n),
                        user_id: None,
                    },
                    source: Source::Adminarea,
                    occurred_at: now,
                    status: puente::store::events::EventStatus::Received,
                    body: body.to_string().into_bytes(),
                    plan: Default::default(),
                })
                .await
                .expect("stored")
        }
    });
    for send in sends {
        send.await;
    }
    let cookie = sign_in(&app, ADMIN_TOKEN).await;
    let (_, page) = get_page(&app, &cookie, "/admin/sends").await;
    assert!(
        page.contains("/admin/events/dash_old_1029"),
        "the newest is shown"
    );
    assert!(page.contains("WHMCS admin #1029"));
    assert!(
        !page.contains("/admin/events/dash_old_0000"),
        "the oldest is not"
    );
    app.stop().await;
}
