//! SQLite storage: one writer thread with group commit, short-lived readers.

mod delivery;
pub mod events;
pub mod messages;
pub mod upgrades;
pub mod whatsapp;
mod writer;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

pub use writer::{Inserted, NewEvent, StoreError, Writer, WriterThread};

/// Numbered migrations, applied in order at start-up; `user_version` records
/// how far a database has come.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_events.sql")),
        M::up(include_str!("migrations/0002_messages.sql")),
        M::up(include_str!("migrations/0003_whatsapp_webhook.sql")),
        M::up(include_str!("migrations/0004_outbox_delivery.sql")),
        M::up(include_str!("migrations/0005_message_attempts.sql")),
        M::up(include_str!("migrations/0006_upgrades.sql")),
    ])
}

/// `WHERE` conditions with numbered parameters, for the admin lists.
#[derive(Default)]
struct Filter {
    conditions: Vec<String>,
    values: Vec<Box<dyn rusqlite::ToSql>>,
}

impl Filter {
    /// Adds `column op ?N` with its value.
    fn push(&mut self, column_and_operator: &str, value: impl rusqlite::ToSql + 'static) {
        self.values.push(Box::new(value));
        self.conditions
            .push(format!("{column_and_operator} ?{}", self.values.len()));
    }

    /// The `WHERE` clause (empty when unfiltered), the parameter number of
    /// `limit`, and every value in order.
    fn finish(mut self, limit: u32) -> (String, usize, Vec<Box<dyn rusqlite::ToSql>>) {
        self.values.push(Box::new(limit));
        let clause = if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        };
        (clause, self.values.len(), self.values)
    }
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
    fn writer_connection(&self) -> anyhow::Result<Connection> {
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

    /// A read-only connection for queries (admin API).
    pub fn reader(&self) -> anyhow::Result<Connection> {
        self.connect(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(version, 6);
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
