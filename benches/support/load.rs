//! The load `make crash-test` and `make failover-test` put on the real
//! binary: a stateful fake WHMCS and a fake Graph API that count every
//! call, events of every kind the rules act on, client actions (transfers
//! asked for and accepted), the service as a child process killed and
//! started again, and what proves that nothing was lost or done twice.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::ToSpan as _;
use puente::domain::ids::EventId;
use puente::signature::{self, HookSecret};
use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use super::app;
use super::fake_whmcs::{self, Client, FakeWhmcs, Service};

pub const ADMIN_TOKEN: &str = "crash-test-admin-token-0123";
/// Services (and their clients) the load is about.
pub const SERVICES: u64 = 400;
/// Pause of each sender between two events, so the load lasts across the
/// kills (WHMCS fires hooks as things happen, not all at once).
pub const SEND_GAP: Duration = Duration::from_millis(50);
/// Connections sending events at once.
pub const SENDERS: usize = 16;

/// Events still to send: (webhook-id, body).
pub type Queue = Arc<Mutex<VecDeque<(String, Vec<u8>)>>>;

/// A fake Graph API: every request body, each answered with its own wamid
/// after a short delay, so sends are in flight when a kill lands.
#[derive(Clone, Default)]
pub struct Graph(pub Arc<Mutex<Vec<String>>>);

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
pub struct SlowWhmcs(pub FakeWhmcs);

impl Respond for SlowWhmcs {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request).set_delay(Duration::from_millis(10))
    }
}

pub fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness");
    u64::from_le_bytes(bytes) % bound
}

/// The WHMCS the load is about: client `n` owns service `10_000 + n`.
pub fn whmcs_state(fake: &FakeWhmcs) {
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
pub fn workload() -> VecDeque<(String, Vec<u8>)> {
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
pub struct Puente {
    pub port: u16,
    pub env: Vec<(String, String)>,
    pub log: std::path::PathBuf,
    pub child: Option<Child>,
}

impl Puente {
    pub fn start(&mut self) {
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

    pub fn kill(&mut self) {
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

/// Sends the queue's events to `ports` until it is empty, putting back any
/// that were not answered 2xx (as the addon's spool does), and notes the ids
/// answered.
pub async fn send_all(ports: Vec<u16>, queue: Queue, acknowledged: Arc<Mutex<BTreeSet<String>>>) {
    let secret: HookSecret = app::SECRET.parse().expect("secret");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .expect("client");
    // Each sender starts at another replica and moves to the next after a
    // failure, as the addon does with several service URLs.
    let mut at = usize::try_from(random_below(ports.len() as u64)).unwrap_or(0);
    loop {
        let Some((id, body)) = queue.lock().expect("queue").pop_front() else {
            return;
        };
        let port = ports[at % ports.len()];
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
                at += 1;
                queue.lock().expect("queue").push_back((id, body));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// A signed client action to `route` (`/v1/client/...`), sent until it is
/// answered 2xx by one of `ports` (the same `webhook-id` every time, as the
/// addon's page would); returns the answer.
async fn client_action(ports: &[u16], route: &str, id: &str, client: u64, data: Value) -> Value {
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
    let mut at = 0;
    loop {
        let port = ports[at % ports.len()];
        at += 1;
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
pub async fn transfers(ports: Vec<u16>) -> usize {
    let mut accepted = 0;
    for n in (1..SERVICES).filter(|n| n % 5 == 1 && n % 3 != 0) {
        let data = json!({"service_id": 10_000 + n,
                          "recipient_email": format!("client{}@crash.example", n + 1),
                          "language": "english"});
        let asked = client_action(&ports, "transfers", &format!("cli_give_{n}"), n, data).await;
        let transfer = asked["transfer_id"].as_i64().expect("a transfer id");
        client_action(
            &ports,
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

/// The settings of a replica listening on `port`, storing where `store`
/// says, calling the fake WHMCS at `whmcs` and the fake Graph API at
/// `graph`.
pub fn service_env(
    port: u16,
    store: Vec<(String, String)>,
    whmcs: &str,
    graph: &str,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PUENTE_LISTEN", format!("127.0.0.1:{port}")),
        ("PUENTE_HOOK_SECRETS", app::SECRET.to_owned()),
        ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("PUENTE_WHMCS_URL", whmcs.to_owned()),
        ("PUENTE_WHMCS_IDENTIFIER", "crash".to_owned()),
        ("PUENTE_WHMCS_SECRET", "crash-secret".to_owned()),
        ("PUENTE_PUBLIC_URL", "https://panel.example".to_owned()),
        ("PUENTE_WHATSAPP_MODE", "cloud".to_owned()),
        ("PUENTE_WHATSAPP_API_BASE", format!("{graph}/v23.0")),
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
    env.extend(store);
    env
}

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// What the store holds at the end of a run, read from its backend.
pub struct Stored {
    pub ids: BTreeSet<String>,
    pub statuses: BTreeMap<String, i64>,
    /// Dead letters: (kind, a reason, how many).
    pub dead: Vec<(String, String, i64)>,
    /// Dead alerts about a service: (service, reason).
    pub dead_services: Vec<(i64, String)>,
    pub completed_transfers: i64,
}

/// Checks the run and prints its figures: every acknowledged event stored,
/// no Graph body sent twice, no WHMCS record changed twice, no service
/// moved twice, every accepted transfer completed, no dead letter caused by
/// a move, and the workers drained. True when all hold.
pub fn verdict(
    total: usize,
    acknowledged: &BTreeSet<String>,
    stored: &Stored,
    graph: &Graph,
    fake: &FakeWhmcs,
    transfers_accepted: usize,
    drained: bool,
) -> bool {
    let lost: Vec<&String> = acknowledged.difference(&stored.ids).collect();
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
    let dead_by_moves = stored
        .dead_services
        .iter()
        .filter(|(service, _)| u64::try_from(*service).is_ok_and(|id| moved.contains_key(&id)))
        .count();

    println!(
        "events: {total} sent, {} acknowledged, {} stored, {} acknowledged but lost",
        acknowledged.len(),
        stored.ids.len(),
        lost.len()
    );
    println!("alerts by status: {:?}", stored.statuses);
    for (kind, reason, count) in &stored.dead {
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
        "transfers: {transfers_accepted} accepted, {} completed; MoveService asked {move_asks} times, \
         {} services moved, {repeated_moves} moved more than once",
        stored.completed_transfers,
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
    let all_moved = usize::try_from(stored.completed_transfers).ok() == Some(transfers_accepted)
        && moved.len() == transfers_accepted;
    let passed = lost.is_empty()
        && repeated_sends == 0
        && repeated_changes == 0
        && repeated_moves == 0
        && dead_by_moves == 0
        && all_moved
        && drained;
    if !passed {
        println!("lost: {:?}", lost.iter().take(5).collect::<Vec<_>>());
    }
    passed
}
