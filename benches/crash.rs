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

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_whmcs::{Client, FakeWhmcs, Service};
use jiff::ToSpan as _;
use puente::domain::ids::EventId;
use puente::signature::{self, HookSecret};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ADMIN_TOKEN: &str = "crash-test-admin-token-0123";
/// Kills, each at a random moment of the load.
const KILLS: usize = 6;
/// Services (and their clients) the load is about.
const SERVICES: u64 = 400;
/// Pause of each sender between two events, so the load lasts across the
/// kills (WHMCS fires hooks as things happen, not all at once).
const SEND_GAP: Duration = Duration::from_millis(50);
/// Connections sending events at once.
const SENDERS: usize = 16;

/// Events still to send: (webhook-id, body).
type Queue = Arc<Mutex<VecDeque<(String, Vec<u8>)>>>;

/// A fake Graph API: every request body, each answered with its own wamid
/// after a short delay, so sends are in flight when a kill lands.
#[derive(Clone, Default)]
struct Graph(Arc<Mutex<Vec<String>>>);

impl Respond for Graph {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut bodies = self.0.lock().expect("graph");
        bodies.push(String::from_utf8_lossy(&request.body).into_owned());
        let wamid = format!("wamid.crash.{}", bodies.len());
        ResponseTemplate::new(200)
            .set_body_json(json!({"messaging_product": "whatsapp", "messages": [{"id": wamid}]}))
            .set_delay(Duration::from_millis(20))
    }
}

/// The fake WHMCS, answering a little late for the same reason.
struct SlowWhmcs(FakeWhmcs);

impl Respond for SlowWhmcs {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request).set_delay(Duration::from_millis(10))
    }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run())
}

fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    u64::from_le_bytes(bytes) % bound
}

/// The WHMCS the load is about: client `n` owns service `10_000 + n`.
fn whmcs_state(fake: &FakeWhmcs) {
    let mut state = fake.state();
    state.distinct_clients = true;
    let due = fake_whmcs::today().checked_add(200.days()).expect("a date");
    for n in 1..=SERVICES {
        let email: &'static str = Box::leak(format!("client{n}@crash.example").into_boxed_str());
        state.clients.insert(
            n,
            Client {
                email,
                status: "Active",
                owner_user: 50_000 + n,
            },
        );
        state.services.insert(
            10_000 + n,
            Service {
                client: n,
                status: "Active",
                cycle: "Annually",
                next_due: due,
                module: true,
            },
        );
        // The Immediate cancellations of the workload, as WHMCS holds them.
        if n % 3 == 0 {
            state
                .cancel_requests
                .insert(10_000 + n, "Immediate".to_owned());
        }
    }
}

/// Every event of the load, in order: for each client a welcome, a
/// suspension alert and a paid upgrade of its service; for every third one
/// an Immediate cancellation WHMCS recorded.
fn workload() -> VecDeque<(String, Vec<u8>)> {
    let mut events = VecDeque::new();
    let mut push = |hook: &str, data: Value| {
        let body = json!({
            "type": hook,
            "timestamp": jiff::Timestamp::now().to_string(),
            "data": data,
            "context": {"instance": "default", "actor": {"kind": "system"}, "source": "cron",
                        "whmcs_version": "8.13.1", "shim_version": "0.1.0"}
        });
        events.push_back((
            EventId::generate().as_str().to_owned(),
            body.to_string().into_bytes(),
        ));
    };
    for n in 1..=SERVICES {
        let service = 10_000 + n;
        push("ClientAdd", json!({"client_id": n}));
        push(
            "AfterModuleSuspend",
            json!({"params": {"serviceid": service, "userid": n}}),
        );
        push(
            "AfterProductUpgrade",
            json!({"upgradeid": 70_000 + n, "_puente": {"upgrade": {
                "id": 70_000 + n, "type": "package", "relid": service.to_string(),
                "userid": n.to_string(), "originalvalue": "12", "newvalue": "13,annually",
                "new_cycle": "", "status": "Pending",
                "service": {"id": service, "userid": n, "pid": 13},
                "currency": "USD", "new_price": "150.00"}}}),
        );
        if n % 3 == 0 {
            push(
                "CancellationRequest",
                json!({"userid": n, "relid": service, "reason": "crash test", "type": "Immediate"}),
            );
        }
    }
    events
}

/// The service as a child process on a fixed port and database.
struct Puente {
    port: u16,
    env: Vec<(String, String)>,
    log: std::path::PathBuf,
    child: Option<Child>,
}

impl Puente {
    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_puente"))
            .arg("serve")
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("puente starts");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "puente did not listen"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }
}

impl Drop for Puente {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends the queue's events until it is empty, putting back any that were
/// not answered 2xx (as the addon's spool does); returns the ids answered.
async fn send_all(port: u16, queue: Queue, acknowledged: Arc<Mutex<BTreeSet<String>>>) {
    let secret: HookSecret = app::SECRET.parse().expect("secret");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .expect("client");
    loop {
        let Some((id, body)) = queue.lock().expect("queue").pop_front() else {
            return;
        };
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = signature::sign(&secret, &id, timestamp, &body);
        let answer = client
            .post(format!("http://127.0.0.1:{port}/v1/hooks"))
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.clone())
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                acknowledged.lock().expect("acks").insert(id);
                tokio::time::sleep(SEND_GAP).await;
            }
            _ => {
                queue.lock().expect("queue").push_back((id, body));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// A signed client action to `route` (`/v1/client/...`), sent until it is
/// answered 2xx (the same `webhook-id` every time, as the addon's page
/// would); returns the answer.
async fn client_action(port: u16, route: &str, id: &str, client: u64, data: Value) -> Value {
    let secret: HookSecret = app::SECRET.parse().expect("secret");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let body = json!({
        "type": "client.transfers",
        "timestamp": jiff::Timestamp::now().to_string(),
        "data": data,
        "context": {"instance": "default",
                    "actor": {"kind": "client", "id": client, "user_id": 50_000 + client},
                    "source": "clientarea", "shim_version": "0.1.0"},
    })
    .to_string();
    loop {
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = signature::sign(&secret, id, timestamp, body.as_bytes());
        let answer = http
            .post(format!("http://127.0.0.1:{port}/v1/client/{route}"))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.clone())
            .send()
            .await;
        if let Ok(response) = answer {
            let status = response.status();
            if let Ok(answer) = response.json::<Value>().await {
                if status.is_success() {
                    return answer;
                }
                if status.is_client_error() {
                    panic!("{route} refused: {answer}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Owners of the services `n ≡ 1 (mod 5)` not being cancelled give them to
/// client `n + 1`, who accepts; returns how many were accepted.
async fn transfers(port: u16) -> usize {
    let mut accepted = 0;
    for n in (1..SERVICES).filter(|n| n % 5 == 1 && n % 3 != 0) {
        let data = json!({"service_id": 10_000 + n,
                          "recipient_email": format!("client{}@crash.example", n + 1),
                          "language": "english"});
        let asked = client_action(port, "transfers", &format!("cli_give_{n}"), n, data).await;
        let transfer = asked["transfer_id"].as_i64().expect("a transfer id");
        client_action(
            port,
            &format!("transfers/{transfer}/accept"),
            &format!("cli_take_{n}"),
            n + 1,
            json!({"language": "english"}),
        )
        .await;
        accepted += 1;
        tokio::time::sleep(SEND_GAP).await;
    }
    accepted
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
    whmcs_state(&fake);
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let env: Vec<(String, String)> = [
        ("PUENTE_LISTEN", format!("127.0.0.1:{port}")),
        ("PUENTE_DATABASE", database.clone()),
        ("PUENTE_DATABASE_WAL_PREALLOCATE_MIB", "4".to_owned()),
        ("PUENTE_HOOK_SECRETS", app::SECRET.to_owned()),
        ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("PUENTE_WHMCS_URL", whmcs.uri()),
        ("PUENTE_WHMCS_IDENTIFIER", "crash".to_owned()),
        ("PUENTE_WHMCS_SECRET", "crash-secret".to_owned()),
        ("PUENTE_PUBLIC_URL", "https://panel.example".to_owned()),
        ("PUENTE_WHATSAPP_MODE", "cloud".to_owned()),
        (
            "PUENTE_WHATSAPP_API_BASE",
            format!("{}/v23.0", graph_server.uri()),
        ),
        (
            "PUENTE_WHATSAPP_PHONE_NUMBER_ID",
            "106540352242922".to_owned(),
        ),
        ("PUENTE_WHATSAPP_TOKEN", "crash-graph-token".to_owned()),
        ("PUENTE_WHATSAPP_SEND_RATE", "80".to_owned()),
        ("PUENTE_OUTBOX_RETRY_DELAYS", "1s 2s 2s".to_owned()),
        ("PUENTE_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut service = Puente {
        port,
        env,
        log: dir.path().join("service.log"),
        child: None,
    };

    let queue = Arc::new(Mutex::new(workload()));
    let total = queue.lock().expect("queue").len();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    println!(
        "puente crash test: {total} events ({SERVICES} clients and services), {SENDERS} senders, {KILLS} kills"
    );
    service.start();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| tokio::spawn(send_all(port, queue.clone(), acknowledged.clone())))
        .collect();
    let transfers_accepted = tokio::spawn(transfers(port));

    let started = Instant::now();
    let mut kills = Vec::new();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(250 + random_below(900))).await;
        let (messages, upgrades, cancellations, moves) = unfinished(&database);
        let acked = acknowledged.lock().expect("acks").len();
        service.kill();
        kills.push(format!(
            "{:>6.2} s: {acked} events acknowledged; waiting: {messages} alerts, {upgrades} upgrades, \
             {cancellations} cancellations, {moves} transfers",
            started.elapsed().as_secs_f64()
        ));
        tokio::time::sleep(Duration::from_millis(random_below(200))).await;
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
    let stored: BTreeSet<String> = connection
        .prepare("SELECT id FROM events")
        .expect("query")
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("ids");
    let acknowledged = acknowledged.lock().expect("acks").clone();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    let statuses: BTreeMap<String, i64> = connection
        .prepare("SELECT status, count(*) FROM messages GROUP BY status")
        .expect("query")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("statuses");

    let dead: Vec<(String, String, i64)> = connection
        .prepare(
            "SELECT kind, coalesce(min(reason), ''), count(*) FROM messages
              WHERE status = 'dead' GROUP BY 1 ORDER BY 3 DESC",
        )
        .expect("query")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("dead letters");

    let bodies = graph.0.lock().expect("graph").clone();
    let mut sends: BTreeMap<&str, usize> = BTreeMap::new();
    for body in &bodies {
        *sends.entry(body.as_str()).or_default() += 1;
    }
    let repeated_sends = sends.values().filter(|count| **count > 1).count();

    // State-changing WHMCS calls, by action and record.
    let calls = fake.state().calls.clone();
    let mut changes: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (action, form) in &calls {
        let record = match action.as_str() {
            "ModuleTerminate" | "UpdateClientProduct" | "AddCancelRequest" => {
                form.get("serviceid").cloned()
            }
            "UpdateClientDomain" => form.get("domainid").cloned(),
            _ => None,
        };
        if let Some(record) = record {
            *changes.entry((action.clone(), record)).or_default() += 1;
        }
    }
    let mut per_action: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for ((action, _), count) in &changes {
        let entry = per_action.entry(action.as_str()).or_default();
        entry.0 += count;
        entry.1 += usize::from(*count > 1);
    }
    let repeated_changes: usize = per_action.values().map(|(_, repeated)| repeated).sum();
    let terminations = fake.state().terminations.len();
    let moves = fake.state().moves.clone();
    let move_asks = fake
        .state()
        .actions_asked
        .iter()
        .filter(|(_, body)| body["type"] == "MoveService")
        .count();
    let mut moved: BTreeMap<u64, usize> = BTreeMap::new();
    for (service, _, _) in &moves {
        *moved.entry(*service).or_default() += 1;
    }
    let repeated_moves = moved.values().filter(|count| **count > 1).count();
    // Alerts about a service that moved go to the client who owned it when
    // the event happened: none may die because the owner changed.
    let dead_services: Vec<(i64, String)> = connection
        .prepare(
            "SELECT subject_id, coalesce(reason, '') FROM messages
              WHERE status = 'dead' AND subject_kind = 'service'",
        )
        .expect("query")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("dead service alerts");
    let dead_by_moves = dead_services
        .iter()
        .filter(|(service, _)| u64::try_from(*service).is_ok_and(|id| moved.contains_key(&id)))
        .count();
    let completed: i64 = connection
        .query_row(
            "SELECT count(*) FROM transfers WHERE status = 'completed'",
            [],
            |row| row.get(0),
        )
        .expect("transfers");

    println!(
        "events: {total} sent, {} acknowledged, {} stored, {} acknowledged but lost",
        acknowledged.len(),
        stored.len(),
        lost.len()
    );
    println!("alerts by status: {statuses:?}");
    for (kind, reason, count) in &dead {
        println!("  dead: {count} {kind} (e.g. {reason})");
    }
    println!(
        "Graph API: {} requests, {} distinct, {repeated_sends} sent more than once",
        bodies.len(),
        sends.len()
    );
    for (action, (count, repeated)) in &per_action {
        println!("WHMCS {action}: {count} calls, {repeated} records changed more than once");
    }
    println!("services terminated: {terminations}");
    println!(
        "transfers: {transfers_accepted} accepted, {completed} completed; MoveService asked {move_asks} times, \
         {} services moved, {repeated_moves} moved more than once",
        moved.len()
    );
    println!("dead letters caused by moves: {dead_by_moves}");
    println!(
        "workers {}",
        if drained {
            "drained everything after the last restart"
        } else {
            "did NOT drain"
        }
    );
    let all_moved = usize::try_from(completed).ok() == Some(transfers_accepted)
        && moved.len() == transfers_accepted;
    if lost.is_empty()
        && repeated_sends == 0
        && repeated_changes == 0
        && repeated_moves == 0
        && dead_by_moves == 0
        && all_moved
        && drained
    {
        println!(
            "PASS: 0 acknowledged events lost, 0 repeated sends, 0 repeated WHMCS changes, \
             0 dead letters caused by moves over {KILLS} kills"
        );
        ExitCode::SUCCESS
    } else {
        println!("FAIL: lost {:?}", lost.iter().take(5).collect::<Vec<_>>());
        ExitCode::FAILURE
    }
}
