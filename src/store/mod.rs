//! SQLite storage: one writer thread with group commit, short-lived readers.

mod delivery;
pub mod events;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

pub use writer::{Inserted, NewEvent, StoreError, Writer, WriterThread};

/// Numbered migrations, applied in order at start-up; `user_version` records
/// how far a database has come.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(include_str!("migrations/0001_events.sql"))])
}

/// Where the database lives and how long to wait for a lock.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    busy_timeout: Duration,
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
        Ok(connection)
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
        assert_eq!(version, 1);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
