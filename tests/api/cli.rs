//! The `puente` binary's own contract: exit codes and messages.

use std::process::{Command, Output};

use reqwest::StatusCode;

use crate::support::*;

fn puente(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run puente")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_without_a_secret_exits_2_naming_the_variable() {
    let output = puente(
        &["serve"],
        &[("PUENTE_DATABASE", "/nonexistent/never/created.db")],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("PUENTE_HOOK_SECRETS is required"),
        "{}",
        stderr(&output)
    );
    assert!(!std::path::Path::new("/nonexistent/never").exists());
}

#[test]
fn check_config_reports_every_problem_and_exits_2() {
    let output = puente(
        &["check-config"],
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_LISTEN", "everywhere"),
            ("PUENTE_WHATSAPP_MODE", "carrier-pigeon"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("PUENTE_LISTEN: `everywhere`"), "{message}");
    assert!(
        message.contains("PUENTE_WHATSAPP_MODE: `carrier-pigeon`"),
        "{message}"
    );
}

#[test]
fn check_config_accepts_a_valid_configuration_and_hides_secrets() {
    let output = puente(
        &["check-config"],
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ADMIN_TOKEN", ADMIN_TOKEN),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("configuration is valid"), "{printed}");
    assert!(
        !printed.contains(ADMIN_TOKEN) && !printed.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        "{printed}"
    );
}

#[test]
fn unknown_subcommands_and_flags_exit_2() {
    assert_eq!(puente(&["fly"], &[]).status.code(), Some(2));
    assert_eq!(puente(&["serve", "--turbo"], &[]).status.code(), Some(2));
}

#[tokio::test]
async fn send_signs_a_file_and_the_service_stores_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let envelope_file = dir.path().join("event.json");
    std::fs::write(&envelope_file, envelope("ClientAdd").to_string()).expect("write");
    let envelope_path = envelope_file.to_str().expect("utf-8").to_owned();
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        puente(
            &["send", "--url", &address, "--id", "evt_cli", &envelope_path],
            &[("PUENTE_SECRET", SECRET)],
        )
    })
    .await
    .expect("send ran");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("202 "));
    let stored = json_of(
        app.admin_get("/v1/admin/events/evt_cli").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["type"], "ClientAdd");

    let without_secret = puente(&["send", "--url", &app.address, "--id", "evt_cli2"], &[]);
    assert_eq!(without_secret.status.code(), Some(2));
    assert!(stderr(&without_secret).contains("PUENTE_SECRET"));
    app.stop().await;
}

#[test]
fn templates_export_prints_every_template_for_meta_and_refuses_a_broken_file() {
    let output = puente(&["templates", "export"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let definitions: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let definitions = definitions.as_array().expect("array");
    assert_eq!(
        definitions.len(),
        36,
        "eleven alerts, the upgrade applied, the cancellation requested and five transfer steps, in Spanish and English"
    );
    for definition in definitions {
        assert_eq!(definition["category"], "UTILITY");
        let name = definition["name"].as_str().expect("name");
        assert!(name.starts_with("puente_"), "{name}");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("alerts.toml");
    std::fs::write(&broken, "[alerts.welcome]\ntemplate = \"Welcome!\"\n").expect("write");
    let output = puente(
        &[
            "templates",
            "export",
            "--file",
            broken.to_str().expect("path"),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("alerts.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_broken_alert_templates_file_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let templates = dir.path().join("alerts.toml");
    let broken = puente::domain::templates::DEFAULT_TOML.replace("{{4}}", "{{5}}");
    std::fs::write(&templates, broken).expect("write");

    let output = puente(
        &["check-config"],
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ALERTS_TEMPLATES", templates.to_str().expect("path")),
        ],
    );

    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("PUENTE_ALERTS_TEMPLATES") && message.contains("{{1}}"),
        "{message}"
    );
}

#[test]
fn a_setting_for_an_undeclared_instance_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("puente.toml");
    std::fs::write(
        &file,
        "[instances.reseller]\nwhmcs_url = \"https://reseller.example\"\n\
         identifier = \"i\"\nsecret = \"s\"\n\
         [instances.resseler.whatsapp]\nphone_number_id = \"1001\"\n",
    )
    .expect("write");

    let output = puente(
        &["check-config"],
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_CONFIG", file.to_str().expect("path")),
        ],
    );

    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("`instances.resseler.whatsapp.phone_number_id`")
            && message.contains("names the instance `resseler`, which is not declared")
            && message.contains("declared instances: default, reseller"),
        "{message}"
    );
}

#[test]
fn explicit_consent_needs_the_opt_in_field() {
    let output = puente(
        &["check-config"],
        &[
            ("PUENTE_HOOK_SECRETS", SECRET),
            ("PUENTE_ALERTS_CONSENT", "explicit"),
        ],
    );

    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("PUENTE_ALERTS_OPTIN_FIELD is required"),
        "{}",
        stderr(&output)
    );
}

fn request(currency: &str, price: &str, paid: &str, target: &str, cycle: &str) -> String {
    serde_json::json!({
        "policy": "seed",
        "currency": currency,
        "current": {"price": price, "cycle": "Annually", "paid": paid,
                    "period_start": "2025-01-01", "next_due_date": "2026-01-01"},
        "target": {"price": target, "cycle": cycle},
        "on": "2025-07-02"
    })
    .to_string()
}

#[test]
fn quote_prices_the_seed_example_and_answers_downgrades_with_exit_0() {
    let output = quote(&request("USD", "100.00", "100.00", "150.00", "annually"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(answer["charge"], "50.00");
    assert_eq!(answer["next_due_date"], "2026-07-02");
    assert_eq!(answer["kind"], "upgrade");

    let output = quote(&request("USD", "150.00", "150.00", "100.00", "Annually"));
    assert_eq!(output.status.code(), Some(0));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        (&answer["kind"], &answer["charge"]),
        (&serde_json::json!("downgrade"), &serde_json::json!("0.00"))
    );

    let output = quote(&request("JPY", "1000", "1000", "1500", "Annually"));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(answer["charge"], "500");
}

#[test]
fn quote_refuses_bad_input_with_exit_2_and_a_message() {
    for (input, expected) in [
        (
            request("XYZ", "100.00", "100.00", "150.00", "Annually"),
            "currency",
        ),
        (
            request("USD", "100.005", "100.00", "150.00", "Annually"),
            "current.price",
        ),
        (
            request("USD", "100.00", "-5.00", "150.00", "Annually"),
            "current.paid",
        ),
        (
            request("JPY", "100.5", "100", "150", "Annually"),
            "current.price",
        ),
        (
            request("USD", "100.00", "100.00", "150.00", "weekly"),
            "target.cycle",
        ),
        ("not json".to_owned(), "not a quote request"),
    ] {
        let output = quote(&input);
        assert_eq!(output.status.code(), Some(2), "{input}");
        assert!(
            stderr(&output).contains(expected),
            "{input}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}
