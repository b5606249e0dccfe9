//! `make failover-test`: PostgreSQL and two replicas of the real binary
//! under the crash test's load (events of every kind sent to both, the
//! addon's way: the next replica after a failure), a replica killed with
//! SIGKILL at random moments and started again, and PostgreSQL itself
//! restarted once. Then it proves, and prints:
//! - every event answered 2xx is stored, once (the webhook-id is unique);
//! - no alert was sent twice (every Graph request body is distinct);
//! - no state-changing WHMCS call ran twice for one record;
//! - the work a killed replica held was taken up again within 45 s;
//! - at most one replica said it led at every sample, and a new leader
//!   came within 20 s of the old one's death;
//! - after the last restart the replicas drain everything.
//!
//! Exits non-zero on any loss, repeat or late take-over. Run through
//! `scripts/with-postgres.sh --durable` (the Makefile does), which starts
//! the server and says how to restart it. Not part of `make test`.

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
use serde_json::Value;
use wiremock::{Mock, MockServer};

/// Replicas killed, each at a random moment of the load.
const KILLS: usize = 6;
/// The kill after which PostgreSQL is restarted too.
const RESTART_AFTER_KILL: usize = 2;
/// How often each replica's `/readyz` is sampled.
const SAMPLE: Duration = Duration::from_millis(200);
/// The longest a killed replica's work may wait for another.
const RESUMED_WITHIN: Duration = Duration::from_secs(45);
/// The longest the replicas may go without a leader after its death.
const LEADER_WITHIN: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run())
}

/// What the replicas said at one sample: (replica id, leads) of each that
/// answered.
type Sample = (Instant, Vec<(String, bool)>);

/// Samples every replica's `/readyz` until aborted.
async fn watch(ports: Vec<u16>, samples: Arc<Mutex<Vec<Sample>>>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    loop {
        let mut seen = Vec::new();
        for port in &ports {
            let answer = http
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await;
            if let Ok(response) = answer
                && let Ok(body) = response.json::<Value>().await
                && let (Some(id), Some(leads)) =
                    (body["replica"].as_str(), body["leader"].as_bool())
            {
                seen.push((id.to_owned(), leads));
            }
        }
        samples
            .lock()
            .expect("samples")
            .push((Instant::now(), seen));
        tokio::time::sleep(SAMPLE).await;
    }
}

/// The replica id a port answers with now.
async fn replica_of(port: u16) -> Option<(String, bool)> {
    let body: Value = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some((
        body["replica"].as_str()?.to_owned(),
        body["leader"].as_bool()?,
    ))
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// Rows in flight that `replica` holds.
async fn held_by(url: &str, replica: &str) -> Option<i64> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM messages
                      WHERE lease_owner = $1 AND status IN ('planned', 'sending'))
                  + (SELECT count(*) FROM upgrade_applications
                      WHERE lease_owner = $1 AND status IN ('planned', 'applying'))
                  + (SELECT count(*) FROM cancellations
                      WHERE lease_owner = $1 AND status IN ('requested', 'scheduled', 'terminating'))
                  + (SELECT count(*) FROM transfers
                      WHERE lease_owner = $1 AND status IN ('accepted', 'approved', 'moving'))",
            &[&replica],
        )
        .await
        .ok()?;
    Some(row.get(0))
}

/// Rows still waiting for a worker, as the crash test counts them.
async fn unfinished(url: &str) -> Option<(i64, i64, i64, i64)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM messages WHERE status IN ('planned', 'sending')),
                    (SELECT count(*) FROM upgrade_applications WHERE status IN ('planned', 'applying')),
                    (SELECT count(*) FROM cancellations
                      WHERE status IN ('requested', 'scheduled', 'terminating')),
                    (SELECT count(*) FROM transfers WHERE status IN ('accepted', 'approved', 'moving'))",
            &[],
        )
        .await
        .ok()?;
    Some((row.get(0), row.get(1), row.get(2), row.get(3)))
}

/// How long until `replica`'s rows in flight are no longer its own.
async fn resumed(url: String, replica: String, killed: Instant) -> Duration {
    loop {
        if held_by(&url, &replica).await == Some(0) {
            return killed.elapsed();
        }
        if killed.elapsed() > Duration::from_secs(120) {
            return killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn run() -> ExitCode {
    let Ok(url) = std::env::var("PUENTE_TEST_DATABASE_URL") else {
        eprintln!("failover: run through `make failover-test` (it starts PostgreSQL)");
        return ExitCode::from(2);
    };
    let restart = std::env::var("PUENTE_TEST_POSTGRES_RESTART").ok();
    // A database of its own on the server.
    let database = format!(
        "failover_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    connect(&url)
        .await
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .expect("a database");
    let url = url.replacen("/postgres?", &format!("/{database}?"), 1);

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
    let ports = [load::free_port(), load::free_port()];
    let mut replicas: Vec<Puente> = ports
        .iter()
        .enumerate()
        .map(|(at, port)| Puente {
            port: *port,
            env: load::service_env(
                *port,
                vec![("PUENTE_DATABASE_URL".to_owned(), url.clone())],
                &whmcs.uri(),
                &graph_server.uri(),
            ),
            log: dir.path().join(format!("replica-{at}.log")),
            child: None,
        })
        .collect();

    let queue = Arc::new(Mutex::new(load::workload()));
    let total = queue.lock().expect("queue").len();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    println!(
        "puente failover test: 2 replicas on PostgreSQL, {total} events ({SERVICES} clients and \
         services), {SENDERS} senders, {KILLS} kills, PostgreSQL restarted once"
    );
    for replica in &mut replicas {
        replica.start();
    }
    let samples = Arc::new(Mutex::new(Vec::new()));
    let watcher = tokio::spawn(watch(ports.to_vec(), Arc::clone(&samples)));
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            tokio::spawn(load::send_all(
                ports.to_vec(),
                queue.clone(),
                acknowledged.clone(),
            ))
        })
        .collect();
    let transfers_accepted = tokio::spawn(load::transfers(ports.to_vec()));

    let started = Instant::now();
    let mut kills = Vec::new();
    let mut resumes = Vec::new();
    // (when the leader was killed, its id)
    let mut leader_deaths: Vec<(Instant, String)> = Vec::new();
    for kill in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(500 + load::random_below(1000))).await;
        let victim = usize::try_from(load::random_below(2)).unwrap_or(0);
        let known = replica_of(ports[victim]).await;
        let held = match &known {
            Some((id, _)) => held_by(&url, id).await.unwrap_or(-1),
            None => -1,
        };
        let acked = acknowledged.lock().expect("acks").len();
        replicas[victim].kill();
        let killed = Instant::now();
        if let Some((id, leads)) = known {
            if leads {
                leader_deaths.push((killed, id.clone()));
            }
            resumes.push(tokio::spawn(resumed(url.clone(), id, killed)));
        }
        kills.push(format!(
            "{:>6.2} s: replica {victim} ({}), holding {held} rows in flight; {acked} events acknowledged",
            started.elapsed().as_secs_f64(),
            if leader_deaths.last().is_some_and(|(at, _)| *at == killed) {
                "the leader"
            } else {
                "not the leader"
            },
        ));
        if kill == RESTART_AFTER_KILL
            && let Some(restart) = &restart
        {
            let restarted = std::process::Command::new(restart)
                .status()
                .expect("restart PostgreSQL");
            kills.push(format!(
                "{:>6.2} s: PostgreSQL restarted ({restarted})",
                started.elapsed().as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_millis(load::random_below(500))).await;
        replicas[victim].start();
    }
    for sender in senders {
        sender.await.expect("sender");
    }
    let transfers_accepted = transfers_accepted.await.expect("transfers");
    let drain_started = Instant::now();
    let drained = loop {
        let left = unfinished(&url).await;
        if left == Some((0, 0, 0, 0)) {
            break true;
        }
        if drain_started.elapsed() > Duration::from_secs(180) {
            println!("not drained after 180 s: {left:?}");
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let mut resumed_after = Vec::new();
    for resume in resumes {
        resumed_after.push(resume.await.expect("resume watch"));
    }
    watcher.abort();
    for replica in &mut replicas {
        replica.kill();
    }

    // At most one leader at every sample; a new one soon after each death.
    let samples = samples.lock().expect("samples").clone();
    let two_leaders = samples
        .iter()
        .filter(|(_, seen)| seen.iter().filter(|(_, leads)| *leads).count() > 1)
        .count();
    let mut leaderless = Vec::new();
    for (died, id) in &leader_deaths {
        let next = samples
            .iter()
            .filter(|(at, _)| at > died)
            .find(|(_, seen)| seen.iter().any(|(other, leads)| *leads && other != id))
            .map(|(at, _)| at.duration_since(*died));
        leaderless.push(next.unwrap_or(Duration::MAX));
    }

    for kill in &kills {
        println!("kill -9 at {kill}");
    }
    let client = connect(&url).await;
    let rows = |rows: Vec<tokio_postgres::Row>| rows;
    let stored = Stored {
        ids: rows(
            client
                .query("SELECT id FROM events", &[])
                .await
                .expect("ids"),
        )
        .iter()
        .map(|row| row.get(0))
        .collect(),
        statuses: rows(
            client
                .query("SELECT status, count(*) FROM messages GROUP BY status", &[])
                .await
                .expect("statuses"),
        )
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect::<BTreeMap<_, _>>(),
        dead: rows(
            client
                .query(
                    "SELECT kind, coalesce(min(reason), ''), count(*) FROM messages
                      WHERE status = 'dead' GROUP BY 1 ORDER BY 3 DESC",
                    &[],
                )
                .await
                .expect("dead letters"),
        )
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect(),
        dead_services: rows(
            client
                .query(
                    "SELECT subject_id, coalesce(reason, '') FROM messages
                      WHERE status = 'dead' AND subject_kind = 'service'",
                    &[],
                )
                .await
                .expect("dead service alerts"),
        )
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect(),
        completed_transfers: client
            .query_one(
                "SELECT count(*) FROM transfers WHERE status = 'completed'",
                &[],
            )
            .await
            .expect("transfers")
            .get(0),
    };
    let event_rows: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .expect("events")
        .get(0);
    let rescues: Vec<(String, i64)> = client
        .query(
            "SELECT 'uncertain messages', count(*) FROM messages WHERE status = 'uncertain'",
            &[],
        )
        .await
        .expect("uncertain")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let acknowledged = acknowledged.lock().expect("acks").clone();
    let stored_once = usize::try_from(event_rows).ok() == Some(stored.ids.len());
    let passed = load::verdict(
        total,
        &acknowledged,
        &stored,
        &graph,
        &fake,
        transfers_accepted,
        drained,
    );
    let slowest_resume = resumed_after.iter().max().copied().unwrap_or_default();
    let slowest_leader = leaderless.iter().max().copied().unwrap_or_default();
    println!(
        "events stored once each: {} ({event_rows} rows, {} ids)",
        if stored_once { "yes" } else { "NO" },
        stored.ids.len()
    );
    println!("rescued: {rescues:?}");
    println!(
        "work of a killed replica taken up again after: {} (slowest {:.1} s, limit {} s)",
        resumed_after
            .iter()
            .map(|after| format!("{:.1} s", after.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", "),
        slowest_resume.as_secs_f64(),
        RESUMED_WITHIN.as_secs()
    );
    println!(
        "leader samples: {} taken, {two_leaders} with two leaders; {} leaders killed, a new one after {} \
         (limit {} s)",
        samples.len(),
        leader_deaths.len(),
        leaderless
            .iter()
            .map(|after| if *after == Duration::MAX {
                "never".to_owned()
            } else {
                format!("{:.1} s", after.as_secs_f64())
            })
            .collect::<Vec<_>>()
            .join(", "),
        LEADER_WITHIN.as_secs()
    );
    if passed
        && stored_once
        && two_leaders == 0
        && slowest_resume <= RESUMED_WITHIN
        && slowest_leader <= LEADER_WITHIN
    {
        println!(
            "PASS: 0 acknowledged events lost or stored twice, 0 repeated sends, 0 repeated WHMCS \
             changes over {KILLS} kills of a replica and a PostgreSQL restart"
        );
        ExitCode::SUCCESS
    } else {
        println!("FAIL");
        let log = std::fs::read_to_string(dir.path().join("replica-0.log")).unwrap_or_default();
        for line in log.lines().rev().take(10) {
            println!("  replica 0 log: {line}");
        }
        ExitCode::FAILURE
    }
}
