//! `make bench`, alerts part: time from a hook event's POST to the moment
//! its WhatsApp request is ready (dry-run: recorded as sent), with the
//! outbox worker woken by the commit and a fake WHMCS on localhost.
//! Prints figures; asserts nothing. Target: p50 ≤ 50 ms.

// Figures (rates, latencies) are floats; no money is computed here.
#![allow(clippy::disallowed_types)]

use std::time::{Duration, Instant};

use puente::config::{Config, INSTANCE_SETTINGS, SETTINGS, Sources};
use puente::signature::{self, HookSecret};
use puente::startup::Application;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const EVENTS: usize = 200;

#[path = "../tests/api/support/fixtures.rs"]
mod fixtures;

use fixtures::fixture;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let whmcs = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_string_contains("action=GetClientsDetails"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture("api-GetClientsDetails")),
            )
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("alerts.db");
    let whmcs_url = whmcs.uri();
    let database_text = database.to_string_lossy().into_owned();
    let env = move |var: &str| match var {
        "PUENTE_LISTEN" => Some("127.0.0.1:0".to_owned()),
        "PUENTE_DATABASE" => Some(database_text.clone()),
        "PUENTE_HOOK_SECRETS" => Some(SECRET.to_owned()),
        "PUENTE_LOG" => Some("warn".to_owned()),
        "PUENTE_WHMCS_URL" => Some(whmcs_url.clone()),
        "PUENTE_WHMCS_IDENTIFIER" => Some("bench".to_owned()),
        "PUENTE_WHMCS_SECRET" => Some("bench-secret".to_owned()),
        "PUENTE_PUBLIC_URL" => Some("https://panel.example".to_owned()),
        _ => None,
    };
    let config =
        Config::from_sources(&Sources::load(env, SETTINGS, INSTANCE_SETTINGS).expect("sources"))
            .expect("config");
    let (started, ready) = std::sync::mpsc::channel();
    let service = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let application = Application::build(config).expect("service builds");
            started
                .send((application.port(), application.handle()))
                .expect("report port");
            application.run_until_stopped().await.expect("service runs");
        });
    });
    let (port, handle) = ready.recv().expect("service started");
    let secret: HookSecret = SECRET.parse().expect("secret");
    let reader = rusqlite::Connection::open(&database).expect("reader");
    let client = reqwest::Client::new();

    let mut samples = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        let id = format!("evt_bench_alert_{n}");
        let body = serde_json::json!({
            "type": "ClientAdd",
            "timestamp": "2026-11-28T01:00:00Z",
            "data": {"client_id": 10_000 + n},
            "context": {"instance": "default", "actor": {"kind": "system"}, "source": "cron"}
        })
        .to_string();
        let timestamp = jiff::Timestamp::now().as_second();
        let started = Instant::now();
        let answer = runtime
            .block_on(
                client
                    .post(format!("http://127.0.0.1:{port}/v1/hooks"))
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header(
                        "webhook-signature",
                        signature::sign(&secret, &id, timestamp, body.as_bytes()),
                    )
                    .body(body)
                    .send(),
            )
            .expect("post");
        assert_eq!(answer.status(), 202);
        loop {
            let status: Option<String> = reader
                .query_row(
                    "SELECT m.status FROM messages m JOIN events e ON e.seq = m.event_seq WHERE e.id = ?1",
                    [&id],
                    |row| row.get(0),
                )
                .ok();
            if status.as_deref() == Some("sent") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{id} not sent: {status:?}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        samples.push(started.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "puente alerts: hook POST -> WhatsApp request recorded (dry-run, fake WHMCS on localhost)"
    );
    println!(
        "{EVENTS} events one at a time: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p50 <= 50 ms)",
        ms(samples[EVENTS / 2]),
        ms(samples[EVENTS * 99 / 100]),
        ms(samples[EVENTS - 1])
    );
    actix_web::rt::System::new().block_on(handle.stop(true));
    service.join().expect("service thread");
}
