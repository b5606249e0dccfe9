//! A real service on port 0 with a fresh database (a SQLite file, or a
//! PostgreSQL database of its own: see `support::database`), and helpers to
//! talk to it the way the shim and an operator do.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use actix_web::dev::ServerHandle;
use puente::config::{Config, INSTANCE_SETTINGS, SETTINGS, Sources};
use puente::signature::{self, HookSecret};
use puente::startup::Application;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::database::{Backend, Column, SqlValue};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// Where it stores: the tests look at its tables through it.
    pub backend: Backend,
    /// The alert outbox; tests drive it with `drain()`, nothing else does.
    pub outbox: puente::workers::outbox::Outbox,
    /// The upgrade worker, driven the same way.
    pub upgrades: puente::workers::upgrades::UpgradeWorker,
    /// The cancellation worker, driven the same way (`drain_at` sets the day).
    pub cancellations: puente::workers::cancellations::CancellationWorker,
    /// The transfer worker, driven the same way.
    pub transfers: puente::workers::transfers::TransferWorker,
    /// The retention worker, driven with `purge_at`.
    pub retention: puente::workers::retention::RetentionWorker,
    pub templates: puente::workers::templates::TemplateWorker,
    /// The worker that acts on what clients write, driven with `drain()`.
    pub replies: puente::workers::replies::RepliesWorker,
    /// The reconciliation, driven with `pass_at`.
    pub reconcile: puente::workers::reconcile::ReconcileWorker,
    /// The service's metrics; tests take the dashboard's samples.
    pub metrics: std::sync::Arc<puente::metrics::Metrics>,
    /// The service's store, as another replica of it would see it.
    pub store: std::sync::Arc<dyn puente::store::Store>,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    dir: tempfile::TempDir,
    /// The settings it was started with, to start it again.
    env: Vec<(String, String)>,
}

/// The usual app: global secret [`SECRET`], admin API on.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)], "").await
}

/// An app configured by `vars` (over [`SECRET`] as the global secret, a
/// temporary database and port 0) and an optional TOML document.
pub async fn spawn_app_with(vars: &[(&str, &str)], toml: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let backend = Backend::for_app(dir.path()).await;
    spawn_on(dir, backend, vars, toml).await
}

/// The usual app on a SQLite file, whichever backend the run tests.
pub async fn spawn_sqlite_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let backend = Backend::Sqlite(dir.path().join("puente.db"));
    spawn_on(dir, backend, &[("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)], "").await
}

/// The usual app on `backend` (a database another app or a tool made).
pub async fn spawn_app_on(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_on(dir, backend, &[("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)], "").await
}

async fn spawn_on(
    dir: tempfile::TempDir,
    backend: Backend,
    vars: &[(&str, &str)],
    toml: &str,
) -> TestApp {
    let mut env: Vec<(String, String)> = vec![
        ("PUENTE_LISTEN".into(), "127.0.0.1:0".into()),
        ("PUENTE_HOOK_SECRETS".into(), SECRET.into()),
        // The preallocation path runs, without writing 48 MiB per test.
        ("PUENTE_DATABASE_WAL_PREALLOCATE_MIB".into(), "1".into()),
    ];
    env.extend(backend.settings());
    env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    if !toml.is_empty() {
        let path = dir.path().join("puente.toml");
        std::fs::write(&path, toml).expect("write TOML");
        env.push(("PUENTE_CONFIG".into(), path.to_string_lossy().into_owned()));
    }
    spawn_in(dir, backend, env).await
}

/// Starts the service in `dir` on `backend` with the settings `env`.
async fn spawn_in(dir: tempfile::TempDir, backend: Backend, env: Vec<(String, String)>) -> TestApp {
    let lookup = |var: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == var)
            .map(|(_, v)| v.clone())
    };
    let sources = Sources::load(lookup, SETTINGS, INSTANCE_SETTINGS).expect("config sources");
    let config = Config::from_sources(&sources).expect("valid test config");
    let application = Application::build(config)
        .expect("application builds")
        .without_workers();
    let port = application.port();
    let puente::startup::Workers {
        outbox,
        upgrades,
        cancellations,
        transfers,
        retention,
        templates,
        replies,
        reconcile,
    } = application.workers();
    let metrics = application.metrics();
    let store = application.store();
    let handle = application.handle();
    let server = tokio::spawn(application.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        backend,
        outbox,
        upgrades,
        cancellations,
        transfers,
        retention,
        templates,
        replies,
        reconcile,
        metrics,
        store,
        handle,
        server,
        dir,
        env,
    }
}

/// A well-formed envelope for `hook` from the default instance.
pub fn envelope(hook: &str) -> Value {
    envelope_for(hook, "default")
}

pub fn envelope_for(hook: &str, instance: &str) -> Value {
    json!({
        "type": hook,
        "timestamp": "2026-11-28T01:00:00Z",
        "data": { "invoiceid": 1001, "_puente": { "service_id": 7 } },
        "context": {
            "instance": instance,
            "actor": { "kind": "client", "id": 42, "user_id": 9 },
            "source": "clientarea",
            "whmcs_version": "8.13.1",
            "shim_version": "0.1.0"
        }
    })
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A request to `/v1/hooks`, built up header by header.
pub struct HookRequest {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl HookRequest {
    /// Signed with `secret` now, as the shim sends it.
    pub fn signed(secret: &str, id: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::signed_at(secret, id, now(), body)
    }

    pub fn signed_at(secret: &str, id: &str, timestamp: i64, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let secret: HookSecret = secret.parse().expect("valid secret");
        let signature = signature::sign(&secret, id, timestamp, &body);
        Self {
            body,
            content_type: Some("application/json".into()),
            headers: vec![
                ("webhook-id".into(), id.into()),
                ("webhook-timestamp".into(), timestamp.to_string()),
                ("webhook-signature".into(), signature),
            ],
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| n != name);
        self
    }

    pub fn content_type(mut self, value: Option<&str>) -> Self {
        self.content_type = value.map(str::to_owned);
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_hook(&self, request: HookRequest) -> Response {
        self.post_signed("/v1/hooks", request).await
    }

    /// POSTs a signed request to `path`.
    pub async fn post_signed(&self, path: &str, request: HookRequest) -> Response {
        let mut builder = self.client.post(self.url(path)).body(request.body);
        if let Some(content_type) = request.content_type {
            builder = builder.header("content-type", content_type);
        }
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        builder.send().await.expect("request sent")
    }

    /// Sends `body` signed with the app's global secret.
    pub async fn send_event(&self, id: &str, body: &Value) -> Response {
        self.post_hook(HookRequest::signed(SECRET, id, body.to_string()))
            .await
    }

    pub async fn admin_get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request sent")
    }

    /// A POST to an admin route, with the token.
    pub async fn admin_post(&self, path: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("request sent")
    }

    /// The first column of every row `sql` selects, as text.
    pub async fn column(&self, sql: &str) -> Vec<String> {
        self.backend.column(sql).await
    }

    /// The first three columns of every row `sql` selects.
    pub async fn triples<A: Column, B: Column, C: Column>(&self, sql: &str) -> Vec<(A, B, C)> {
        self.backend.triples(sql).await
    }

    /// The first column of the one row `sql` selects (a count, a status).
    pub async fn one<A: Column>(&self, sql: &str) -> A {
        self.backend.one(sql).await
    }

    /// Runs `sql` (`?1`… bound to `values`); how many rows it changed.
    pub async fn execute(&self, sql: &str, values: &[SqlValue]) -> u64 {
        self.backend.execute(sql, values).await
    }

    /// Runs several statements, without parameters.
    pub async fn batch(&self, sql: &str) {
        self.backend.batch(sql).await
    }

    /// Every stored event id, read through the admin API.
    pub async fn stored_ids(&self) -> Vec<String> {
        let page = json_of(
            self.admin_get("/v1/admin/events?limit=1000").await,
            StatusCode::OK,
        )
        .await;
        page["events"]
            .as_array()
            .expect("events array")
            .iter()
            .map(|event| event["id"].as_str().expect("id").to_owned())
            .collect()
    }

    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// Graceful stop; returns once the writer has committed and stopped.
    pub async fn stop(self) {
        drop(self.stop_keeping_files().await);
    }

    /// Stops the service and starts it again on the same data folder and
    /// settings (on another port).
    pub async fn restart(self) -> TestApp {
        let env = self.env.clone();
        let backend = self.backend.clone();
        let dir = self.stop_keeping_files().await;
        spawn_in(dir, backend, env).await
    }

    /// As [`TestApp::stop`], keeping the database until the guard drops.
    pub async fn stop_keeping_files(self) -> tempfile::TempDir {
        self.handle.stop(true).await;
        self.server
            .await
            .expect("server task")
            .expect("server stopped cleanly");
        self.dir
    }
}

/// Asserts the status and returns the JSON body.
/// Whether a worker's wake-up is already due: `wait` is polled once, never
/// waited on (a due wake-up is used up by it).
pub fn already_woken(wait: impl std::future::Future<Output = ()>) -> bool {
    let mut wait = std::pin::pin!(wait);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    wait.as_mut().poll(&mut context).is_ready()
}

pub async fn json_of(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts an API error of the documented shape.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> String {
    let body = json_of(response, status).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(!message.is_empty());
    message
}

/// The sum of a Prometheus counter's samples whose labels contain `labels`.
pub fn counter(metrics: &str, name: &str, labels: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(name) && line.contains(labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The real `puente` binary, serving on a free port with its own database.
pub struct RunningBinary {
    pub child: Child,
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub database: PathBuf,
    log: Option<std::thread::JoinHandle<String>>,
    _dir: tempfile::TempDir,
}

impl Drop for RunningBinary {
    /// A failed test must not leave the process behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningBinary {
    /// Starts `puente serve` with [`SECRET`], the admin token and `vars`,
    /// and returns once it logged its address.
    pub fn start(vars: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("puente.db");
        let mut child = Command::new(env!("CARGO_BIN_EXE_puente"))
            .arg("serve")
            .env_clear()
            .env("PUENTE_LISTEN", "127.0.0.1:0")
            .env("PUENTE_DATABASE", &database)
            .env("PUENTE_HOOK_SECRETS", SECRET)
            .env("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN)
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start puente");
        let mut log = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let address = loop {
            line.clear();
            assert!(
                log.read_line(&mut line).expect("read log") > 0,
                "puente exited before listening"
            );
            if line.contains("puente listening") {
                break line
                    .split_whitespace()
                    .find_map(|field| field.strip_prefix("address="))
                    .map(|text| format!("http://{text}"))
                    .expect("address in the log line");
            }
        };
        let log = std::thread::spawn(move || {
            let mut text = String::new();
            for line in log.lines() {
                text.push_str(&line.expect("log line"));
                text.push('\n');
            }
            text
        });
        Self {
            child,
            address,
            database,
            log: Some(log),
            _dir: dir,
        }
    }

    /// Sends SIGTERM, as a service manager stops it.
    pub fn terminate(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
    }

    /// Waits for the process to end; returns its exit status and whole log.
    pub fn wait(&mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().expect("wait for puente");
        let log = self.log.take().expect("log reader");
        (status, log.join().expect("log reader"))
    }
}

/// `puente quote` run with `request` on its standard input.
pub fn quote(request: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_puente"))
        .arg("quote")
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run puente quote");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), request.as_bytes())
        .expect("write");
    child.wait_with_output().expect("quote output")
}

/// A retry of record `id` at `{kind}`'s admin route is refused: 409
/// `not_retryable` for a record not in a state to retry, 404 for none.
pub async fn assert_retry_refused(app: &TestApp, kind: &str, id: &str) {
    let path = |id: &str| format!("/v1/admin/{kind}/{id}/retry");
    assert_error(
        app.admin_post(&path(id)).await,
        StatusCode::CONFLICT,
        "not_retryable",
    )
    .await;
    assert_error(
        app.admin_post(&path("999")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}
