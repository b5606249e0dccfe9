//! Alerts even when WHMCS forgets a hook: the reconciliation reads the
//! invoices paid and cancelled since its last pass through the stateful
//! fake WHMCS's API, plans the alerts whose hook never came under the
//! hook's own keys, and nothing is sent twice when the late hook arrives or
//! the next pass reads the same invoices.

use crate::support::fake_whmcs::{FakeWhmcs, Invoice, serve, today};
use crate::support::*;

/// (kind, status, event id) of every message, in order.
async fn alerts(app: &TestApp) -> Vec<(String, String, String)> {
    app.triples(
        "SELECT m.kind, m.status, e.id FROM messages m JOIN events e ON e.seq = m.event_seq
          ORDER BY m.id",
    )
    .await
}

fn whmcs_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn invoice(id: u64, status: &'static str) -> Invoice {
    Invoice {
        id,
        client: 1842,
        status,
        due: today(),
        lines: vec![],
    }
}

#[tokio::test]
async fn an_invoice_paid_without_its_hook_is_alerted_once_and_the_late_hook_sends_nothing_more() {
    let fake = FakeWhmcs::default();
    fake.state().invoices.extend([
        invoice(30517, "Unpaid"),
        invoice(30522, "Unpaid"),
        invoice(30400, "Paid"),
    ]);
    let start = jiff::Timestamp::now();
    // Paid long before puente compared: never alerted.
    fake.state().paid_at.insert(
        30400,
        whmcs_time(start - jiff::SignedDuration::from_hours(48)),
    );
    let whmcs = serve(&fake).await;
    let app = app_with(&whmcs, &[]).await;

    // The first pass only records where it stands.
    let first = app.reconcile.pass_at(start).await.expect("first pass");
    assert!(first.values().all(|found| found.started), "{first:?}");
    assert!(alerts(&app).await.is_empty());

    // Paid through the API (no InvoicePaid), cancelled through the API (no
    // InvoiceCancelled).
    let paid = start + jiff::SignedDuration::from_mins(5);
    {
        let mut state = fake.state();
        state.invoices[0].status = "Paid";
        state.paid_at.insert(30517, whmcs_time(paid));
        state.invoices[1].status = "Cancelled";
        state.cancelled_at.insert(30522, whmcs_time(paid));
    }
    let second = app
        .reconcile
        .pass_at(start + jiff::SignedDuration::from_mins(15))
        .await
        .expect("second pass");
    let found = second.values().next().expect("the install");
    assert_eq!((found.changed, found.stored), (2, 2), "{found:?}");
    let planned = alerts(&app).await;
    let kinds: Vec<&str> = planned.iter().map(|(kind, _, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["payment_received", "invoice_cancelled"]);
    assert!(
        planned
            .iter()
            .all(|(_, _, event)| event.starts_with("rcn_")),
        "{planned:?}"
    );
    let report = app.outbox.drain().await.expect("drain");
    assert_eq!(report.sent, 2, "{report:?}");

    // The hook WHMCS fires late, and the next pass over the same invoices:
    // nothing more is planned or sent.
    fire(
        &app,
        "evt_late_invoice_paid",
        "InvoicePaid",
        fixture_vars("InvoicePaid"),
        system(),
    )
    .await;
    let third = app
        .reconcile
        .pass_at(start + jiff::SignedDuration::from_mins(30))
        .await
        .expect("third pass");
    assert_eq!(third.values().next().expect("the install").stored, 0);
    assert_eq!(alerts(&app).await.len(), 2, "one alert per invoice");
    assert_eq!(app.outbox.drain().await.expect("drain").handled(), 0);

    // The dashboard says where each install stands.
    let cookie = crate::dashboard::sign_in(&app, ADMIN_TOKEN).await;
    let (status, page) = crate::dashboard::get_page(&app, &cookie, "/admin/hooks").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        page.contains("2 invoices paid or cancelled since the last pass; 2 alerted")
            || page.contains("0 alerted for a hook WHMCS did not fire"),
        "the last pass is shown"
    );
    app.stop().await;
}

#[tokio::test]
async fn whmcs_unreachable_keeps_where_the_reconciliation_stood() {
    let fake = FakeWhmcs::default();
    fake.state().invoices.push(invoice(30517, "Unpaid"));
    let whmcs = serve(&fake).await;
    let app = app_with(&whmcs, &[]).await;
    let start = jiff::Timestamp::now();
    app.reconcile.pass_at(start).await.expect("first pass");
    {
        let mut state = fake.state();
        state.invoices[0].status = "Paid";
        state.paid_at.insert(
            30517,
            whmcs_time(start + jiff::SignedDuration::from_mins(5)),
        );
        state.down = 10;
    }
    let later = start + jiff::SignedDuration::from_mins(15);
    assert!(app.reconcile.pass_at(later).await.is_err());
    assert!(alerts(&app).await.is_empty());
    // Back: the payment made during the outage is still found.
    fake.state().down = 0;
    let found = app
        .reconcile
        .pass_at(later + jiff::SignedDuration::from_mins(15))
        .await
        .expect("pass");
    assert_eq!(found.values().next().expect("the install").stored, 1);
    assert_eq!(alerts(&app).await.len(), 1);
    app.stop().await;
}
