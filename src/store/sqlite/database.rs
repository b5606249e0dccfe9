//! The SQLite file: opening it (pragmas, migrations), its connections.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

/// Numbered migrations, applied in order at start-up; `user_version` records
/// how far a database has come.
pub(super) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_events.sql")),
        M::up(include_str!("migrations/0002_messages.sql")),
        M::up(include_str!("migrations/0003_whatsapp_webhook.sql")),
        M::up(include_str!("migrations/0004_outbox_delivery.sql")),
        M::up(include_str!("migrations/0005_message_attempts.sql")),
        M::up(include_str!("migrations/0006_upgrades.sql")),
        M::up_with_hook(
            include_str!("migrations/0007_checks_without_in_lists.sql"),
            rewrite_in_list_checks,
        ),
        M::up(include_str!("migrations/0008_upgrade_types.sql")),
        M::up(include_str!("migrations/0009_cancellations.sql")),
        M::up(include_str!("migrations/0010_transfers.sql")),
        M::up(include_str!("migrations/0011_instance_indexes.sql")),
        M::up(include_str!("migrations/0012_retention.sql")),
        M::up(include_str!("migrations/0013_dead_letters.sql")),
        M::up(include_str!(
            "migrations/0014_cancellation_confirmation.sql"
        )),
        M::up(include_str!("migrations/0015_move_subscriptions.sql")),
        M::up(include_str!("migrations/0016_diagnostic_reports.sql")),
        M::up(include_str!("migrations/0017_dashboard_spent.sql")),
        M::up(include_str!("migrations/0018_inbound_messages.sql")),
        M::up(include_str!("migrations/0019_replies_acted_on.sql")),
        M::up(include_str!("migrations/0020_reconciliations.sql")),
    ])
}

/// The schema version (`user_version`) this binary migrates to.
pub(super) fn latest_schema() -> i64 {
    // Counting needs a connection: a fresh one has every migration pending.
    // Should even that fail, a newer schema is still refused by the
    // migrations when the service opens the database.
    Connection::open_in_memory()
        .ok()
        .and_then(|fresh| migrations().pending_migrations(&fresh).ok())
        .map_or(i64::MAX, i64::from)
}

/// Each CHECK of migrations 0001, 0002 and 0005 written as an IN list, and
/// the same rule with OR, as the table definitions store them.
const IN_LIST_CHECKS: &[(&str, &str, &str)] = &[
    (
        "events",
        "CHECK (actor_kind IN ('client', 'admin', 'system', 'api'))",
        "CHECK (actor_kind = 'client' OR actor_kind = 'admin' OR actor_kind = 'system' OR actor_kind = 'api')",
    ),
    (
        "events",
        "CHECK (source IN ('clientarea', 'adminarea', 'api', 'cron'))",
        "CHECK (source = 'clientarea' OR source = 'adminarea' OR source = 'api' OR source = 'cron')",
    ),
    (
        "messages",
        "CHECK (subject_kind IN ('client', 'invoice', 'service', 'domain', 'quote'))",
        "CHECK (subject_kind = 'client' OR subject_kind = 'invoice' OR subject_kind = 'service' \
         OR subject_kind = 'domain' OR subject_kind = 'quote')",
    ),
    (
        "messages",
        "CHECK (status IN ('planned', 'skipped', 'sending', 'uncertain',\n                                                        'sent', 'delivered', 'read', 'failed', 'dead'))",
        "CHECK (status = 'planned' OR status = 'skipped' OR status = 'sending' OR status = 'uncertain' \
         OR status = 'sent' OR status = 'delivered' OR status = 'read' OR status = 'failed' OR status = 'dead')",
    ),
    (
        "message_attempts",
        "CHECK (outcome IN ('accepted', 'refused', 'not_sent', 'unknown'))",
        "CHECK (outcome = 'accepted' OR outcome = 'refused' OR outcome = 'not_sent' OR outcome = 'unknown')",
    ),
];

/// Migration 0007: rewrites the stored table definitions (see its SQL file),
/// then bumps the schema version so every connection reads them again.
fn rewrite_in_list_checks(transaction: &rusqlite::Transaction) -> rusqlite_migration::HookResult {
    let version: i64 = transaction.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
    transaction.execute_batch("PRAGMA writable_schema = ON")?;
    for (table, in_list, with_or) in IN_LIST_CHECKS {
        let sql: String = transaction.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get(0),
        )?;
        if !sql.contains(in_list) {
            return Err(rusqlite_migration::HookError::Hook(format!(
                "table {table} does not have the constraint {in_list}"
            )));
        }
        transaction.execute(
            "UPDATE sqlite_schema SET sql = ?2 WHERE type = 'table' AND name = ?1",
            rusqlite::params![table, sql.replace(in_list, with_or)],
        )?;
    }
    transaction.execute_batch(&format!(
        "PRAGMA schema_version = {}; PRAGMA writable_schema = OFF;",
        version + 1
    ))?;
    Ok(())
}

/// Where the database lives, how long to wait for a lock, and how much of
/// the WAL file to write ahead.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    busy_timeout: Duration,
    wal_preallocation: u64,
}

impl Database {
    /// Creates the folder and the file if needed, sets the journal mode and
    /// brings the schema up to date.
    pub fn open(path: &Path, busy_timeout: Duration) -> anyhow::Result<Self> {
        let folder = crate::config::data_dir_of(path);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create the data folder {}", folder.display()))?;
        let database = Self {
            path: path.to_owned(),
            busy_timeout,
            wal_preallocation: 0,
        };
        let mut connection = database.connect(OpenFlags::default())?;
        // WAL persists in the file: readers never block the writer.
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .context("cannot switch the database to WAL mode")?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "the database refused WAL mode (it stays in {mode})"
        );
        migrations()
            .to_latest(&mut connection)
            .with_context(|| format!("cannot migrate the database {}", path.display()))?;
        Ok(database)
    }

    /// Makes the writer fill the WAL file with `bytes` of zeros before its
    /// first commit (see [`Database::preallocate_wal`]).
    pub fn with_wal_preallocation(mut self, bytes: u64) -> Self {
        self.wal_preallocation = bytes;
        self
    }

    /// The file this database lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self, flags: OpenFlags) -> anyhow::Result<Connection> {
        let connection = Connection::open_with_flags(&self.path, flags)
            .with_context(|| format!("cannot open the database {}", self.path.display()))?;
        connection
            .busy_timeout(self.busy_timeout)
            .context("cannot set the busy timeout")?;
        // FULL: a commit is on disk before anyone is told it succeeded.
        connection
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .context("cannot set the connection pragmas")?;
        Ok(connection)
    }

    /// The connection of the writer thread. It checkpoints the WAL itself,
    /// after every ~40 MiB of frames: rarer checkpoints copy each hot page
    /// once instead of once per few commits. The WAL file is cut back to
    /// 64 MiB after a checkpoint so a burst does not keep its size.
    pub(super) fn writer_connection(&self) -> anyhow::Result<Connection> {
        let connection =
            self.connect(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        connection
            .execute_batch(
                "PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864;",
            )
            .context("cannot set the writer's checkpoint pragmas")?;
        self.preallocate_wal(&connection)?;
        Ok(connection)
    }

    /// Writes zeros to the WAL file up to the preallocation size. A commit
    /// that overwrites blocks the file already has is synced without an
    /// ext4 journal commit for a new file size: single-event commits took
    /// ~150 µs less here (0.42 against 0.57 ms). SQLite reads a WAL only up
    /// to the first frame whose salt and checksum do not match its header,
    /// so zeros past the last frame are never taken for frames, as stale
    /// frames of an earlier WAL generation are not.
    fn preallocate_wal(&self, connection: &Connection) -> anyhow::Result<()> {
        if self.wal_preallocation == 0 {
            return Ok(());
        }
        // A write makes SQLite create the WAL and write its header first.
        connection
            .execute(
                "INSERT INTO readiness_probe (id, checked_at_ms) VALUES (1, ?1) \
                 ON CONFLICT (id) DO UPDATE SET checked_at_ms = excluded.checked_at_ms",
                [jiff::Timestamp::now().as_millisecond()],
            )
            .context("cannot write to the database")?;
        let mut wal_path = OsString::from(self.path.as_os_str());
        wal_path.push("-wal");
        let wal_path = PathBuf::from(wal_path);
        let context = || format!("cannot preallocate the WAL file {}", wal_path.display());
        let mut wal = std::fs::OpenOptions::new()
            .append(true)
            .open(&wal_path)
            .with_context(context)?;
        let mut missing = self
            .wal_preallocation
            .saturating_sub(wal.metadata().with_context(context)?.len());
        if missing == 0 {
            return Ok(());
        }
        let zeros = vec![0u8; 1 << 20];
        while missing > 0 {
            let chunk = missing.min(zeros.len() as u64);
            wal.write_all(&zeros[..chunk as usize])
                .with_context(context)?;
            missing -= chunk;
        }
        wal.sync_all().with_context(context)
    }

    /// Takes the lock a running service holds on this database (see
    /// [`ServiceLock`]); `None` when another process (or another store in
    /// this one) holds it.
    pub fn try_lock(&self) -> anyhow::Result<Option<ServiceLock>> {
        ServiceLock::try_take(&self.path)
    }

    /// A read-only connection for queries (admin API).
    pub fn reader(&self) -> anyhow::Result<Connection> {
        self.connect(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    }
}

/// The lock the service holds on its database while it runs: an advisory
/// `flock` on `<database>.lock`, released when the writer stops or the
/// process dies (even by SIGKILL). `puente restore` refuses while it is
/// held, and a second service on the same file refuses to start, where it
/// would otherwise carry out the same work twice. SQLite's own locks are
/// on the database file itself; a separate file keeps this one from
/// interfering with them (closing any descriptor of the database would
/// drop the process's POSIX locks on it).
#[derive(Debug)]
pub struct ServiceLock {
    _file: std::fs::File,
}

impl ServiceLock {
    /// The lock file of `database`.
    pub fn path_of(database: &Path) -> PathBuf {
        let mut path = OsString::from(database.as_os_str());
        path.push(".lock");
        PathBuf::from(path)
    }

    /// Takes the lock of `database`; `None` when it is held.
    pub fn try_take(database: &Path) -> anyhow::Result<Option<Self>> {
        let path = Self::path_of(database);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}

/// Gives the database's files (and its lock file) to the owner of its
/// folder where they differ, as files the service made itself would be: a
/// restore run as root must not leave a database that the service, under
/// its own user, cannot open. Does nothing where the owners agree or where
/// changing them is not allowed (anyone but root).
pub(super) fn match_folder_owner(database: &Path) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(folder) = std::fs::metadata(crate::config::data_dir_of(database)) else {
        return;
    };
    let beside = |suffix: &str| {
        let mut path = OsString::from(database.as_os_str());
        path.push(suffix);
        PathBuf::from(path)
    };
    for path in [
        database.to_owned(),
        beside("-wal"),
        beside("-shm"),
        ServiceLock::path_of(database),
    ] {
        if let Ok(file) = std::fs::metadata(&path)
            && (file.uid(), file.gid()) != (folder.uid(), folder.gid())
        {
            // Refused unless root; then the files stay whose they were.
            let _ = std::os::unix::fs::chown(&path, Some(folder.uid()), Some(folder.gid()));
        }
    }
}
