//! A stop while events arrive loses no acknowledged event, in process
//! (graceful stop) and in the real binary (SIGTERM).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use tokio::sync::Notify;

use crate::support::*;

const SENDERS: usize = 8;
const ACKS_BEFORE_STOP: usize = 50;

/// Sends events from several connections until the service goes away.
/// Returns the ids it acknowledged; `ready` is notified after
/// [`ACKS_BEFORE_STOP`] acknowledgements, while senders keep going.
async fn send_until_refused(address: String, ready: Arc<Notify>) -> Vec<String> {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (address, acked, ready) = (address.clone(), Arc::clone(&acked), Arc::clone(&ready));
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let body = envelope("InvoicePaid").to_string();
            for n in 0.. {
                let id = format!("evt_s{sender}_{n}");
                let request = HookRequest::signed(SECRET, &id, body.clone());
                let mut builder = client
                    .post(format!("{address}/v1/hooks"))
                    .body(request.body);
                builder = builder.header("content-type", "application/json");
                for (name, value) in request.headers {
                    builder = builder.header(name, value);
                }
                match builder.send().await {
                    Ok(response) if response.status() == StatusCode::ACCEPTED => {
                        let mut acked = acked.lock().expect("lock");
                        acked.push(id);
                        if acked.len() == ACKS_BEFORE_STOP {
                            ready.notify_one();
                        }
                    }
                    Ok(response) => {
                        panic!("unexpected answer {} while stopping", response.status())
                    }
                    Err(_) => break,
                }
            }
        }));
    }
    for sender in senders {
        sender.await.expect("sender task");
    }
    Arc::try_unwrap(acked)
        .expect("senders done")
        .into_inner()
        .expect("lock")
}

fn stored_ids(database: &std::path::Path) -> HashSet<String> {
    let connection = rusqlite::Connection::open(database).expect("open");
    let mut statement = connection
        .prepare("SELECT id FROM events")
        .expect("prepare");
    statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn assert_all_stored(acked: &[String], stored: &HashSet<String>) {
    assert!(
        acked.len() >= ACKS_BEFORE_STOP,
        "only {} acknowledged",
        acked.len()
    );
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
}

#[tokio::test]
async fn a_graceful_stop_under_load_loses_no_acknowledged_event() {
    let app = spawn_app().await;
    let ready = Arc::new(Notify::new());
    let load = tokio::spawn(send_until_refused(app.address.clone(), Arc::clone(&ready)));
    ready.notified().await;
    let backend = app.backend.clone();
    let dir_guard = app.stop_keeping_files().await;
    let acked = load.await.expect("load task");
    let stored: HashSet<String> = backend
        .column::<String>("SELECT id FROM events")
        .await
        .into_iter()
        .collect();
    assert_all_stored(&acked, &stored);
    drop(dir_guard);
}

#[tokio::test]
async fn sigterm_to_the_binary_under_load_loses_no_acknowledged_event() {
    let mut service = RunningBinary::start(&[]);
    let database = service.database.clone();

    let ready = Arc::new(Notify::new());
    let load = tokio::spawn(send_until_refused(
        service.address.clone(),
        Arc::clone(&ready),
    ));
    ready.notified().await;
    service.terminate();
    let acked = load.await.expect("load task");
    let (status, log) = service.wait();
    assert!(status.success(), "puente exited with {status}; log:\n{log}");
    assert!(
        log.contains("signal=\"SIGTERM\"") || log.contains("signal=SIGTERM"),
        "{log}"
    );
    assert!(
        log.contains("every acknowledged event is committed"),
        "{log}"
    );
    assert_all_stored(&acked, &stored_ids(&database));
}
