//! The real WHMCS addon under php-cli against the real `puente` binary,
//! over a WHMCS 8.4 database (SQLite with the tables and columns of a real
//! 8.4 install, fixtures/whmcs-8.4/): fixture hooks go through hooks.php,
//! get scrubbed, enriched from the database, signed and stored; events
//! spooled while the service was unreachable arrive after the cron; and the
//! upgrade check reads the Upgrades tab where WHMCS 8.4 keeps it. The PHP
//! side audits every query against the 8.4 schema (exit code 3 otherwise).

use std::path::{Path, PathBuf};
use std::process::Command;

use puente::domain::texts::{Language, Text};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

/// A WHMCS 8.4 database with the demo install's rows
/// (fixtures/whmcs-8.4/demo-data.sql) and the addon activated. Service
/// 7731's period is moved to end half a year from today, so the upgrade
/// check runs on a current one.
fn whmcs_database(dir: &Path) -> PathBuf {
    let path = dir.join("whmcs.sqlite");
    let connection = rusqlite::Connection::open(&path).expect("WHMCS database");
    connection
        .execute_batch(include_str!("../../fixtures/whmcs-8.4/schema.sql"))
        .expect("the 8.4 schema");
    connection
        .execute_batch(include_str!("../../fixtures/whmcs-8.4/demo-data.sql"))
        .expect("the demo install");
    connection
        .execute(
            "UPDATE tblhosting SET nextduedate = date('now', '+6 months') WHERE id = 7731",
            [],
        )
        .expect("a current period");
    drop(connection);
    let activated = fire("", &path, &["activate"]);
    assert!(activated.contains(r#""status":"success""#), "{activated}");
    path
}

/// Runs `php php-shim/tests/e2e/fire.php <args>` with the shim's settings
/// over the WHMCS database; returns what it printed.
fn fire(service_url: &str, whmcs: &Path, args: &[&str]) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("php")
        .arg(format!("{root}/php-shim/tests/e2e/fire.php"))
        .args(args)
        .env("PUENTE_URL", service_url)
        .env("PUENTE_SECRET", SECRET)
        .env("PUENTE_TEST_WHMCS_DB", whmcs)
        .env_remove("PUENTE_SPOOL_DIR")
        .env_remove("PUENTE_INSTANCE")
        .output()
        .expect("php runs (make test installs php-cli)");
    assert!(
        output.status.success(),
        "php failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Every fixture hook the addon forwards, in the order the script fires them.
fn fixture_hooks() -> Vec<String> {
    hook_fixture_names()
}

async fn admin(client: &reqwest::Client, service: &RunningBinary, path: &str) -> Value {
    let response = client
        .get(format!("{}{path}", service.address))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin request");
    json_of(response, StatusCode::OK).await
}

async fn stored_types(client: &reqwest::Client, service: &RunningBinary) -> Vec<String> {
    admin(client, service, "/v1/admin/events?limit=1000").await["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["type"].as_str().expect("type").to_owned())
        .collect()
}

#[tokio::test]
async fn every_fixture_hook_fired_in_php_is_stored_once_scrubbed_and_attributed() {
    let service = RunningBinary::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let whmcs = whmcs_database(dir.path());
    let client = reqwest::Client::new();

    fire(&service.address, &whmcs, &["hooks"]);

    let hooks = fixture_hooks();
    assert_eq!(hooks.len(), 21);
    assert_eq!(stored_types(&client, &service).await, hooks);
    let page = admin(&client, &service, "/v1/admin/events?limit=1000").await;
    for event in page["events"].as_array().expect("events") {
        // Forwarded for the record; no rule reads OrderPaid, ServiceEdit,
        // ServiceDelete or UserLogin yet (named here, not asked of the code
        // under test).
        let unread = ["OrderPaid", "ServiceEdit", "ServiceDelete", "UserLogin"];
        let hook = event["type"].as_str().expect("type");
        let status = if unread.contains(&hook) {
            "unhandled"
        } else {
            "received"
        };
        assert_eq!(event["status"], status, "{event}");
        let id = event["id"].as_str().expect("id");
        let stored = admin(&client, &service, &format!("/v1/admin/events/{id}")).await;
        let payload = &stored["payload"];
        assert_eq!(payload["context"]["instance"], "default");
        assert_eq!(payload["context"]["source"], "cron");
        assert_eq!(payload["context"]["actor"]["kind"], "system");
        assert_eq!(payload["context"]["shim_version"], "0.1.0");
        let text = payload.to_string();
        for secret in [
            "password",
            "redacted-by-bridge",
            "serveraccesshash",
            "authdata",
        ] {
            assert!(!text.contains(secret), "{secret} forwarded in {text}");
        }
    }
    let suspended = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["type"] == "AfterModuleSuspend")
        .expect("suspend event");
    let stored = admin(
        &client,
        &service,
        &format!("/v1/admin/events/{}", suspended["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(stored["payload"]["data"]["params"]["serviceid"], 7731);
    assert_eq!(stored["payload"]["data"]["params"]["userid"], 1842);

    // The upgrade hooks carried their tblupgrades rows from the database:
    // the package upgrade is planned, the configurable-options one only
    // recorded, and both are in the admin API.
    let upgrades = admin(&client, &service, "/v1/admin/upgrades").await["upgrades"].clone();
    let recorded: Vec<(i64, &str, &str)> = upgrades
        .as_array()
        .expect("upgrades")
        .iter()
        .map(|row| {
            (
                row["upgrade_id"].as_i64().expect("id"),
                row["upgrade_type"].as_str().expect("type"),
                row["status"].as_str().expect("status"),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            (235, "configoptions", "recorded"),
            (233, "package", "planned")
        ]
    );
}

#[tokio::test]
async fn events_spooled_while_the_service_was_unreachable_arrive_once_in_order_after_the_cron() {
    let service = RunningBinary::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let whmcs = whmcs_database(dir.path());
    let client = reqwest::Client::new();
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let waiting = || -> i64 {
        rusqlite::Connection::open(&whmcs)
            .expect("WHMCS database")
            .query_row("SELECT COUNT(*) FROM mod_puente_spool", [], |row| {
                row.get(0)
            })
            .expect("the spool table")
    };

    fire(
        &unreachable,
        &whmcs,
        &["hooks", "ClientAdd", "InvoicePaid", "AfterModuleSuspend"],
    );
    assert!(stored_types(&client, &service).await.is_empty());
    assert_eq!(waiting(), 3, "spooled in WHMCS's database");

    fire(&service.address, &whmcs, &["cron"]);
    fire(&service.address, &whmcs, &["cron"]);

    assert_eq!(
        stored_types(&client, &service).await,
        ["ClientAdd", "InvoicePaid", "AfterModuleSuspend"]
    );
    assert_eq!(waiting(), 0, "the drained spool is empty");
}

#[tokio::test]
async fn the_upgrade_check_over_the_8_4_tables_allows_a_listed_bigger_plan_only() {
    let service = RunningBinary::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let whmcs = whmcs_database(dir.path());
    // Service 7731 is on Business Hosting (12, 100.00 a year); its Upgrades
    // tab (tblproduct_upgrade_products) lists Pro (13, 150.00) and Starter
    // (11, 50.00); Enterprise (14, 300.00) is not listed. Its client reads
    // English.
    let check = |pid: u64| -> Value {
        let vars = format!(r#"{{"id":7731,"pid":{pid}}}"#);
        let printed = fire(
            &service.address,
            &whmcs,
            &["call", "ShoppingCartValidateUpgrade", &vars],
        );
        serde_json::from_str(printed.trim()).expect("the hook's answer as JSON")
    };

    assert_eq!(check(13), serde_json::json!([]), "a listed bigger plan");
    assert_eq!(
        check(11),
        serde_json::json!([Text::UpgradeDowngrade.get(Language::English)]),
        "a listed cheaper plan"
    );
    assert_eq!(
        check(14),
        serde_json::json!([Text::UpgradeTargetNotAllowed.get(Language::English)]),
        "a bigger plan the Upgrades tab does not list"
    );
}

/// WHMCS's web side under PHP's built-in server (php-shim/tests/e2e/
/// whmcs-web.php): the addon runs as in a web request.
struct WhmcsWeb {
    child: std::process::Child,
    url: String,
    api_log: PathBuf,
    audit_log: PathBuf,
}

impl Drop for WhmcsWeb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WhmcsWeb {
    /// The service, with WHMCS's API at this site, and the site over the
    /// `whmcs` database with the addon sending to that service.
    async fn with_service(whmcs: &Path) -> (TestApp, Self) {
        let port = Self::reserve_port();
        let whmcs_url = format!("http://127.0.0.1:{port}");
        let app = spawn_app_with(
            &[
                ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
                ("PUENTE_WHMCS_URL", whmcs_url.as_str()),
                ("PUENTE_WHMCS_IDENTIFIER", "puente"),
                ("PUENTE_WHMCS_SECRET", "api-secret-123"),
            ],
            "",
        )
        .await;
        let web = Self::start(port, whmcs, &app.address);
        (app, web)
    }

    /// A free port for it, known before the service it talks to starts.
    fn reserve_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port()
    }

    /// Serves on `port`, over the WHMCS database, with the addon sending to
    /// `service_url`; returns once PHP says it listens. The addon is
    /// installed into a WHMCS root of its own (with an `init.php`), as an
    /// administrator installs it.
    fn start(port: u16, whmcs: &Path, service_url: &str) -> Self {
        use std::io::BufRead as _;
        let root = env!("CARGO_MANIFEST_DIR");
        let dir = whmcs.parent().expect("a folder");
        let (api_log, audit_log) = (dir.join("api.log"), dir.join("audit.log"));
        let whmcs_root = dir.join("whmcs-root");
        install_addon(
            &Path::new(root).join("php-shim/modules/addons/puente"),
            &whmcs_root.join("modules/addons/puente"),
        );
        std::fs::write(whmcs_root.join("init.php"), "<?php\n").expect("init.php");
        let mut child = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}")])
            .arg(format!("{root}/php-shim/tests/e2e/whmcs-web.php"))
            .env("PUENTE_URL", service_url)
            .env("PUENTE_SECRET", SECRET)
            .env("PUENTE_TEST_WHMCS_DB", whmcs)
            .env("PUENTE_TEST_API_LOG", &api_log)
            .env("PUENTE_TEST_AUDIT_LOG", &audit_log)
            .env("PUENTE_TEST_WHMCS_ROOT", &whmcs_root)
            // A page waiting on the service while the service calls back
            // into WHMCS (action.php, the API) needs more than one worker.
            .env("PHP_CLI_SERVER_WORKERS", "4")
            .env_remove("PUENTE_SPOOL_DIR")
            .env_remove("PUENTE_INSTANCE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("php -S runs (make test installs php-cli)");
        let mut log = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        while !line.contains("started") {
            line.clear();
            assert!(log.read_line(&mut line).expect("read") > 0, "php -S exited");
        }
        // Keep reading, so PHP never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            api_log,
            audit_log,
        }
    }

    /// The WHMCS API actions asked so far.
    fn api_calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.api_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Queries that named a table or column WHMCS 8.4 lacks.
    fn audit(&self) -> String {
        std::fs::read_to_string(&self.audit_log).unwrap_or_default()
    }
}

/// Copies the addon's folder, as an administrator uploads it.
fn install_addon(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("addon folder");
    for entry in std::fs::read_dir(from).expect("addon files") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            install_addon(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// `PreModuleTerminate` as WHMCS's cron fires it (php-cli), with what the
/// addon answers.
async fn cron_pre_terminate(service_url: String, whmcs: PathBuf) -> String {
    tokio::task::spawn_blocking(move || {
        fire(
            &service_url,
            &whmcs,
            &[
                "call",
                "PreModuleTerminate",
                r#"{"params": {"serviceid": 7731, "userid": 1842}}"#,
            ],
        )
    })
    .await
    .expect("php")
    .trim()
    .to_owned()
}

#[tokio::test]
async fn a_direct_post_of_whmcs_own_cancel_form_ends_with_no_termination() {
    use crate::support::fake_whmcs::{noon, today};
    use jiff::ToSpan as _;

    let dir = tempfile::tempdir().expect("temp dir");
    let whmcs = whmcs_database(dir.path());
    let (app, web) = WhmcsWeb::with_service(&whmcs).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // The client posts WHMCS's own form, skipping puente's page (no email,
    // no password): WHMCS takes the request, then the addon sends the
    // client to puente's page to confirm it.
    let posted = browser
        .post(format!("{}/clientarea.php?action=cancel&id=7731", web.url))
        .header("x-test-client", "1842")
        .form(&[
            ("sub", "submit"),
            ("type", "Immediate"),
            ("cancellationreason", "Moving elsewhere"),
        ])
        .send()
        .await
        .expect("the form");
    assert_eq!(posted.status(), StatusCode::FOUND);
    assert_eq!(
        posted.headers()["location"],
        "index.php?m=puente&action=cancel&id=7731"
    );
    let recorded: (String, String, i64) = app
        .triples("SELECT status, origin, client_id FROM cancellations")
        .await
        .pop()
        .expect("the request is recorded");
    assert_eq!(
        recorded,
        ("unconfirmed".into(), "whmcs_client_form".into(), 1842)
    );

    // Days pass: puente asks WHMCS for nothing but whether it holds the
    // request, and terminates nothing; WHMCS's own cron is held.
    for day in 0..3 {
        let at = noon(today().checked_add(day.days()).expect("date"));
        let report = app.cancellations.drain_at(at).await.expect("drain");
        assert_eq!((report.terminated, report.withdrawn), (0, 0), "{report:?}");
    }
    assert_eq!(web.api_calls(), Vec::<String>::new(), "no WHMCS API call");
    assert_eq!(
        cron_pre_terminate(app.address.clone(), whmcs.clone()).await,
        r#"{"abortcmd":true}"#
    );

    // Staff delete the request in WHMCS: the cron goes on, and the record
    // says withdrawn.
    rusqlite::Connection::open(&whmcs)
        .expect("WHMCS database")
        .execute("DELETE FROM tblcancelrequests WHERE relid = 7731", [])
        .expect("deleted");
    assert_eq!(
        cron_pre_terminate(app.address.clone(), whmcs.clone()).await,
        "[]"
    );
    let later = noon(today().checked_add(4.days()).expect("date"));
    let report = app.cancellations.drain_at(later).await.expect("drain");
    assert_eq!(report.withdrawn, 1, "{report:?}");
    assert_eq!(web.api_calls(), Vec::<String>::new(), "still none");
    assert_eq!(web.audit(), "", "every query names WHMCS 8.4's tables");
    app.stop().await;
}

#[tokio::test]
async fn the_diagnostics_tab_of_a_healthy_install_passes_every_check_and_the_service_keeps_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whmcs = whmcs_database(dir.path());
    let (app, web) = WhmcsWeb::with_service(&whmcs).await;
    // A hook arrived and the cron ran, as on a working install.
    let (address, database) = (app.address.clone(), whmcs.clone());
    tokio::task::spawn_blocking(move || {
        fire(&address, &database, &["hooks", "ClientAdd"]);
        fire(&address, &database, &["cron"]);
    })
    .await
    .expect("php");

    let page = reqwest::Client::new()
        .post(format!(
            "{}/admin/addonmodules.php?module=puente&tab=diagnostics",
            web.url
        ))
        .form(&[
            ("token", "e2e-form-token"),
            ("puente_action", "diagnose"),
            ("probe", "& < > \" '"),
        ])
        .send()
        .await
        .expect("the admin page")
        .text()
        .await
        .expect("HTML");

    let rows = page.matches("data-check=").count();
    assert!(rows >= 35, "{rows} rows: {page}");
    assert_eq!(
        page.matches("<tr class=\"success\" data-check=").count(),
        rows,
        "every row passes: {page}"
    );
    for check in [
        "whmcs_tables",
        "action_php",
        "api_permissions",
        "timezone",
        "hooks_seen",
        "posted_values",
        "cron",
    ] {
        assert!(page.contains(&format!("data-check=\"{check}\"")), "{check}");
    }
    assert!(page.contains("The service kept this report"), "{page}");
    assert!(
        page.contains("puente diagnostics, instance default"),
        "the report to copy"
    );
    assert_eq!(web.audit(), "", "every query names WHMCS 8.4's tables");
    // The service asked WHMCS's API only what cannot change it.
    let asked = web.api_calls();
    assert!(asked.contains(&"ModuleTerminate".to_owned()), "{asked:?}");
    let kept: (i64, i64, i64) = app
        .triples("SELECT passed, warned, failed FROM diagnostic_reports WHERE instance = 'default'")
        .await
        .pop()
        .expect("the report is kept");
    assert_eq!(kept, (i64::try_from(rows).expect("rows"), 0, 0));
    // For the screenshot looked at while building the page.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/diagnostics-screenshots");
    std::fs::create_dir_all(&shots).expect("folder");
    std::fs::write(shots.join("addon-diagnostics.html"), &page).expect("page");
    app.stop().await;
}
