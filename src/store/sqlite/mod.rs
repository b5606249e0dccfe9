//! The SQLite backend: one writer thread with group commit, short-lived
//! readers, every statement in SQLite's dialect.

pub mod backup;
mod cancellations;
mod dashboard;
mod database;
mod delivery;
mod diagnostics;
mod events;
mod messages;
mod plan;
mod reconcile;
mod retention;
mod rows;
mod sql;
mod store;
mod transfers;
mod tx;
mod upgrades;
mod whatsapp;
mod writer;

pub use database::{Database, ServiceLock};
pub use store::Sqlite;
pub use tx::Tx;
pub use writer::{Writer, WriterThread};

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::Connection;

    use super::database::migrations;
    use super::sql::AnyStatus;
    use super::*;
    use crate::domain::ids::InstanceName;

    #[test]
    fn one_writer_at_a_time_holds_the_database_and_lets_go_when_it_stops() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("l.db"), Duration::from_secs(1)).expect("open");
        let metrics = crate::metrics::Metrics::new();
        let first = WriterThread::start(&database, std::sync::Arc::clone(&metrics)).expect("start");
        let refused = WriterThread::start(&database, std::sync::Arc::clone(&metrics))
            .err()
            .expect("a second writer is refused");
        assert!(
            format!("{refused:#}").contains("another puente is running"),
            "{refused:#}"
        );
        assert!(database.try_lock().expect("lock file").is_none());
        first.stop();
        let second = WriterThread::start(&database, metrics).expect("free again");
        second.stop();
    }

    /// A constraint written `col IN (a, b, c)` makes SQLite build a
    /// temporary index on every insert; no table may have one.
    #[test]
    fn no_insert_builds_a_temporary_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.db");
        Database::open(&path, Duration::from_secs(1)).expect("open");
        // A writable connection: a read-only one compiles no constraints.
        let connection = Connection::open(&path).expect("connect");
        let mut tables = connection
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .expect("tables");
        let tables: Vec<String> = tables
            .query_map([], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("names");
        assert!(tables.len() >= 7, "{tables:?}");
        for table in tables {
            // Parameters, not constants, or SQLite folds the checks away.
            let columns: Vec<String> = connection
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .expect("columns")
                .query_map([], |row| row.get(0))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("names");
            let parameters = vec!["?"; columns.len()].join(", ");
            let mut explain = connection
                .prepare(&format!(
                    "EXPLAIN INSERT INTO {table} ({}) VALUES ({parameters})",
                    columns.join(", ")
                ))
                .expect("explain");
            let nulls = std::iter::repeat_n(rusqlite::types::Null, columns.len());
            let opcodes: Vec<String> = explain
                .query_map(rusqlite::params_from_iter(nulls), |row| row.get(1))
                .expect("opcodes")
                .collect::<Result<_, _>>()
                .expect("opcodes");
            assert!(
                !opcodes.iter().any(|op| op == "OpenEphemeral"),
                "inserting into {table} builds a temporary index"
            );
        }
    }

    #[test]
    fn rewriting_the_checks_keeps_the_rows_and_the_rules() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let mut connection = Connection::open(&path).expect("open");
        migrations()
            .to_version(&mut connection, 6)
            .expect("version 6");
        connection
            .execute(
                "INSERT INTO events (id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES ('evt_old', 'default', 'InvoicePaid', 'system', 'cron', 0, 0, 'received', x'7b7d')",
                [],
            )
            .expect("an event of the old schema");
        drop(connection);

        Database::open(&path, Duration::from_secs(1)).expect("migrate to 7");
        let connection = Connection::open(&path).expect("reopen");
        let insert = |id: &str, actor: &str, source: &str| {
            connection.execute(
                "INSERT INTO events (id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES (?1, 'default', 'InvoicePaid', ?2, ?3, 0, 0, 'received', x'7b7d')",
                [id, actor, source],
            )
        };
        assert!(insert("evt_new", "client", "clientarea").is_ok());
        for (actor, source) in [("robot", "cron"), ("system", "elsewhere")] {
            let refused = insert("evt_bad", actor, source).expect_err("refused");
            assert!(refused.to_string().contains("CHECK"), "{refused}");
        }
        let refused = connection
            .execute(
                "INSERT INTO messages (event_seq, instance, kind, subject_kind, dedupe_key, status, planned_at_ms)
                 VALUES (1, 'default', 'welcome', 'client', 'k', 'lost', 0)",
                [],
            )
            .expect_err("an unknown status");
        assert!(refused.to_string().contains("CHECK"), "{refused}");
        let (events, integrity): (i64, String) = (
            connection
                .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))
                .expect("count"),
            connection
                .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                .expect("integrity"),
        );
        assert_eq!((events, integrity.as_str()), (2, "ok"));
    }

    #[test]
    fn upgrades_recorded_before_types_were_kept_are_package_upgrades() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let mut connection = Connection::open(&path).expect("open");
        migrations()
            .to_version(&mut connection, 7)
            .expect("version 7");
        connection
            .execute_batch(
                "INSERT INTO events (seq, id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES (1, 'evt_old', 'default', 'AfterProductUpgrade', 'system', 'cron', 0, 0,
                         'received', x'7b7d');
                 INSERT INTO upgrade_applications
                        (event_seq, instance, upgrade_id, service_id, client_id, product_id,
                         billing_cycle, policy, enable_date, status, planned_at_ms)
                 VALUES (1, 'default', 233, 7731, 1842, 13, 'Annually', 'seed', '2025-03-10',
                         'planned', 0);",
            )
            .expect("an upgrade of the old schema");
        drop(connection);

        let database = Database::open(&path, Duration::from_secs(1)).expect("migrate to 8");
        let connection = database.writer_connection().expect("writer");
        let kept: (String, String, i64) = connection
            .query_row(
                "SELECT upgrade_type, status, product_id FROM upgrade_applications",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .expect("the row");
        assert_eq!(kept, ("package".to_owned(), "planned".to_owned(), 13));
        assert_eq!(upgrades::pending(&connection).expect("pending").len(), 1);
        let insert = |id: i64, kind: &str, product: Option<i64>, status: &str| {
            connection.execute(
                "INSERT INTO upgrade_applications
                        (event_seq, instance, upgrade_id, upgrade_type, service_id, client_id,
                         product_id, billing_cycle, policy, enable_date, status, planned_at_ms)
                 VALUES (1, 'default', ?1, ?2, 7731, 1842, ?3, NULL, 'seed', '2025-03-10', ?4, 0)",
                rusqlite::params![id, kind, product, status],
            )
        };
        assert!(insert(235, "configoptions", None, "recorded").is_ok());
        for refused in [
            insert(236, "product", None, "recorded"),
            insert(237, "package", Some(13), "planned"),
            insert(238, "package", None, "lost"),
        ] {
            let error = refused.expect_err("refused");
            assert!(error.to_string().contains("CHECK"), "{error}");
        }
    }

    #[test]
    fn every_admin_list_filtered_by_instance_reads_an_index_range() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("p.db"), Duration::from_secs(1)).expect("open");
        let reader = database.reader().expect("reader");
        let instance = || Some(InstanceName::parse("alfa").expect("name"));
        let statements = [
            (
                "events",
                events::list_statement(
                    &crate::store::events::EventQuery {
                        hook: None,
                        instance: instance(),
                        since: None,
                        after: Some(10),
                        limit: 100,
                    },
                    Some(10),
                ),
            ),
            (
                "messages",
                messages::list_statement(&crate::store::messages::MessageQuery {
                    instance: instance(),
                    status: None,
                    client_id: None,
                    event: None,
                    after: None,
                    limit: 100,
                }),
            ),
            (
                "upgrade_applications",
                upgrades::list_statement(&crate::store::RecordQuery {
                    instance: instance(),
                    status: None,
                    service_id: None,
                    after: Some(3),
                    limit: 100,
                }),
            ),
            (
                "cancellations",
                cancellations::list_statement(&crate::store::RecordQuery {
                    instance: instance(),
                    status: None,
                    service_id: None,
                    after: None,
                    limit: 100,
                }),
            ),
            (
                "transfers",
                transfers::list_statement(&crate::store::RecordQuery {
                    instance: instance(),
                    status: None,
                    service_id: None,
                    after: None,
                    limit: 100,
                }),
            ),
        ];
        for (table, (sql, values)) in statements {
            let mut statement = reader
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let plan: Vec<String> = statement
                .query_map(
                    rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())),
                    |row| row.get(3),
                )
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            let alias = plan
                .iter()
                .find(|step| step.contains(&format!("{table}_by_instance")))
                .unwrap_or_else(|| panic!("{table}: no instance index in {plan:#?}"));
            assert!(alias.starts_with("SEARCH"), "{table}: {plan:#?}");
            assert!(
                !plan.iter().any(|step| step.contains("USE TEMP B-TREE")),
                "{table} sorts its rows: {plan:#?}"
            );
        }
    }

    #[test]
    fn the_dashboard_counts_waiting_and_dead_messages_from_indexes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("p.db"), Duration::from_secs(1)).expect("open");
        let reader = database.reader().expect("reader");
        for (sql, index) in [
            (messages::COUNT_DEAD, "messages_dead"),
            (messages::COUNT_PLANNED, "messages_due"),
        ] {
            let plan: Vec<String> = reader
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan")
                .query_map([Some("alfa")], |row| row.get(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            assert!(
                plan.iter().any(|step| step.contains(index)),
                "{sql}: {plan:#?}"
            );
        }
        assert_eq!(
            messages::waiting_and_dead(&reader, None).expect("counts"),
            (0, 0)
        );
    }

    /// The values a table's `CHECK (column = 'a' OR column = 'b' …)` allows.
    fn checked_values(reader: &Connection, table: &str, column: &str) -> Vec<String> {
        let sql: String = reader
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .expect("table");
        let start = sql
            .find(&format!("CHECK ({column} = '"))
            .expect("a CHECK of the column");
        let check = &sql[start..];
        let check = &check[..check.find("),").or_else(|| check.find(')')).expect("end")];
        check
            .split(&format!("{column} = '"))
            .skip(1)
            .map(|part| part[..part.find('\'').expect("quote")].to_owned())
            .collect()
    }

    #[test]
    fn the_open_statuses_the_code_writes_are_those_of_the_one_open_indexes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("o.db"), Duration::from_secs(1)).expect("open");
        let reader = database.reader().expect("reader");
        let index_where = |name: &str| -> String {
            let sql: String = reader
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [name],
                    |row| row.get(0),
                )
                .expect("index");
            let condition = &sql[sql.find("WHERE").expect("partial") + "WHERE".len()..];
            condition.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        assert_eq!(
            index_where("transfers_one_open"),
            AnyStatus(crate::domain::transfer::Status::OPEN).to_string()
        );
        assert_eq!(
            index_where("cancellations_one_open"),
            AnyStatus(crate::store::cancellations::Status::IN_FLIGHT).to_string()
        );
    }

    #[test]
    fn every_status_the_tables_allow_is_one_of_their_enums() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database =
            Database::open(&dir.path().join("p.db"), Duration::from_secs(1)).expect("open");
        let reader = database.reader().expect("reader");
        assert_eq!(
            checked_values(&reader, "cancellations", "status"),
            crate::store::cancellations::Status::NAMES
        );
        assert_eq!(
            checked_values(&reader, "transfers", "status"),
            crate::domain::transfer::Status::NAMES
        );
        assert_eq!(
            checked_values(&reader, "messages", "status"),
            crate::domain::status::MessageStatus::NAMES
        );
        assert_eq!(
            checked_values(&reader, "upgrade_applications", "status"),
            crate::domain::upgrade_apply::UpgradeStatus::NAMES
        );
    }

    #[test]
    fn migrations_are_valid_and_reopening_is_harmless() {
        assert!(migrations().validate().is_ok());
        let dir = std::env::temp_dir().join(format!("puente-store-{}", std::process::id()));
        let path = dir.join("nested").join("puente.db");
        Database::open(&path, Duration::from_secs(1)).expect("first open");
        let database = Database::open(&path, Duration::from_secs(1)).expect("second open");
        let reader = database.reader().expect("reader");
        let version: i64 = reader
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("user_version");
        assert_eq!(version, 20);
        assert_eq!(super::database::latest_schema(), version);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn a_preallocated_wal_left_by_a_crash_recovers_every_committed_write() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("puente.db");
        let database = Database::open(&path, Duration::from_secs(1))
            .expect("open")
            .with_wal_preallocation(2 << 20);
        let writer = database.writer_connection().expect("writer");
        let wal = dir.path().join("puente.db-wal");
        assert!(std::fs::metadata(&wal).expect("wal").len() >= 2 << 20);
        writer
            .execute_batch(
                "INSERT INTO events (id, instance, type, actor_kind, source, occurred_at_ms,
                                     received_at_ms, status, body)
                 VALUES ('evt_before_crash', 'default', 'InvoicePaid', 'system', 'cron', 0, 0,
                         'received', x'7b7d')",
            )
            .expect("commit");
        // A crash: the connection never closes, so SQLite neither
        // checkpoints nor deletes the WAL, zeros and all.
        std::mem::forget(writer);

        let reopened = Database::open(&path, Duration::from_secs(1)).expect("reopen");
        let reader = reopened.reader().expect("reader");
        let stored: i64 = reader
            .query_row(
                "SELECT count(*) FROM events WHERE id = 'evt_before_crash'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(stored, 1);
        let probe: i64 = reader
            .query_row("SELECT count(*) FROM readiness_probe", [], |row| row.get(0))
            .expect("probe");
        assert_eq!(probe, 1);
    }
}
