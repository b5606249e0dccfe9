//! `puente backup` and `puente restore`: SQLite's online backup API, from
//! the live database into a file, and from such a file back.
//!
//! A backup copies every page in one step, inside one read transaction: in
//! WAL mode that neither waits for the writer nor makes it wait, and the
//! copy is the database as of one commit, never a mix of two. The copy is
//! written beside its destination under a temporary name, checked, synced
//! and only then linked into place, so a file at the destination is always
//! a whole backup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::database::{ServiceLock, latest_schema, match_folder_owner};

/// How long to wait between tries while SQLite is busy, and how many
/// tries before giving up; the copy itself takes every page in one step.
const BUSY_PAUSE: Duration = Duration::from_millis(50);
const BUSY_TRIES: u32 = 200;

/// What a backup file holds, read when it is made and before it is
/// restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The schema version (migrations applied).
    pub schema: i64,
    pub events: i64,
    pub messages: i64,
    pub bytes: u64,
}

/// Why a backup or restore was refused before anything changed; the CLI
/// exits 2 with it.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{0} already exists; choose a new file")]
    Exists(PathBuf),
    #[error("{} is not a puente SQLite database: {reason}", path.display())]
    NotADatabase { path: PathBuf, reason: String },
    #[error(
        "{} has schema {found}, newer than this puente knows ({known}); restore it with the version that made it",
        path.display()
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the service is running on {} (it holds {}); stop it first",
        database.display(),
        ServiceLock::path_of(database).display()
    )]
    Held { database: PathBuf },
}

/// A backup or restore that was refused, or that failed on the way.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Copies the database at `database` into the new file `to`, while the
/// service may be running.
pub fn backup(database: &Path, to: &Path) -> Result<Contents, Error> {
    if !database.is_file() {
        return Err(Refused::Missing(database.to_owned()).into());
    }
    if to.exists() {
        return Err(Refused::Exists(to.to_owned()).into());
    }
    let source = open_read_only(database)?;
    let staged = staged_path(to);
    let made = (|| -> anyhow::Result<Contents> {
        {
            let mut copy = Connection::open(&staged)
                .with_context(|| format!("cannot create {}", staged.display()))?;
            copy_all(&source, &mut copy).context("cannot copy the database")?;
            // One self-contained file: no -wal beside it to forget.
            copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
                .context("cannot take the copy out of WAL mode")?;
        }
        let contents = inspect(&staged).map_err(|refused| anyhow::anyhow!("{refused}"))?;
        std::fs::File::open(&staged)
            .and_then(|file| file.sync_all())
            .with_context(|| format!("cannot sync {}", staged.display()))?;
        // A link, unlike a rename, never replaces a file that appeared
        // at the destination meanwhile.
        std::fs::hard_link(&staged, to)
            .with_context(|| format!("cannot create {}", to.display()))?;
        sync_folder(to)?;
        Ok(contents)
    })();
    let _ = std::fs::remove_file(&staged);
    Ok(made?)
}

/// Puts the backup `from` back as the database at `database` (created if
/// missing), refused while a service holds it. The files it leaves belong
/// to the data folder's owner, as the service's would. The service migrates
/// a backup of an older version when it starts.
pub fn restore(from: &Path, database: &Path) -> Result<Contents, Error> {
    if !from.is_file() {
        return Err(Refused::Missing(from.to_owned()).into());
    }
    let contents = inspect(from)?;
    let folder = crate::config::data_dir_of(database);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create the data folder {}", folder.display()))?;
    // Held until the copy is done: a service started meanwhile refuses.
    let _lock = ServiceLock::try_take(database)?.ok_or_else(|| Refused::Held {
        database: database.to_owned(),
    })?;
    let source = open_read_only(from)?;
    let mut target = Connection::open(database)
        .with_context(|| format!("cannot open {}", database.display()))?;
    copy_all(&source, &mut target).context("cannot copy the backup into the database")?;
    target
        .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .context("cannot put the database back in WAL mode")?;
    drop(target);
    match_folder_owner(database);
    sync_folder(database)?;
    Ok(contents)
}

/// Reads what `path` holds, refusing a file that is not a whole puente
/// database this version can open.
pub fn inspect(path: &Path) -> Result<Contents, Refused> {
    let not_a_database = |reason: String| Refused::NotADatabase {
        path: path.to_owned(),
        reason,
    };
    let connection = open_read_only(path).map_err(|error| not_a_database(format!("{error:#}")))?;
    let read = || -> rusqlite::Result<(String, i64, i64, i64)> {
        let check: String = connection.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        let schema: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let count = |table: &str| {
            connection.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get::<_, i64>(0)
            })
        };
        Ok((check, schema, count("events")?, count("messages")?))
    };
    let (check, schema, events, messages) =
        read().map_err(|error| not_a_database(error.to_string()))?;
    if check != "ok" {
        return Err(not_a_database(format!("its integrity check says {check}")));
    }
    let known = latest_schema();
    if schema > known {
        return Err(Refused::Newer {
            path: path.to_owned(),
            found: schema,
            known,
        });
    }
    let bytes = std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0);
    Ok(Contents {
        schema,
        events,
        messages,
        bytes,
    })
}

/// Copies every page of `source` into `target` in one step (one read
/// transaction of the source), waiting while either is busy.
fn copy_all(source: &Connection, target: &mut Connection) -> anyhow::Result<()> {
    let backup = Backup::new(source, target)?;
    for _ in 0..BUSY_TRIES {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            // Busy or locked (More cannot follow a step of every page).
            _ => std::thread::sleep(BUSY_PAUSE),
        }
    }
    anyhow::bail!(
        "the database stayed busy for {} s",
        (BUSY_PAUSE * BUSY_TRIES).as_secs()
    )
}

fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", path.display()))?;
    connection
        .busy_timeout(Duration::from_secs(5))
        .context("cannot set the busy timeout")?;
    Ok(connection)
}

/// `.<name>.<ulid>.partial` beside `to`.
fn staged_path(to: &Path) -> PathBuf {
    let name = to
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    to.with_file_name(format!(".{name}.{}.partial", ulid::Ulid::generate()))
}

/// Makes a new name in `path`'s folder durable.
fn sync_folder(path: &Path) -> anyhow::Result<()> {
    let folder = crate::config::data_dir_of(path);
    std::fs::File::open(&folder)
        .and_then(|folder| folder.sync_all())
        .with_context(|| format!("cannot sync the folder {}", folder.display()))
}
