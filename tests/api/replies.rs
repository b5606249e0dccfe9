//! What puente does with what clients write on WhatsApp, against the
//! stateful fake WHMCS and a fake Graph API: `STOP` writes the opt-out to
//! the client's WHMCS custom field (so the next alert is not sent), `START`
//! clears it (so alerts go again), each confirmed in a free-form text
//! answering the client's message and noted in the client's WHMCS log; any
//! other message becomes a WHMCS ticket, or joins the conversation's open
//! one; an unknown number's message is kept and never becomes a ticket.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::support::fake_whmcs::{FakeWhmcs, Invoice, serve, today};
use crate::support::*;
use crate::whatsapp_webhook::{APP_SECRET, hub_signature, inbound, post_notification};

/// The opt-out custom field of the install.
const OPTOUT_FIELD: u64 = 9;
/// The support department replies are opened in.
const DEPARTMENT: &str = "2";
/// Client 1842's number as WhatsApp spells it (the fixture's +234 803…).
const CLIENT_NUMBER: &str = "2348031234567";

/// The fake WHMCS, the fake Graph API (every send accepted, the n-th with
/// wamid `wamid.OUT-n`) and an app sending through it.
async fn setup() -> (FakeWhmcs, MockServer, MockServer, TestApp) {
    let fake = FakeWhmcs::default();
    let whmcs = serve(&fake).await;
    let graph = numbered_graph().await;
    let base = format!("{}/v23.0", graph.uri());
    let optout = OPTOUT_FIELD.to_string();
    let app = app_with(
        &whmcs,
        &[
            ("PUENTE_WHATSAPP_MODE", "cloud"),
            ("PUENTE_WHATSAPP_API_BASE", base.as_str()),
            ("PUENTE_WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            ("PUENTE_WHATSAPP_TOKEN", "graph-token-abc"),
            ("PUENTE_WHATSAPP_APP_SECRET", APP_SECRET),
            ("PUENTE_ALERTS_OPTOUT_FIELD", optout.as_str()),
            ("PUENTE_REPLIES_DEPARTMENT", DEPARTMENT),
        ],
    )
    .await;
    (fake, whmcs, graph, app)
}

/// Client `from` writes `text` on WhatsApp as message `wamid`, answering
/// `context` if given; Meta's webhook delivers it.
async fn client_writes(app: &TestApp, from: &str, wamid: &str, text: &str, context: Option<&str>) {
    let mut message = json!({"from": from, "id": wamid, "timestamp": now().to_string(),
                             "type": "text", "text": {"body": text}});
    if let Some(context) = context {
        message["context"] = json!({"from": "15550783881", "id": context});
    }
    let body = inbound(
        json!([message]),
        json!([{"wa_id": from, "profile": {"name": "Amina"}}]),
    );
    let response = post_notification(app, &body, Some(&hub_signature(&body))).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The bodies the fake Graph API received, of one `type` (`template`,
/// `text`).
async fn sent_to_graph(graph: &MockServer, kind: &str) -> Vec<Value> {
    graph
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| serde_json::from_slice::<Value>(&request.body).expect("JSON"))
        .filter(|body| body["type"] == kind)
        .collect()
}

/// (handling, outcome) of the inbound message `wamid`.
async fn handled(app: &TestApp, wamid: &str) -> (String, String) {
    let rows: Vec<(String, String, String)> = app
        .triples(&format!(
            "SELECT handling, COALESCE(outcome, ''), wamid FROM inbound_messages WHERE wamid = '{wamid}'"
        ))
        .await;
    let (handling, outcome, _) = rows.into_iter().next().expect("the message is stored");
    (handling, outcome)
}

async fn password_changed(app: &TestApp, id: &str) {
    fire(
        app,
        id,
        "ClientChangePassword",
        fixture_vars("ClientChangePassword"),
        system(),
    )
    .await;
}

#[tokio::test]
async fn stop_writes_the_opt_out_to_whmcs_so_no_alert_goes_and_start_sends_them_again() {
    let (fake, _whmcs, graph, app) = setup().await;
    // An alert reached the client: its number is now theirs to puente.
    welcome(&app).await;
    assert_eq!(app.outbox.drain().await.expect("drain").sent, 1);

    // "Stop", typed without quoting the alert.
    client_writes(&app, CLIENT_NUMBER, "wamid.IN-STOP", "Stop", None).await;
    let report = app.replies.drain().await.expect("replies");
    assert_eq!(report.done, 1, "{report:?}");
    assert_eq!(
        fake.state()
            .custom_fields
            .get(&1842)
            .and_then(|fields| fields.get(&OPTOUT_FIELD)),
        Some(&"all".to_owned()),
        "the opt-out is in WHMCS, where staff see it"
    );
    let confirmations = sent_to_graph(&graph, "text").await;
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["to"], CLIENT_NUMBER);
    assert_eq!(confirmations[0]["context"]["message_id"], "wamid.IN-STOP");
    let said = confirmations[0]["text"]["body"].as_str().expect("text");
    assert!(
        said.starts_with("Listo: ya no recibirás") && said.contains("ALTA"),
        "{said}"
    );
    let (handling, outcome) = handled(&app, "wamid.IN-STOP").await;
    assert_eq!(handling, "done");
    assert!(
        outcome.contains("custom field 9 = \"all\"") && outcome.contains("confirmation sent"),
        "{outcome}"
    );
    let log = whmcs_log(&_whmcs).await;
    assert!(
        log.iter().any(|(client, line)| client == "1842"
            && line.contains("stopped WhatsApp alerts by replying \"Stop\"")),
        "{log:?}"
    );

    // The next alert is not sent: WHMCS says the client stopped them.
    password_changed(&app, "evt_pw_after_stop").await;
    let report = app.outbox.drain().await.expect("drain");
    assert_eq!((report.sent, report.skipped), (0, 1), "{report:?}");
    assert_eq!(
        sent_to_graph(&graph, "template").await.len(),
        1,
        "the welcome only"
    );
    let skipped = messages_of(&app, "evt_pw_after_stop").await;
    assert_eq!(skipped[0].0, "skipped");
    assert!(
        skipped[0]
            .1
            .as_deref()
            .unwrap_or_default()
            .contains("opted out"),
        "{skipped:?}"
    );

    let metrics = app.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "puente_whatsapp_replies_total",
            "outcome=\"opted_out\",whmcs_instance=\"default\""
        ),
        1.0
    );

    // "ALTA", and alerts go again.
    client_writes(&app, CLIENT_NUMBER, "wamid.IN-START", "ALTA", None).await;
    assert_eq!(app.replies.drain().await.expect("replies").done, 1);
    assert_eq!(
        fake.state().custom_fields[&1842][&OPTOUT_FIELD],
        "",
        "the opt-out is cleared in WHMCS"
    );
    let confirmations = sent_to_graph(&graph, "text").await;
    assert_eq!(confirmations.len(), 2);
    assert!(
        confirmations[1]["text"]["body"]
            .as_str()
            .expect("text")
            .starts_with("Listo: vuelves a recibir")
    );
    fake.state().invoices.push(Invoice {
        id: 30517,
        client: 1842,
        status: "Unpaid",
        due: today(),
        lines: vec![],
    });
    fire(
        &app,
        "evt_invoice_after_start",
        "InvoiceCreated",
        fixture_vars("InvoiceCreated"),
        system(),
    )
    .await;
    let report = app.outbox.drain().await.expect("drain");
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(sent_to_graph(&graph, "template").await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn a_reply_becomes_a_ticket_the_next_joins_it_and_after_it_is_closed_a_new_one_opens() {
    let (fake, _whmcs, _graph, app) = setup().await;
    welcome(&app).await;
    app.outbox.drain().await.expect("drain");

    client_writes(
        &app,
        CLIENT_NUMBER,
        "wamid.IN-Q1",
        "¿Cómo entro al panel?",
        Some("wamid.OUT-1"),
    )
    .await;
    assert_eq!(app.replies.drain().await.expect("replies").done, 1);
    let tickets = fake.state().tickets.clone();
    assert_eq!(tickets.len(), 1, "one ticket");
    let ticket = &tickets[0];
    assert_eq!((ticket.client, ticket.department), (1842, 2));
    assert_eq!(ticket.subject, "WhatsApp: mensaje de Amina");
    assert!(
        ticket.messages[0].starts_with("¿Cómo entro al panel?")
            && ticket.messages[0].contains("+2348031234567")
            && ticket.messages[0].contains("«welcome»"),
        "{:?}",
        ticket.messages
    );
    let (handling, outcome) = handled(&app, "wamid.IN-Q1").await;
    assert_eq!(handling, "done");
    assert!(outcome.contains("ticket #WA-500"), "{outcome}");

    // The same conversation: added to the open ticket.
    client_writes(&app, CLIENT_NUMBER, "wamid.IN-Q2", "Gracias", None).await;
    assert_eq!(app.replies.drain().await.expect("replies").done, 1);
    {
        let state = fake.state();
        assert_eq!(state.tickets.len(), 1, "no second ticket");
        assert_eq!(state.tickets[0].messages.len(), 2);
        assert!(state.tickets[0].messages[1].starts_with("Gracias"));
    }

    // Staff close it; the next message opens a new one.
    fake.state().tickets[0].status = "Closed".into();
    client_writes(&app, CLIENT_NUMBER, "wamid.IN-Q3", "Otra pregunta", None).await;
    assert_eq!(app.replies.drain().await.expect("replies").done, 1);
    assert_eq!(fake.state().tickets.len(), 2);
    assert_eq!(fake.count("OpenTicket"), 2);
    assert_eq!(fake.count("AddTicketReply"), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_numbers_message_is_kept_and_shown_and_never_becomes_a_ticket() {
    let (fake, _whmcs, _graph, app) = setup().await;
    // A number no alert went to, even one that says STOP.
    client_writes(
        &app,
        "5215512345678",
        "wamid.STRANGER",
        "Hola, ¿quién es?",
        None,
    )
    .await;
    client_writes(&app, "5215512345678", "wamid.STRANGER-STOP", "STOP", None).await;
    let report = app.replies.drain().await.expect("replies");
    assert_eq!(report, Default::default(), "nothing to act on");
    for wamid in ["wamid.STRANGER", "wamid.STRANGER-STOP"] {
        let (handling, outcome) = handled(&app, wamid).await;
        assert_eq!(handling, "kept");
        assert!(outcome.contains("not matched to a client"), "{outcome}");
    }
    for action in ["OpenTicket", "UpdateClient", "AddTicketReply"] {
        assert_eq!(fake.count(action), 0, "{action}");
    }
    let cookie = crate::dashboard::sign_in(&app, ADMIN_TOKEN).await;
    let (status, page) = crate::dashboard::get_page(&app, &cookie, "/admin/replies").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Hola, ¿quién es?") && page.contains("not matched to a client"));
    app.stop().await;
}

#[tokio::test]
async fn whmcs_down_is_tried_again_later() {
    let (fake, _whmcs, _graph, app) = setup().await;
    welcome(&app).await;
    app.outbox.drain().await.expect("drain");
    client_writes(&app, CLIENT_NUMBER, "wamid.IN-DOWN", "BAJA", None).await;
    fake.state().down = 10;
    let report = app.replies.drain().await.expect("replies");
    assert_eq!(report.retried, 1, "{report:?}");
    let (handling, outcome) = handled(&app, "wamid.IN-DOWN").await;
    assert_eq!(handling, "due");
    assert!(outcome.contains("unavailable"), "{outcome}");
    assert!(!fake.state().custom_fields.contains_key(&1842));

    // Due again later, WHMCS back.
    fake.state().down = 0;
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
    assert_eq!(app.replies.drain_at(later).await.expect("replies").done, 1);
    assert_eq!(fake.state().custom_fields[&1842][&OPTOUT_FIELD], "all");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_staff_see_what_each_client_wrote_and_what_puente_did_with_it() {
    use crate::dashboard::{ChromeDriver, follow, screenshot, sign_in_in_browser, text_of};
    use fantoccini::Locator;
    let (_fake, _whmcs, _graph, app) = setup().await;
    welcome(&app).await;
    app.outbox.drain().await.expect("drain");
    client_writes(
        &app,
        CLIENT_NUMBER,
        "wamid.B1",
        "¿Cómo entro al panel?",
        Some("wamid.OUT-1"),
    )
    .await;
    client_writes(&app, CLIENT_NUMBER, "wamid.B2", "BAJA", None).await;
    client_writes(&app, "5215512345678", "wamid.B3", "Hola, ¿quién es?", None).await;
    assert_eq!(app.replies.drain().await.expect("replies").done, 2);

    let driver = ChromeDriver::start();
    let browser = driver.session().await;
    browser.goto(&app.url("/admin/")).await.expect("goto");
    sign_in_in_browser(&browser, &app).await;
    follow(
        &browser,
        &app,
        Locator::LinkText("Replies"),
        "/admin/replies",
    )
    .await;
    let rows = browser
        .find_all(Locator::Css("tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 3);
    // Newest first: the stranger, the opt-out, the question.
    let texts = [
        rows[0].text().await.expect("text"),
        rows[1].text().await.expect("text"),
        rows[2].text().await.expect("text"),
    ];
    assert!(
        texts[0].contains("unknown") && texts[0].contains("kept"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("opt out") && texts[1].contains("alerts stopped"),
        "{}",
        texts[1]
    );
    assert!(
        texts[2].contains("opened as WHMCS ticket #WA-500") && texts[2].contains("client by alert"),
        "{}",
        texts[2]
    );
    assert!(text_of(&browser, "h1").await == "Replies");
    screenshot(&browser, "11-replies").await;
    browser.close().await.expect("close");
    app.stop().await;
}
