//! The real WHMCS addon under php-cli against the real `puente` binary:
//! fixture hooks go through hooks.php, get scrubbed, signed and stored, and
//! events spooled while the service was unreachable arrive after the cron.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// Runs `php php-shim/tests/e2e/fire.php <args>` with the shim's settings.
fn fire(service_url: &str, spool: &Path, args: &[&str]) {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("php")
        .arg(format!("{root}/php-shim/tests/e2e/fire.php"))
        .args(args)
        .env("PUENTE_URL", service_url)
        .env("PUENTE_SECRET", SECRET)
        .env("PUENTE_SPOOL_DIR", spool)
        .env_remove("PUENTE_INSTANCE")
        .output()
        .expect("php runs (make test installs php-cli)");
    assert!(
        output.status.success(),
        "php failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every fixture hook the addon forwards, in the order the script fires them.
fn fixture_hooks() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/whmcs");
    let mut hooks: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !name.starts_with("api-"))
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .collect();
    hooks.sort();
    hooks
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
    let spool = tempfile::tempdir().expect("spool dir");
    let client = reqwest::Client::new();

    fire(&service.address, spool.path(), &["hooks"]);

    let hooks = fixture_hooks();
    assert_eq!(hooks.len(), 20);
    assert_eq!(stored_types(&client, &service).await, hooks);
    let page = admin(&client, &service, "/v1/admin/events?limit=1000").await;
    for event in page["events"].as_array().expect("events") {
        assert_eq!(event["status"], "received", "{event}");
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
}

#[tokio::test]
async fn events_spooled_while_the_service_was_unreachable_arrive_once_in_order_after_the_cron() {
    let service = RunningBinary::start(&[]);
    let spool = tempfile::tempdir().expect("spool dir");
    let client = reqwest::Client::new();
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };

    fire(
        &unreachable,
        spool.path(),
        &["hooks", "ClientAdd", "InvoicePaid", "AfterModuleSuspend"],
    );
    assert!(stored_types(&client, &service).await.is_empty());

    fire(&service.address, spool.path(), &["cron"]);
    fire(&service.address, spool.path(), &["cron"]);

    assert_eq!(
        stored_types(&client, &service).await,
        ["ClientAdd", "InvoicePaid", "AfterModuleSuspend"]
    );
    let journal = std::fs::metadata(spool.path().join("spool/journal")).expect("spool journal");
    assert_eq!(journal.len(), 0, "the drained spool journal is emptied");
}
