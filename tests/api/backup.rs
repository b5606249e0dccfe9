//! `puente backup` and `puente restore` on SQLite: a consistent copy while
//! the service takes events, put back once it is stopped.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use tokio::sync::watch;

use crate::support::database::Backend;
use crate::support::*;

fn puente(args: &[&str], database: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(args)
        .arg("--database")
        .arg(database)
        .env_clear()
        .output()
        .expect("run puente")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sends events as fast as it can until `stop`, noting each acknowledged
/// one in order.
async fn send_until(
    app: Arc<TestApp>,
    sender: usize,
    stop: Arc<AtomicBool>,
    acknowledged: watch::Sender<Vec<String>>,
) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = format!("evt_load_{sender}_{n}");
        n += 1;
        let response = app.send_event(&id, &envelope("ClientAdd")).await;
        if response.status() == StatusCode::ACCEPTED {
            acknowledged.send_modify(|ids| ids.push(id));
        }
    }
}

#[tokio::test]
async fn a_backup_under_load_holds_every_event_acknowledged_before_it_began() {
    let app = Arc::new(spawn_sqlite_app().await);
    let Backend::Sqlite(database) = app.backend.clone() else {
        unreachable!("a SQLite app")
    };
    let backup_dir = tempfile::tempdir().expect("temp dir");
    let backup_file = backup_dir.path().join("puente-backup.db");

    let stop = Arc::new(AtomicBool::new(false));
    let (acknowledged, mut seen) = watch::channel(Vec::<String>::new());
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            tokio::spawn(send_until(
                Arc::clone(&app),
                sender,
                Arc::clone(&stop),
                acknowledged.clone(),
            ))
        })
        .collect();
    seen.wait_for(|ids| ids.len() >= 200)
        .await
        .expect("senders run");
    let before_backup = seen.borrow().clone();
    let backup = {
        let (database, file) = (database.clone(), backup_file.clone());
        tokio::task::spawn_blocking(move || {
            puente(&["backup", file.to_str().expect("UTF-8")], &database)
        })
        .await
        .expect("backup ran")
    };
    let during_backup = seen.borrow().len() - before_backup.len();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.expect("sender");
    }
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    assert!(
        text(&backup.stdout).starts_with("backed up "),
        "{}",
        text(&backup.stdout)
    );
    let after = app
        .send_event("evt_after_backup", &envelope("ClientAdd"))
        .await;
    assert_eq!(after.status(), StatusCode::ACCEPTED);

    // A second backup never replaces the first.
    let again = puente(&["backup", backup_file.to_str().expect("UTF-8")], &database);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("already exists"));

    // While the service runs on the database, a restore changes nothing.
    let refused = puente(
        &["restore", backup_file.to_str().expect("UTF-8")],
        &database,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("stop it first"),
        "{}",
        text(&refused.stderr)
    );
    let app = Arc::into_inner(app).expect("the senders are done");
    assert!(
        app.stored_ids()
            .await
            .contains(&"evt_after_backup".to_owned())
    );

    let _folder = app.stop_keeping_files().await;
    let restored = puente(
        &["restore", backup_file.to_str().expect("UTF-8")],
        &database,
    );
    assert!(restored.status.success(), "{}", text(&restored.stderr));

    let app = spawn_app_on(Backend::Sqlite(database)).await;
    let stored = app.stored_ids().await;
    let missing: Vec<_> = before_backup
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} events acknowledged before the backup are missing (first {:?}); \
         {during_backup} were acknowledged during it",
        missing.len(),
        before_backup.len(),
        missing.first()
    );
    assert!(
        !stored.contains(&"evt_after_backup".to_owned()),
        "the restore replaced the database"
    );
    app.stop().await;
}

#[test]
fn what_is_not_a_backup_or_not_sqlite_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("puente.db");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database at all, just text").expect("write");

    let restore = puente(&["restore", junk.to_str().expect("UTF-8")], &database);
    assert_eq!(restore.status.code(), Some(2), "{}", text(&restore.stderr));
    assert!(text(&restore.stderr).contains("is not a puente SQLite database"));
    assert!(!database.exists(), "nothing was created");

    let missing = puente(&["backup", "copy.db"], &database);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("does not exist"));

    let on_postgres = Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(["backup", "copy.db"])
        .env_clear()
        .env("PUENTE_DATABASE_URL", "postgres://puente@localhost/puente")
        .output()
        .expect("run puente");
    assert_eq!(on_postgres.status.code(), Some(2));
    assert!(text(&on_postgres.stderr).contains("pg_dump"));
}

/// Run as root (as CI and `sudo puente restore` are), a restore into an
/// empty data folder leaves files its owner, the service's user, can open.
#[test]
fn a_restore_run_as_root_leaves_the_files_to_the_data_folders_owner() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").expect("write");
    if std::os::unix::fs::chown(&probe, Some(4242), Some(4242)).is_err() {
        eprintln!("not root: files cannot change owner here, nothing to check");
        return;
    }
    let source = dir.path().join("source.db");
    puente::store::sqlite::Database::open(&source, std::time::Duration::from_secs(1))
        .expect("a database to back up");
    let backup = dir.path().join("backup.db");
    let made = puente(&["backup", backup.to_str().expect("UTF-8")], &source);
    assert!(made.status.success(), "{}", text(&made.stderr));

    let folder = dir.path().join("service-data");
    std::fs::create_dir(&folder).expect("folder");
    std::os::unix::fs::chown(&folder, Some(4242), Some(4243)).expect("chown as root");
    let database = folder.join("puente.db");
    let restored = puente(&["restore", backup.to_str().expect("UTF-8")], &database);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("listing")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.contains(&database) && files.len() >= 2, "{files:?}");
    for file in files {
        let meta = std::fs::metadata(&file).expect("metadata");
        assert_eq!((meta.uid(), meta.gid()), (4242, 4243), "{}", file.display());
    }
}
