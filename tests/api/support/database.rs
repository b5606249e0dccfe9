//! The backend a test app stores into, and the tests' own look at its
//! tables.
//!
//! `PUENTE_TEST_BACKEND=postgres` runs every app on PostgreSQL: a fresh
//! database per app on the server of `PUENTE_TEST_DATABASE_URL`, which
//! `scripts/with-postgres.sh` starts (`make test` runs the suite once per
//! backend). Without it, apps run on a SQLite file in their folder.
//!
//! Tests read and change tables with SQLite's `?1` placeholders; on
//! PostgreSQL they become `$1`.

use std::path::Path;

/// Where a test app keeps its data.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(std::path::PathBuf),
    /// The URL of the app's own database.
    Postgres(String),
}

impl Backend {
    /// The backend of this run, for an app whose folder is `dir`.
    pub async fn for_app(dir: &Path) -> Self {
        if !on_postgres() {
            return Self::Sqlite(dir.join("puente.db"));
        }
        assert!(
            std::env::var("PUENTE_TEST_DATABASE_URL").is_ok(),
            "PUENTE_TEST_BACKEND=postgres needs PUENTE_TEST_DATABASE_URL \
             (run through scripts/with-postgres.sh, as `make test` does)"
        );
        Self::new_postgres().await
    }

    /// A new, empty PostgreSQL database of its own on the test server.
    pub async fn new_postgres() -> Self {
        let server = std::env::var("PUENTE_TEST_DATABASE_URL")
            .expect("PUENTE_TEST_DATABASE_URL (scripts/with-postgres.sh)");
        let name = format!("test_{}", ulid::Ulid::generate().to_string().to_lowercase());
        connect(&server)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("a database for the test");
        Self::Postgres(database_url(&server, &name))
    }

    /// The settings that point the service at it.
    pub fn settings(&self) -> Vec<(String, String)> {
        match self {
            Self::Sqlite(path) => vec![(
                "PUENTE_DATABASE".into(),
                path.to_string_lossy().into_owned(),
            )],
            Self::Postgres(url) => vec![("PUENTE_DATABASE_URL".into(), url.clone())],
        }
    }
}

/// Whether this run stores into PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("PUENTE_TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// `server`'s URL with `database` as its database name.
fn database_url(server: &str, database: &str) -> String {
    let (base, query) = server.split_once('?').unwrap_or((server, ""));
    let at_host = base.rfind('/').filter(|at| *at > "postgres://".len());
    let base = match at_host {
        Some(at) => &base[..at],
        None => base,
    };
    if query.is_empty() {
        format!("{base}/{database}")
    } else {
        format!("{base}/{database}?{query}")
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A value bound to a test's statement.
#[derive(Debug, Clone)]
pub enum SqlValue {
    Text(String),
    Integer(i64),
    Bytes(Vec<u8>),
}

impl From<&str> for SqlValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<i64> for SqlValue {
    fn from(number: i64) -> Self {
        Self::Integer(number)
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Self::Text(text) => text.to_sql(),
            Self::Integer(number) => number.to_sql(),
            Self::Bytes(bytes) => bytes.to_sql(),
        }
    }
}

/// A column value both backends read into the same Rust type.
pub trait Column:
    rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> + Send
{
}

impl<T> Column for T where
    T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> + Send
{
}

/// The write lock of the app's database, held by the test until
/// [`WriteLock::release`]: the service's writes wait for it, then fail.
pub enum WriteLock {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

impl WriteLock {
    pub async fn release(self) {
        match self {
            Self::Sqlite(connection) => connection
                .execute_batch("ROLLBACK")
                .expect("release the lock"),
            Self::Postgres(client) => client
                .batch_execute("ROLLBACK")
                .await
                .expect("release the lock"),
        }
    }
}

/// SQLite's `?1` placeholders as PostgreSQL's `$1`.
fn dialect(sql: &str) -> String {
    sql.replace('?', "$")
}

impl Backend {
    /// Takes the database's write lock: SQLite's (`BEGIN IMMEDIATE`), or on
    /// PostgreSQL the tables every write of ingest and the probe touch.
    pub async fn hold_write_lock(&self) -> WriteLock {
        match self {
            Self::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).expect("open database");
                connection
                    .execute_batch("BEGIN IMMEDIATE")
                    .expect("take the write lock");
                WriteLock::Sqlite(connection)
            }
            Self::Postgres(url) => {
                let client = connect(url).await;
                client
                    .batch_execute("BEGIN; LOCK TABLE events, readiness_probe IN EXCLUSIVE MODE")
                    .await
                    .expect("take the write lock");
                WriteLock::Postgres(client)
            }
        }
    }

    /// Runs `sql` with `values`; how many rows it changed.
    pub async fn execute(&self, sql: &str, values: &[SqlValue]) -> u64 {
        match self {
            Self::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).expect("open database");
                let changed = connection
                    .execute(sql, rusqlite::params_from_iter(values))
                    .unwrap_or_else(|error| panic!("{sql}: {error}"));
                u64::try_from(changed).expect("a count")
            }
            Self::Postgres(url) => {
                let client = connect(url).await;
                let texts: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = values
                    .iter()
                    .map(
                        |value| -> Box<dyn tokio_postgres::types::ToSql + Sync + Send> {
                            match value {
                                SqlValue::Text(text) => Box::new(text.clone()),
                                SqlValue::Integer(number) => Box::new(*number),
                                SqlValue::Bytes(bytes) => Box::new(bytes.clone()),
                            }
                        },
                    )
                    .collect();
                let parameters: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = texts
                    .iter()
                    .map(|value| value.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                client
                    .execute(&dialect(sql), &parameters)
                    .await
                    .unwrap_or_else(|error| panic!("{sql}: {error}"))
            }
        }
    }

    /// Runs several statements, without parameters.
    pub async fn batch(&self, sql: &str) {
        match self {
            Self::Sqlite(path) => rusqlite::Connection::open(path)
                .expect("open database")
                .execute_batch(sql)
                .unwrap_or_else(|error| panic!("{sql}: {error}")),
            Self::Postgres(url) => connect(url)
                .await
                .batch_execute(sql)
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}")),
        }
    }

    /// Every row `sql` selects, each read by `read` from its columns.
    async fn rows<T>(
        &self,
        sql: &str,
        read_sqlite: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        read_postgres: impl Fn(&tokio_postgres::Row) -> T,
    ) -> Vec<T> {
        match self {
            Self::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).expect("open database");
                let mut statement = connection
                    .prepare(sql)
                    .unwrap_or_else(|error| panic!("{sql}: {error}"));
                statement
                    .query_map([], |row| read_sqlite(row))
                    .expect("rows")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Self::Postgres(url) => connect(url)
                .await
                .query(&dialect(sql), &[])
                .await
                .unwrap_or_else(|error| panic!("{sql}: {error}"))
                .iter()
                .map(read_postgres)
                .collect(),
        }
    }

    /// The first column of every row `sql` selects.
    pub async fn column<A: Column>(&self, sql: &str) -> Vec<A> {
        self.rows(sql, |row| row.get(0), |row| row.get(0)).await
    }

    /// The first column of the one row `sql` selects.
    pub async fn one<A: Column>(&self, sql: &str) -> A {
        let mut values = self.column(sql).await;
        assert_eq!(values.len(), 1, "{sql} selects one row");
        values.remove(0)
    }

    /// The first two columns of every row `sql` selects.
    pub async fn pairs<A: Column, B: Column>(&self, sql: &str) -> Vec<(A, B)> {
        self.rows(
            sql,
            |row| Ok((row.get(0)?, row.get(1)?)),
            |row| (row.get(0), row.get(1)),
        )
        .await
    }

    /// The first four columns of every row `sql` selects.
    pub async fn quads<A: Column, B: Column, C: Column, D: Column>(
        &self,
        sql: &str,
    ) -> Vec<(A, B, C, D)> {
        self.rows(
            sql,
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            |row| (row.get(0), row.get(1), row.get(2), row.get(3)),
        )
        .await
    }

    /// The first three columns of every row `sql` selects.
    pub async fn triples<A: Column, B: Column, C: Column>(&self, sql: &str) -> Vec<(A, B, C)> {
        self.rows(
            sql,
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            |row| (row.get(0), row.get(1), row.get(2)),
        )
        .await
    }
}
