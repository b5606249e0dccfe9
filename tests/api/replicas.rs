//! Replicas on one PostgreSQL database: one leader, rows a worker took are
//! left alone by the others while its lease lasts, a replica whose lease
//! lapsed writes nothing, and a dead replica's work is taken back.
//!
//! They run in the PostgreSQL pass of `make test` (each returns at once on
//! SQLite, where one process is the only replica). The second replica is a
//! store of its own in this process, on the test app's database.

use std::sync::Arc;
use std::time::Duration;

use puente::metrics::Metrics;
use puente::store::messages::{Outcome, Settled};
use puente::store::postgres::Postgres;
use puente::store::{Held, Store};
use reqwest::StatusCode;

use crate::support::database::{Backend, on_postgres};
use crate::support::*;

/// Another replica on `app`'s database, with metrics of its own.
fn second_replica(app: &TestApp) -> (Postgres, Arc<Metrics>) {
    let Backend::Postgres(url) = &app.backend else {
        panic!("replicas share a PostgreSQL database");
    };
    let metrics = Metrics::new();
    let replica = Postgres::connect(url, Duration::from_secs(5), Arc::clone(&metrics))
        .expect("a second replica connects");
    (replica, metrics)
}

/// Plans one welcome alert through `app`.
async fn welcome_planned(app: &TestApp) {
    welcome(app).await;
    assert_eq!(app.one::<i64>("SELECT count(*) FROM messages").await, 1);
}

#[tokio::test]
async fn replicas_share_one_database_and_exactly_one_leads_until_it_stops() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let (second, metrics) = second_replica(&app);
    assert!(app.store.is_leader(), "the first replica to beat leads");
    assert!(!second.is_leader());

    let seen = second.replicas().await.expect("replicas");
    let alive: Vec<(&str, bool)> = seen
        .iter()
        .filter(|replica| replica.alive)
        .map(|replica| (replica.id.as_str(), replica.leader))
        .collect();
    assert_eq!(alive.len(), 2, "{seen:?}");
    assert!(alive.contains(&(app.store.replica(), true)));
    assert!(alive.contains(&(second.replica(), false)));

    let ready = json_of(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ready["replica"], app.store.replica());
    assert_eq!(ready["leader"], true);
    assert_eq!(ready["replicas"].as_array().map(Vec::len), Some(2));

    // A graceful stop hands the term back: the next heartbeat takes it.
    let first = app.store.replica().to_owned();
    app.stop().await;
    second.heartbeat().await.expect("heartbeat");
    assert!(second.is_leader());
    let seen = second.replicas().await.expect("replicas");
    assert_eq!(
        seen.iter().filter(|replica| replica.alive).count(),
        1,
        "the stopped replica is not alive: {seen:?}"
    );
    // Its metrics, read at that heartbeat, name the new leader and only
    // the replicas still alive.
    let text = metrics.render();
    let leads = format!("puente_leader{{replica=\"{}\"}} 1", second.replica());
    assert!(text.contains(&leads), "{text}");
    assert!(
        text.contains(&format!(
            "puente_replica_heartbeat_age_seconds{{replica=\"{}\"}}",
            second.replica()
        )),
        "{text}"
    );
    assert!(!text.contains(&first), "{text}");
    second.close().await.expect("close");
}

#[tokio::test]
async fn a_message_one_replica_took_is_left_alone_until_its_lease_lapses_and_then_is_never_sent_by_both()
 {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let (second, _metrics) = second_replica(&app);
    welcome_planned(&app).await;
    let now = jiff::Timestamp::now();

    let first = app.store.due_messages(now, 10).await.expect("due");
    assert_eq!(first.len(), 1);
    assert!(
        second.due_messages(now, 10).await.expect("due").is_empty(),
        "the first replica holds it"
    );
    let held_first = first[0].1.held();

    // The first replica's lease lapses (it stalled): the second takes it.
    app.execute("UPDATE messages SET lease_expires_at_ms = 0", &[])
        .await;
    let taken = second.due_messages(now, 10).await.expect("due");
    assert_eq!(taken.len(), 1);
    let held_second = taken[0].1.held();
    assert_eq!(held_second.id, held_first.id);
    assert!(held_second.epoch > held_first.epoch);

    // The stalled replica wakes up: nothing it writes lands.
    assert!(
        !app.store
            .mark_message_sending(held_first, "{}".into())
            .await
            .expect("write"),
        "a lapsed lease sends nothing"
    );
    app.store
        .settle_messages(vec![Settled {
            message: held_first,
            outcome: Outcome::Skipped("a stale replica's decision".into()),
            attempt: None,
            now,
        }])
        .await
        .expect("write");
    assert_eq!(
        app.one::<String>("SELECT status FROM messages").await,
        "planned"
    );

    // The one that holds it sends it.
    assert!(
        second
            .mark_message_sending(held_second, "{}".into())
            .await
            .expect("write")
    );
    assert_eq!(
        app.one::<String>("SELECT status FROM messages").await,
        "sending"
    );
    second.close().await.expect("close");
    app.stop().await;
}

#[tokio::test]
async fn the_leader_turns_a_dead_replicas_sends_uncertain_and_hands_its_other_work_back() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let (second, _metrics) = second_replica(&app);
    welcome_planned(&app).await;
    let now = jiff::Timestamp::now();
    // The second replica takes the alert and an upgrade, and marks the
    // alert sending: then it dies (no more heartbeats).
    let taken = second.due_messages(now, 10).await.expect("due");
    assert!(
        second
            .mark_message_sending(taken[0].1.held(), "{}".into())
            .await
            .expect("write")
    );
    app.batch(
        "INSERT INTO upgrade_applications (event_seq, instance, upgrade_id, upgrade_type,
             service_id, client_id, product_id, billing_cycle, policy, enable_date, status,
             planned_at_ms)
         SELECT seq, 'default', 233, 'package', 7731, 1842, 13, 'Annually', 'seed',
                '2026-12-01', 'planned', 0 FROM events WHERE id = 'evt_welcome'",
    )
    .await;
    let upgrades = second.pending_upgrades().await.expect("pending");
    assert_eq!(upgrades.len(), 1);
    assert!(
        app.store
            .pending_upgrades()
            .await
            .expect("pending")
            .is_empty(),
        "held by the second replica"
    );
    app.execute(
        "UPDATE replicas SET heartbeat_at_ms = 0 WHERE id = ?1",
        &[second.replica().into()],
    )
    .await;

    app.store.heartbeat().await.expect("the leader's heartbeat");
    let (status, reason): (String, Option<String>) = app
        .backend
        .pairs("SELECT status, reason FROM messages")
        .await
        .pop()
        .expect("message");
    assert_eq!(status, "uncertain", "never resent by itself");
    assert!(reason.expect("why").contains("may have reached the client"));
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("puente_lease_rescues_total{kind=\"message_uncertain\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("puente_lease_rescues_total{kind=\"upgrade\"} 1"),
        "{metrics}"
    );
    // The upgrade is the survivors' to carry out now.
    let pending = app.store.pending_upgrades().await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].held(),
        Held {
            id: upgrades[0].id,
            epoch: pending[0].lease
        }
    );
    assert!(
        !second
            .mark_upgrade_applying(upgrades[0].held())
            .await
            .expect("write"),
        "the dead replica, back, calls WHMCS for nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_replica_refuses_a_schema_newer_than_it_knows_and_changes_nothing() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    app.execute(
        "INSERT INTO puente_schema (version, applied_at_ms) VALUES (999, 0)",
        &[],
    )
    .await;
    let Backend::Postgres(url) = &app.backend else {
        panic!("PostgreSQL");
    };
    let refused = Postgres::connect(url, Duration::from_secs(5), Metrics::new())
        .err()
        .expect("a newer schema is refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("newer than this puente knows"),
        "{message}"
    );
    assert_eq!(
        app.one::<i64>("SELECT count(*) FROM replicas").await,
        1,
        "the refused binary did not register"
    );
    app.stop().await;
}
