//! `puente migrate-store`: an install's SQLite file, with a row in every
//! table, copied into PostgreSQL, checked, copied again without a change,
//! and served from there (the PostgreSQL pass of `make test`).

use std::process::{Command, Output};

use serde_json::json;

use crate::support::database::{Backend, on_postgres};
use crate::support::*;

fn migrate_store(from: &std::path::Path, to: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["migrate-store", "--from"])
        .arg(from)
        .args(["--to", to])
        .env_clear()
        .output()
        .expect("run puente")
}

/// The table's line of the command's report: (in SQLite, copied now,
/// checked).
fn line(report: &str, table: &str) -> (u64, u64, u64) {
    let fields: Vec<u64> = report
        .lines()
        .find(|line| line.split_whitespace().next() == Some(table))
        .unwrap_or_else(|| panic!("{table} in {report}"))
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().expect("a count"))
        .collect();
    (fields[0], fields[1], fields[2])
}

const TABLES: [&str; 11] = [
    "events",
    "messages",
    "message_attempts",
    "whatsapp_notifications",
    "manual_upgrade_requests",
    "upgrade_applications",
    "cancellations",
    "transfers",
    "transfer_steps",
    "diagnostic_reports",
    "dashboard_spent",
];

#[tokio::test]
async fn a_sqlite_install_is_copied_whole_checked_and_a_second_run_changes_nothing() {
    if !on_postgres() {
        return;
    }
    let app = spawn_sqlite_app().await;
    fire(
        &app,
        "evt_welcome",
        "ClientAdd",
        json!({"client_id": 1842}),
        system(),
    )
    .await;
    fire(
        &app,
        "evt_login",
        "UserLogin",
        json!({"client_id": 1842}),
        system(),
    )
    .await;
    app.batch(
        "INSERT INTO message_attempts (message_id, at_ms, outcome, http_status, detail)
              SELECT id, 1, 'accepted', 200, '' FROM messages;
         INSERT INTO whatsapp_notifications (body_sha256, received_at_ms) VALUES (x'0102', 5);
         INSERT INTO manual_upgrade_requests (instance, service_id, client_id, product_id,
                 billing_cycle, status, requested_at_ms)
              VALUES ('default', 7731, 1842, 13, 'Annually', 'open', 9);
         INSERT INTO upgrade_applications (event_seq, instance, upgrade_id, upgrade_type,
                 service_id, client_id, product_id, billing_cycle, policy, enable_date,
                 next_due_date, recurring_amount, status, planned_at_ms)
              SELECT seq, 'default', 233, 'package', 7731, 1842, 13, 'Annually', 'seed',
                     '2026-12-01', '2027-12-01', '150.00', 'applied', 0
                FROM events WHERE id = 'evt_login';
         INSERT INTO cancellations (event_seq, instance, subject_kind, subject_id, client_id,
                 cancel_type, origin, reauthenticated, requested_at_ms, requested_on, status,
                 updated_at_ms)
              SELECT seq, 'default', 'service', 7731, 1842, 'Immediate', 'client_page', 1, 0,
                     '2026-12-01', 'terminated', 0 FROM events WHERE id = 'evt_login';
         INSERT INTO transfers (event_seq, instance, service_id, owner_client_id,
                 recipient_client_id, recipient_email, approval, status, requested_at_ms,
                 expires_at_ms, updated_at_ms)
              SELECT seq, 'default', 7731, 1842, 1900, 'b@example.com', 'none', 'completed',
                     0, 1, 2 FROM events WHERE id = 'evt_login';
         INSERT INTO transfer_steps (transfer_id, from_status, to_status, party, at_ms)
              SELECT id, NULL, 'requested', 'owner', 0 FROM transfers;
         INSERT INTO diagnostic_reports (instance, at_ms, addon_version, whmcs_version,
                 php_version, passed, warned, failed, rows)
              VALUES ('default', 0, '0.1.0', '8.13.1', '8.2', 3, 0, 0, '[]');
         INSERT INTO dashboard_spent (token, expires) VALUES ('spent-token', 4102444800);",
    )
    .await;
    let Backend::Sqlite(file) = app.backend.clone() else {
        panic!("a SQLite app");
    };
    let before = app.stored_ids().await;
    let _folder = app.stop_keeping_files().await;

    let target = Backend::new_postgres().await;
    let Backend::Postgres(url) = &target else {
        panic!("a PostgreSQL database");
    };
    let first = migrate_store(&file, url);
    let report = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for table in TABLES {
        let (source, copied, checked) = line(&report, table);
        assert!(source >= 1, "{table} has a row to copy: {report}");
        assert_eq!((copied, checked), (source, source), "{table}: {report}");
    }

    let again = migrate_store(&file, url);
    let report = String::from_utf8_lossy(&again.stdout).into_owned();
    assert!(again.status.success(), "{report}");
    for table in TABLES {
        let (source, copied, checked) = line(&report, table);
        assert_eq!(
            (copied, checked),
            (0, source),
            "a second run: {table}: {report}"
        );
    }

    // Served from PostgreSQL: the same events, the amounts and flags as
    // they were, and new rows numbered after the copied ones.
    let served = spawn_app_on(target).await;
    assert_eq!(served.stored_ids().await, before);
    assert_eq!(
        served
            .one::<String>("SELECT CAST(recurring_amount AS TEXT) FROM upgrade_applications")
            .await,
        "150.00"
    );
    assert!(
        served
            .one::<bool>("SELECT reauthenticated FROM cancellations")
            .await
    );
    fire(
        &served,
        "evt_after",
        "ClientAdd",
        json!({"client_id": 7}),
        system(),
    )
    .await;
    let seqs = served
        .backend
        .column::<i64>("SELECT seq FROM events ORDER BY seq")
        .await;
    assert_eq!(seqs.len(), 3);
    assert!(seqs[2] > seqs[1], "{seqs:?}");
    served.stop().await;
}

#[tokio::test]
async fn a_target_that_is_not_postgres_or_a_missing_file_is_refused_with_exit_2() {
    let missing = migrate_store(
        std::path::Path::new("/nonexistent/puente.db"),
        "postgres://puente@localhost/puente",
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--from"));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("puente.db");
    std::fs::write(&file, b"").expect("file");
    let not_postgres = migrate_store(&file, "mysql://localhost/puente");
    assert_eq!(not_postgres.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_postgres.stderr).contains("postgres://"));
}
