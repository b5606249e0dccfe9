//! `make crash-test`: the real binary under load, killed with SIGKILL at
//! random moments and restarted, against a fake WHMCS (the tests' stateful
//! one) and a fake Graph API that count every call. Events of every kind
//! the rules act on keep coming (alerts, WHMCS-recorded cancellations that
//! terminate services, paid upgrades that change them, transfers that
//! clients ask for and accept), so the outbox and the cancellation, upgrade
//! and transfer workers have work in flight when a kill lands. Then it proves, and prints:
//! - every event answered 2xx is stored;
//! - no alert was sent twice (every Graph request body is distinct);
//! - no state-changing WHMCS call ran twice for one record;
//! - after the last restart the workers drain everything.
//!
//! Exits non-zero on any loss or repeat. Not part of `make test`.

// Figures (rates, latencies) are floats; no money is computed here.
#![allow(clippy::disallowed_types)]

#[allow(dead_code)]
#[path = "../tests/api/support/fake_whmcs.rs"]
mod fake_whmcs;
#[path = "../tests/api/support/fixtures.rs"]
mod fixtures;

/// What the fake WHMCS reads from the tests' app support.
mod app {
    pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}
#[path = "support/load.rs"]
mod load;

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_whmcs::FakeWhmcs;
use load::{Graph, Puente, SENDERS, SERVICES, SlowWhmcs, Stored};
use wiremock::{Mock, MockServer};

/// Kills, each at a random moment of the load.
const KILLS: usize = 6;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run())
}

/// Rows still waiting for a worker (planned/sending messages, open
/// upgrades, cancellations and accepted transfers), read from the database.
fn unfinished(database: &str) -> (i64, i64, i64, i64) {
    let connection =
        rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("database");
    let count = |sql: &str| -> i64 {
        connection
            .query_row(sql, [], |row| row.get(0))
            .expect("count")
    };
    (
        count("SELECT count(*) FROM messages WHERE status IN ('planned', 'sending')"),
        count("SELECT count(*) FROM upgrade_applications WHERE status IN ('planned', 'applying')"),
        count(
            "SELECT count(*) FROM cancellations WHERE status IN ('requested', 'scheduled', 'terminating')",
        ),
        count("SELECT count(*) FROM transfers WHERE status IN ('accepted', 'approved', 'moving')"),
    )
}

async fn run() -> ExitCode {
    let fake = FakeWhmcs::default();
    load::whmcs_state(&fake);
    let whmcs = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(SlowWhmcs(fake.clone()))
        .mount(&whmcs)
        .await;
    let graph = Graph::default();
    let graph_server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(graph.clone())
        .mount(&graph_server)
        .await;

    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("crash.db").to_string_lossy().into_owned();
    let port = load::free_port();
    let env = load::service_env(
        port,
        vec![
            ("PUENTE_DATABASE".to_owned(), database.clone()),
            (
                "PUENTE_DATABASE_WAL_PREALLOCATE_MIB".to_owned(),
                "4".to_owned(),
            ),
        ],
        &whmcs.uri(),
        &graph_server.uri(),
    );
    let mut service = Puente {
        port,
        env,
        log: dir.path().join("service.log"),
        child: None,
    };

    let queue = Arc::new(Mutex::new(load::workload()));
    let total = queue.lock().expect("queue").len();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    println!(
        "puente crash test: {total} events ({SERVICES} clients and services), {SENDERS} senders, {KILLS} kills"
    );
    service.start();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            tokio::spawn(load::send_all(
                vec![port],
                queue.clone(),
                acknowledged.clone(),
            ))
        })
        .collect();
    let transfers_accepted = tokio::spawn(load::transfers(vec![port]));

    let started = Instant::now();
    let mut kills = Vec::new();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(250 + load::random_below(900))).await;
        let (messages, upgrades, cancellations, moves) = unfinished(&database);
        let acked = acknowledged.lock().expect("acks").len();
        service.kill();
        kills.push(format!(
            "{:>6.2} s: {acked} events acknowledged; waiting: {messages} alerts, {upgrades} upgrades, \
             {cancellations} cancellations, {moves} transfers",
            started.elapsed().as_secs_f64()
        ));
        tokio::time::sleep(Duration::from_millis(load::random_below(200))).await;
        service.start();
    }
    for sender in senders {
        sender.await.expect("sender");
    }
    let transfers_accepted = transfers_accepted.await.expect("transfers");
    // Let the workers finish what the kills interrupted.
    let drain_started = Instant::now();
    let drained = loop {
        let left = unfinished(&database);
        if left == (0, 0, 0, 0) {
            break true;
        }
        if drain_started.elapsed() > Duration::from_secs(120) {
            println!("not drained after 120 s: {left:?}");
            let connection = rusqlite::Connection::open(&database).expect("database");
            let mut statement = connection
                .prepare(
                    "SELECT kind, status, coalesce(reason, ''), count(*) FROM messages
                      WHERE status IN ('planned', 'sending') GROUP BY 1, 2, 3 LIMIT 20",
                )
                .expect("query");
            let waiting: Vec<(String, String, String, i64)> = statement
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("waiting");
            for row in waiting {
                println!("  waiting: {row:?}");
            }
            let log = std::fs::read_to_string(dir.path().join("service.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            for line in tail.iter().rev() {
                println!("  log: {line}");
            }
            break false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    service.kill();

    for kill in &kills {
        println!("kill -9 at {kill}");
    }
    let connection = rusqlite::Connection::open(&database).expect("database");
    let rows = |sql: &str| -> Vec<(String, i64)> {
        connection
            .prepare(sql)
            .expect("query")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let stored = Stored {
        ids: connection
            .prepare("SELECT id FROM events")
            .expect("query")
            .query_map([], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("ids"),
        statuses: rows("SELECT status, count(*) FROM messages GROUP BY status")
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        dead: connection
            .prepare(
                "SELECT kind, coalesce(min(reason), ''), count(*) FROM messages
                  WHERE status = 'dead' GROUP BY 1 ORDER BY 3 DESC",
            )
            .expect("query")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("dead letters"),
        dead_services: connection
            .prepare(
                "SELECT subject_id, coalesce(reason, '') FROM messages
                  WHERE status = 'dead' AND subject_kind = 'service'",
            )
            .expect("query")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("dead service alerts"),
        completed_transfers: connection
            .query_row(
                "SELECT count(*) FROM transfers WHERE status = 'completed'",
                [],
                |row| row.get(0),
            )
            .expect("transfers"),
    };
    // `PUENTE_CRASH_KEEP=<file>` keeps the database the kills left, as one
    // file (for `puente migrate-store` on a real crashed install).
    if let Ok(keep) = std::env::var("PUENTE_CRASH_KEEP") {
        connection
            .execute("VACUUM INTO ?1", [&keep])
            .expect("keep the database");
        println!("the database is kept in {keep}");
    }
    let acknowledged = acknowledged.lock().expect("acks").clone();
    if load::verdict(
        total,
        &acknowledged,
        &stored,
        &graph,
        &fake,
        transfers_accepted,
        drained,
    ) {
        println!(
            "PASS: 0 acknowledged events lost, 0 repeated sends, 0 repeated WHMCS changes, \
             0 dead letters caused by moves over {KILLS} kills"
        );
        ExitCode::SUCCESS
    } else {
        println!("FAIL");
        ExitCode::FAILURE
    }
}
