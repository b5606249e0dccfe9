//! `make bench`: drives `/v1/hooks` with unique signed events at 1, 8 and 64
//! connections, beside a baseline route that only checks the HMAC, in the
//! same run; then a realistic mix (every forwarded hook of `fixtures/whmcs`,
//! each event about new records, so its alerts and rule rows are written
//! too), the same mix while a retention pass deletes what the run stored,
//! and the idle memory of the real binary.
//!
//! Run through `scripts/with-postgres.sh --durable` (as `make bench` does),
//! it adds PostgreSQL rows: ingest at 64 connections on one replica and on
//! two sharing the database, and how long new work written through one
//! replica takes to be taken by the other's worker.
//!
//! Prints figures; asserts nothing. The same-run ratio is the figure that
//! gates (durable ≥ 0.5× baseline at 64 connections). CPU time per event is
//! split by thread family (HTTP workers, writer, load generator), read from
//! /proc, because on two cores CPU is what throughput is made of.

// Figures (rates, latencies) are floats; no money is computed here.
#![allow(clippy::disallowed_types)]

#[path = "../tests/api/support/fixtures.rs"]
mod fixtures;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_web::web;
use puente::config::{Config, INSTANCE_SETTINGS, SETTINGS, Sources};
use puente::domain::ids::EventId;
use puente::signature::{self, HookSecret};
use puente::startup::Application;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BASELINE: &str = "/bench/verify-only";
const DURABLE: &str = "/v1/hooks";

/// An `InvoicePaid` envelope as the shim sends it (333 bytes).
const EVENT_BODY: &str = r#"{"type":"InvoicePaid","timestamp":"2026-11-28T01:00:00Z","data":{"invoiceid":30517,"invoice":{"id":30517,"userid":1842,"total":"24.95","status":"Paid","paymentmethod":"stripe"},"_puente":{"client_ids":[1842]}},"context":{"instance":"default","actor":{"kind":"system"},"source":"cron","whmcs_version":"8.13.1","shim_version":"0.1.0"}}"#;

/// Requests made so far: numbers each mix event's records.
static REQUESTS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Connections and requests per round.
const RUNS: &[(usize, usize)] = &[(1, 3_000), (8, 30_000), (64, 60_000)];
/// Rounds per route and connection count.
const ROUNDS: usize = 3;

/// What each request carries.
#[derive(Clone, Copy)]
enum Load<'a> {
    /// The same `InvoicePaid` every time (its alert exists after the first).
    Single,
    /// The forwarded hooks in turn, each about new records.
    Mix(&'a [Template]),
}

/// A hook's data as WHMCS passes it, from `fixtures/whmcs/<Hook>.json`.
struct Template {
    hook: String,
    data: serde_json::Value,
}

struct Figures {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU microseconds per event: HTTP workers, writer, load generator.
    cpu_us: [f64; 3],
}

fn main() {
    // For work on the PostgreSQL backend: its rows only.
    if std::env::var("BENCH_POSTGRES_ONLY").is_ok()
        && let Ok(server) = std::env::var("PUENTE_TEST_DATABASE_URL")
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let secret: HookSecret = SECRET.parse().expect("secret");
        runtime.block_on(postgres_rows(&server, &secret));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, retention, stop) = start_service(dir.path().join("bench.db"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let secret: HookSecret = SECRET.parse().expect("secret");

    println!(
        "puente ingest benchmark (server: 2 HTTP workers + 1 writer; client on the same machine)"
    );
    println!("warming up...");
    runtime.block_on(drive(port, DURABLE, &secret, Load::Single, 4, 2_000));
    runtime.block_on(drive(port, BASELINE, &secret, Load::Single, 4, 2_000));

    println!(
        "{:<28} {:>5} {:>10} {:>9} {:>9}   CPU µs/event: http writer client",
        "route", "conns", "events/s", "p50 ms", "p99 ms"
    );
    let mut ratio_at_64 = None;
    // For profiling: `BENCH_CONNECTIONS=64` runs one connection count only,
    // `BENCH_DIVISOR=30` sends a thirtieth of the requests (under valgrind).
    let only: Option<usize> = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|text| text.parse().ok());
    let divisor: usize = std::env::var("BENCH_DIVISOR")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1)
        .max(1);
    for &(connections, requests) in RUNS {
        if only.is_some_and(|only| only != connections) {
            continue;
        }
        let requests = requests / divisor;
        // Alternate the two routes so both see the same machine; report the
        // median round of each.
        let mut baseline = Vec::new();
        let mut durable = Vec::new();
        for _ in 0..ROUNDS {
            let single = Load::Single;
            baseline.push(runtime.block_on(drive(
                port,
                BASELINE,
                &secret,
                single,
                connections,
                requests,
            )));
            durable.push(runtime.block_on(drive(
                port,
                DURABLE,
                &secret,
                single,
                connections,
                requests,
            )));
        }
        let ratios: Vec<String> = baseline
            .iter()
            .zip(&durable)
            .map(|(b, d)| format!("{:.2}", d.per_second / b.per_second))
            .collect();
        let (baseline, durable) = (median(baseline), median(durable));
        print_row("HMAC-verify-only baseline", connections, &baseline);
        print_row("durable /v1/hooks", connections, &durable);
        let ratio = durable.per_second / baseline.per_second;
        println!(
            "{:<28} {:>5} {:>10.2}   (rounds: {})",
            "  ratio durable/baseline",
            connections,
            ratio,
            ratios.join(" ")
        );
        if connections == 64 {
            ratio_at_64 = Some(ratio);
        }
    }
    let templates = templates();
    println!(
        "realistic mix: {} forwarded hooks in turn, each event about a new client, invoice, service or domain",
        templates.len()
    );
    let mix = Load::Mix(&templates);
    let (mut baseline, mut durable) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        baseline.push(runtime.block_on(drive(port, BASELINE, &secret, mix, 64, 60_000 / divisor)));
        durable.push(runtime.block_on(drive(port, DURABLE, &secret, mix, 64, 60_000 / divisor)));
    }
    let ratios: Vec<String> = baseline
        .iter()
        .zip(&durable)
        .map(|(b, d)| format!("{:.2}", d.per_second / b.per_second))
        .collect();
    let (baseline, durable) = (median(baseline), median(durable));
    print_row("baseline, mix", 64, &baseline);
    print_row("durable /v1/hooks, mix", 64, &durable);
    let mix_ratio = durable.per_second / baseline.per_second;
    println!(
        "{:<28} {:>5} {:>10.2}   (rounds: {})",
        "  ratio durable/baseline",
        64,
        mix_ratio,
        ratios.join(" ")
    );

    // Retention deletes everything stored so far while the mix keeps coming.
    let stored = runtime.block_on(commit_metrics(port)).events;
    let purge = runtime.spawn({
        let retention = retention.clone();
        async move {
            let started = Instant::now();
            let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 3660);
            let purged = retention.purge_at(later).await.expect("retention pass");
            (purged, started.elapsed())
        }
    });
    let during = runtime.block_on(drive(port, DURABLE, &secret, mix, 64, 60_000 / divisor));
    let (purged, took) = runtime.block_on(purge).expect("retention task");
    print_row("durable, mix, retention on", 64, &during);
    println!(
        "retention pass: {} of ~{stored:.0} stored events deleted ({} messages, {} kept) in {:.1} s, {:.0} events/s",
        purged.events,
        purged.messages,
        purged.kept,
        took.as_secs_f64(),
        purged.events as f64 / took.as_secs_f64()
    );

    let commits = runtime.block_on(commit_metrics(port));
    if commits.count > 0.0 {
        println!(
            "group commit: {:.0} events in {:.0} commits, {:.1} events per commit, {:.3} ms per commit",
            commits.events,
            commits.count,
            commits.events / commits.count,
            1e3 * commits.seconds / commits.count
        );
    }
    stop();

    if let Some(ratio) = ratio_at_64 {
        println!("durable/baseline at 64 connections: {ratio:.2} (target >= 0.50)");
    }
    println!(
        "realistic mix at 64 connections: {mix_ratio:.2} of the baseline, p99 {:.2} ms (targets >= 0.50, <= 10 ms); \
         with retention running: {:.2}, p99 {:.2} ms",
        durable.p99_ms,
        during.per_second / baseline.per_second,
        during.p99_ms
    );
    if let Ok(server) = std::env::var("PUENTE_TEST_DATABASE_URL") {
        runtime.block_on(postgres_rows(&server, &secret));
    }
    match idle_rss_kib() {
        Ok(kib) => println!(
            "idle RSS of `puente serve`: {:.1} MiB (target <= 30 MiB)",
            kib as f64 / 1024.0
        ),
        Err(error) => println!("idle RSS not measured: {error}"),
    }
}

/// The round with the median throughput.
fn median(mut rounds: Vec<Figures>) -> Figures {
    rounds.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    rounds.swap_remove(rounds.len() / 2)
}

fn print_row(route: &str, connections: usize, figures: &Figures) {
    let [http, writer, client] = figures.cpu_us;
    println!(
        "{:<28} {:>5} {:>10.0} {:>9.3} {:>9.3}   {http:>5.1} {writer:>6.1} {client:>6.1}",
        route, connections, figures.per_second, figures.p50_ms, figures.p99_ms
    );
}

/// Runs the service in-process, with the baseline route mounted beside the
/// real ones, on its own actix system thread.
fn start_service(
    database: std::path::PathBuf,
) -> (
    u16,
    puente::workers::retention::RetentionWorker,
    impl FnOnce(),
) {
    let database = database.to_string_lossy().into_owned();
    start_on(("PUENTE_DATABASE", database), true)
}

/// Runs the service in-process on the store `store` names (`PUENTE_DATABASE`
/// or `PUENTE_DATABASE_URL`), its workers running or not.
fn start_on(
    store: (&'static str, String),
    workers: bool,
) -> (
    u16,
    puente::workers::retention::RetentionWorker,
    impl FnOnce(),
) {
    let env = move |var: &str| match var {
        "PUENTE_LISTEN" => Some("127.0.0.1:0".to_owned()),
        name if name == store.0 => Some(store.1.clone()),
        "PUENTE_HOOK_SECRETS" => Some(SECRET.to_owned()),
        // The mix's events lack some of the addon's facts, which rules note
        // as warnings; a warning per event would measure the logger.
        "PUENTE_LOG" => Some("error".to_owned()),
        // No WHMCS here: the outbox writes one outcome per alert (a retry a
        // week later), as a real one writes one per send, instead of
        // retrying every few seconds what it cannot prepare.
        "PUENTE_OUTBOX_RETRY_DELAYS" => Some("7d".to_owned()),
        _ => None,
    };
    let sources = Sources::load(env, SETTINGS, INSTANCE_SETTINGS).expect("sources");
    let config = Config::from_sources(&sources).expect("config");
    let (started, ready) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let application = Application::build_with(config, |routes| {
                routes.route(BASELINE, web::post().to(puente::http::hooks::verify_only));
            })
            .expect("service builds");
            let application = if workers {
                application
            } else {
                application.without_workers()
            };
            started
                .send((
                    application.port(),
                    application.workers().retention,
                    application.handle(),
                ))
                .expect("report port");
            application.run_until_stopped().await.expect("service runs");
        });
    });
    let (port, retention, handle) = ready.recv().expect("service started");
    let stop = move || {
        actix_web::rt::System::new().block_on(handle.stop(true));
        thread.join().expect("service thread");
    };
    (port, retention, stop)
}

/// Every forwarded hook's data, from the fixtures the tests use.
fn templates() -> Vec<Template> {
    let mut templates: Vec<Template> = fixtures::hook_fixture_names()
        .into_iter()
        .map(|name| {
            let fixture = fixtures::fixture(&name);
            Template {
                hook: fixture["hook"].as_str().expect("hook").to_owned(),
                data: fixture["vars"].clone(),
            }
        })
        .collect();
    templates.sort_by(|a, b| a.hook.cmp(&b.hook));
    templates
}

/// Record ids the mix makes new for every event.
const RECORD_IDS: &[&str] = &[
    "id",
    "invoiceid",
    "userid",
    "user_id",
    "client_id",
    "clientid",
    "serviceid",
    "relid",
    "domainid",
    "quoteid",
    "orderid",
];

/// Adds `offset` to every record id in `value`, so the event is about new
/// records.
fn renumber(value: &mut serde_json::Value, offset: u64) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match field {
                    serde_json::Value::Number(number) if RECORD_IDS.contains(&key.as_str()) => {
                        if let Some(id) = number.as_u64() {
                            *field = serde_json::Value::from(id + offset);
                        }
                    }
                    _ => renumber(field, offset),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                renumber(item, offset);
            }
        }
        _ => {}
    }
}

/// The body of the `n`th request of a load.
fn body(load: Load<'_>, n: u64) -> String {
    match load {
        Load::Single => EVENT_BODY.to_owned(),
        Load::Mix(templates) => {
            let template = &templates[(n % templates.len() as u64) as usize];
            let mut data = template.data.clone();
            renumber(&mut data, 1_000_000 + n);
            serde_json::json!({
                "type": template.hook,
                "timestamp": "2026-11-28T01:00:00Z",
                "data": data,
                "context": {"instance": "default", "actor": {"kind": "system"}, "source": "cron",
                            "whmcs_version": "8.13.1", "shim_version": "0.1.0"}
            })
            .to_string()
        }
    }
}

/// A request written out in full, ready to send on a kept-alive connection.
fn signed_request(
    secret: &HookSecret,
    path: &str,
    id: &str,
    timestamp: i64,
    body: &str,
) -> Vec<u8> {
    let signature = signature::sign(secret, id, timestamp, body.as_bytes());
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nwebhook-id: {id}\r\nwebhook-timestamp: {timestamp}\r\n\
         webhook-signature: {signature}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends `requests` unique events over `connections` kept-alive connections
/// and measures each request from write to full response.
async fn drive(
    port: u16,
    path: &str,
    secret: &HookSecret,
    load: Load<'_>,
    connections: usize,
    requests: usize,
) -> Figures {
    drive_all(&[port], path, secret, load, connections, requests).await
}

/// As [`drive`], the connections spread over `ports` in turn (replicas).
async fn drive_all(
    ports: &[u16],
    path: &str,
    secret: &HookSecret,
    load: Load<'_>,
    connections: usize,
    requests: usize,
) -> Figures {
    let timestamp = jiff::Timestamp::now().as_second();
    let per_connection = requests / connections;
    // Ids as the shim makes them (`evt_` + ULID, taken when the hook
    // fires): made in the order they will be sent, round-robin over the
    // connections, so they arrive in time order and the unique index grows
    // at its right edge as in production. (Made a connection at a time,
    // they would arrive from 64 points across the index.)
    let mut batches: Vec<Vec<Vec<u8>>> = (0..connections)
        .map(|_| Vec::with_capacity(per_connection))
        .collect();
    let mut n = REQUESTS_SENT.fetch_add(requests as u64, std::sync::atomic::Ordering::Relaxed);
    for _ in 0..per_connection {
        for batch in &mut batches {
            let id = EventId::generate();
            let body = body(load, n);
            n += 1;
            batch.push(signed_request(secret, path, id.as_str(), timestamp, &body));
        }
    }
    let cpu_before = thread_cpu_ticks();
    let started = Instant::now();
    let tasks: Vec<_> = batches
        .into_iter()
        .enumerate()
        .map(|(at, batch)| tokio::spawn(connection(ports[at % ports.len()], batch)))
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    for task in tasks {
        latencies.extend(task.await.expect("connection task"));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let cpu_after = thread_cpu_ticks();
    let cpu_us = std::array::from_fn(|family| {
        (cpu_after[family] - cpu_before[family]) as f64 * 1e6
            / TICKS_PER_SECOND
            / latencies.len() as f64
    });
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: at(0.50).as_secs_f64() * 1e3,
        p99_ms: at(0.99).as_secs_f64() * 1e3,
        cpu_us,
    }
}

async fn connection(port: u16, requests: Vec<Vec<u8>>) -> Vec<Duration> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buffer = Vec::with_capacity(4096);
    let mut latencies = Vec::with_capacity(requests.len());
    for request in requests {
        let sent = Instant::now();
        stream.write_all(&request).await.expect("write");
        let status = read_response(&mut stream, &mut buffer).await;
        latencies.push(sent.elapsed());
        assert_eq!(status, 202, "the service refused a benchmark event");
    }
    latencies
}

/// Reads one response (headers and a Content-Length body); returns its status.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> u16 {
    buffer.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).expect("ascii head");
            let status: u16 = head[9..12].parse().expect("status code");
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                let read = stream.read(&mut chunk).await.expect("read");
                assert!(read > 0, "connection closed mid-response");
                buffer.extend_from_slice(&chunk[..read]);
            }
            return status;
        }
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "connection closed before a response");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

struct CommitMetrics {
    count: f64,
    events: f64,
    seconds: f64,
}

/// The group-commit histograms, read back from `/metrics`.
async fn commit_metrics(port: u16) -> CommitMetrics {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let value = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    CommitMetrics {
        count: value("puente_commit_batch_size_count "),
        events: value("puente_commit_batch_size_sum "),
        seconds: value("puente_commit_seconds_sum "),
    }
}

/// Starts the real binary, sends it a few events, lets it settle, and reads
/// its resident memory.
fn idle_rss_kib() -> Result<u64, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_puente"))
        .arg("serve")
        .env_clear()
        .env("PUENTE_LISTEN", "127.0.0.1:0")
        .env("PUENTE_DATABASE", dir.path().join("idle.db"))
        .env("PUENTE_HOOK_SECRETS", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut log = BufReader::new(child.stderr.take().ok_or("no stderr")?);
    let mut line = String::new();
    let port: u16 = loop {
        line.clear();
        if log.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("puente exited before listening".into());
        }
        if let Some(address) = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("address="))
        {
            break address
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or("bad address")?;
        }
    };
    let secret: HookSecret = SECRET.parse().map_err(|_| "secret")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(drive(port, DURABLE, &secret, Load::Single, 2, 200));
    std::thread::sleep(Duration::from_secs(1));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .map_err(|e| e.to_string())?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmRSS line")?;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    Ok(kib)
}

/// Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU ticks (user + system) used so far by this process's threads, summed
/// by family: HTTP workers, the writer, and everything else (the load
/// generator).
fn thread_cpu_ticks() -> [u64; 3] {
    let mut ticks = [0u64; 3];
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return ticks;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name; utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let used: u64 = fields
            .get(11..13)
            .map(|times| times.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
            .unwrap_or(0);
        let family = if name.starts_with("actix-rt") {
            0
        } else if name.starts_with("puente-writer") || name.starts_with("puente-postgres") {
            1
        } else {
            2
        };
        ticks[family] += used;
    }
    ticks
}

/// A new database on the PostgreSQL server of `server` (a superuser's URL).
async fn new_database(server: &str) -> String {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let name = format!(
        "bench_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a database");
    server.replacen("/postgres?", &format!("/{name}?"), 1)
}

/// The PostgreSQL rows: one replica, two replicas, and new work written
/// through one replica taken by the other's worker.
async fn postgres_rows(server: &str, secret: &HookSecret) {
    println!("PostgreSQL (the same machine, durable settings):");
    let one = new_database(server).await;
    let (port, _, stop) = start_on(("PUENTE_DATABASE_URL", one), true);
    drive(port, DURABLE, secret, Load::Single, 16, 2_000).await;
    let single: Vec<Figures> = {
        let mut rounds = Vec::new();
        for _ in 0..ROUNDS {
            rounds.push(drive(port, DURABLE, secret, Load::Single, 64, 20_000).await);
        }
        rounds
    };
    let single = median(single);
    print_row("PostgreSQL, 1 replica", 64, &single);
    let mix = templates();
    let mixed = drive(port, DURABLE, secret, Load::Mix(&mix), 64, 20_000).await;
    print_row("PostgreSQL, 1 replica, mix", 64, &mixed);
    tokio::task::spawn_blocking(stop).await.expect("stop");

    let two = new_database(server).await;
    let (first, _, stop_first) = start_on(("PUENTE_DATABASE_URL", two.clone()), true);
    let (second, _, stop_second) = start_on(("PUENTE_DATABASE_URL", two), true);
    drive_all(&[first, second], DURABLE, secret, Load::Single, 16, 2_000).await;
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        rounds.push(drive_all(&[first, second], DURABLE, secret, Load::Single, 64, 20_000).await);
    }
    let pair = median(rounds);
    print_row("PostgreSQL, 2 replicas", 64, &pair);
    tokio::task::spawn_blocking(stop_first).await.expect("stop");
    tokio::task::spawn_blocking(stop_second)
        .await
        .expect("stop");

    let handover = claimed_by_the_other(server, secret).await;
    println!(
        "PostgreSQL at 64 connections: 1 replica {:.0}/s p99 {:.1} ms; 2 replicas {:.0}/s p99 {:.1} ms \
         (targets >= 2000/s, <= 25 ms)",
        single.per_second, single.p99_ms, pair.per_second, pair.p99_ms
    );
    println!(
        "new work written through one replica, taken by the other's worker: p50 {:.1} ms, p95 {:.1} ms \
         over {} alerts (target p95 <= 50 ms)",
        handover.0, handover.1, handover.2
    );
}

/// Welcome alerts written through a replica without workers; the time until
/// the other replica's outbox took each (woken by `NOTIFY`): (p50, p95 in
/// ms, samples).
async fn claimed_by_the_other(server: &str, secret: &HookSecret) -> (f64, f64, usize) {
    const SAMPLES: usize = 100;
    let url = new_database(server).await;
    let (writer, _, stop_writer) = start_on(("PUENTE_DATABASE_URL", url.clone()), false);
    let (_, _, stop_worker) = start_on(("PUENTE_DATABASE_URL", url.clone()), true);
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let http = reqwest::Client::new();
    let taken = client
        .prepare(
            "SELECT count(*) FROM messages m JOIN events e ON e.seq = m.event_seq
              WHERE e.id = $1 AND (m.lease_owner IS NOT NULL OR m.next_attempt_at_ms IS NOT NULL
                                   OR m.status <> 'planned')",
        )
        .await
        .expect("statement");
    let mut waits = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES {
        let id = EventId::generate();
        let body = serde_json::json!({
            "type": "ClientAdd",
            "timestamp": "2026-11-28T01:00:00Z",
            "data": {"client_id": 900_000 + n},
            "context": {"instance": "default", "actor": {"kind": "system"}, "source": "cron",
                        "whmcs_version": "8.13.1", "shim_version": "0.1.0"}
        })
        .to_string();
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = signature::sign(secret, id.as_str(), timestamp, body.as_bytes());
        let answer = http
            .post(format!("http://127.0.0.1:{writer}{DURABLE}"))
            .header("content-type", "application/json")
            .header("webhook-id", id.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status().as_u16(), 202);
        let stored = Instant::now();
        loop {
            let count: i64 = client
                .query_one(&taken, &[&id.as_str()])
                .await
                .expect("poll")
                .get(0);
            if count > 0 {
                waits.push(stored.elapsed());
                break;
            }
            if stored.elapsed() > Duration::from_secs(70) {
                waits.push(stored.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    }
    tokio::task::spawn_blocking(stop_writer)
        .await
        .expect("stop");
    tokio::task::spawn_blocking(stop_worker)
        .await
        .expect("stop");
    waits.sort_unstable();
    let at = |q: f64| waits[((waits.len() as f64 * q) as usize).min(waits.len() - 1)];
    (
        at(0.50).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        waits.len(),
    )
}
