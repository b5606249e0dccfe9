//! The connections to PostgreSQL: a pool whose connections are driven by
//! one thread of the store's own, and the schema brought up to date under a
//! lock, so replicas can start together.

use std::time::Duration;

use anyhow::Context as _;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::BoxFuture;
use tokio_postgres::Socket;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Numbered migrations, applied in order at start-up under
/// [`MIGRATION_LOCK`]; `puente_schema` records each one applied.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_schema.sql")),
    (2, include_str!("migrations/0002_inbound_messages.sql")),
    (3, include_str!("migrations/0003_replies_acted_on.sql")),
    (4, include_str!("migrations/0004_reconciliations.sql")),
];

/// The transaction-scoped advisory lock the migrations run under (a
/// session lock would not survive a pooler in transaction mode).
const MIGRATION_LOCK: i64 = 0x7075_656e_7465_0001;

/// Connections the pool keeps at most: ingest holds one, each worker one at
/// a time, reads the rest.
const POOL_SIZE: usize = 16;

/// How long a call waits for a free connection, or for a new one.
const WAIT: Duration = Duration::from_secs(5);

/// The thread that drives every connection of the store, whichever runtime
/// asks: actix runs one runtime per worker thread, and a connection driven
/// by one of those would stall while that thread is busy, and die with it.
pub(super) struct IoThread {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl IoThread {
    pub(super) fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the PostgreSQL runtime")?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("puente-postgres".to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .context("cannot start the PostgreSQL thread")?;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub(super) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A connection to PostgreSQL, over TLS when the server and the URL's
/// `sslmode` say so.
pub(super) type PgConnection =
    tokio_postgres::Connection<Socket, <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream>;

/// TLS for connections over TCP, checked against the system's root
/// certificates. The URL's `sslmode` decides: `prefer` (PostgreSQL's
/// default: TLS when the server offers it), `require`, or `disable`. A Unix
/// socket never uses it.
pub(crate) fn tls() -> anyhow::Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("cannot set up TLS for PostgreSQL")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Opens each connection and drives it on the [`IoThread`].
struct OnIoThread {
    handle: tokio::runtime::Handle,
    tls: MakeRustlsConnect,
}

impl deadpool_postgres::Connect for OnIoThread {
    fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> BoxFuture<
        '_,
        Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error>,
    > {
        let config = config.clone();
        let (handle, tls) = (self.handle.clone(), self.tls.clone());
        Box::pin(async move {
            let (client, connection) = connect(&config, &tls).await?;
            let driver = handle.spawn(async move {
                if let Err(error) = connection.await {
                    tracing::warn!(%error, "a PostgreSQL connection ended");
                }
            });
            Ok((client, driver))
        })
    }
}

/// One connection (over TLS as [`tls`] says).
pub(super) async fn connect(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
) -> Result<(tokio_postgres::Client, PgConnection), tokio_postgres::Error> {
    config.connect(tls.clone()).await
}

/// The connection settings of a `postgres://` URL (several hosts and
/// `target_session_attrs=read-write` included), with a connect timeout.
pub(super) fn parse_url(
    url: &str,
    lock_timeout: Duration,
) -> anyhow::Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|error| anyhow::anyhow!("PUENTE_DATABASE_URL is not a PostgreSQL URL: {error}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(WAIT);
    }
    if config.get_application_name().is_none() {
        config.application_name("puente");
    }
    let options = config.get_options().unwrap_or_default().to_owned();
    config.options(format!(
        "{options} -c lock_timeout={}",
        lock_timeout.as_millis()
    ));
    Ok(config)
}

/// The pool of connections, each driven on `io`.
pub(super) fn pool(
    config: tokio_postgres::Config,
    io: &IoThread,
    tls: MakeRustlsConnect,
) -> anyhow::Result<Pool> {
    let manager = Manager::from_connect(
        config,
        OnIoThread {
            handle: io.handle().clone(),
            tls,
        },
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .wait_timeout(Some(WAIT))
        .create_timeout(Some(WAIT))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .context("cannot build the PostgreSQL pool")
}

/// Brings the schema up to date, in one transaction under an advisory
/// lock: replicas starting together apply each migration once. Refuses a
/// schema newer than this binary knows.
pub(super) async fn migrate(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool
        .get()
        .await
        .context("cannot connect to PostgreSQL (PUENTE_DATABASE_URL)")?;
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .context("cannot take the migration lock")?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS puente_schema (
                 version       BIGINT PRIMARY KEY,
                 applied_at_ms BIGINT NOT NULL
             )",
        )
        .await
        .context("cannot create the schema's version table")?;
    let current: i64 = transaction
        .query_one("SELECT coalesce(max(version), 0) FROM puente_schema", &[])
        .await?
        .get(0);
    let known = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    anyhow::ensure!(
        current <= known,
        "the database's schema is version {current}, newer than this puente knows \
         ({known}): run the newer puente, or restore a backup made for this one"
    );
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
        transaction
            .batch_execute(sql)
            .await
            .with_context(|| format!("PostgreSQL migration {version} failed"))?;
        transaction
            .execute(
                "INSERT INTO puente_schema (version, applied_at_ms) VALUES ($1, $2)",
                &[version, &jiff::Timestamp::now().as_millisecond()],
            )
            .await?;
    }
    transaction.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_set_up_and_the_url_keeps_its_sslmode_and_gets_a_lock_timeout() {
        assert!(tls().is_ok());
        let config = parse_url(
            "postgres://puente:secret@db1.internal,db2.internal/puente?sslmode=require&target_session_attrs=read-write",
            Duration::from_millis(750),
        )
        .expect("a URL");
        assert_eq!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(config.get_hosts().len(), 2);
        assert!(
            config
                .get_options()
                .is_some_and(|options| options.contains("lock_timeout=750")),
            "{:?}",
            config.get_options()
        );
        assert!(parse_url("mysql://db/puente", Duration::from_secs(1)).is_err());
    }
}
