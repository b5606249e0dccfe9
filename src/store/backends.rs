//! The backends, and the one that the configuration names.

use std::sync::Arc;

use super::Store;
use anyhow::Context as _;

use super::postgres::Postgres;
use super::sqlite::{Database, Sqlite};
use crate::config::Config;
use crate::metrics::Metrics;

/// Opens the store the configuration names, bringing its schema up to
/// date: PostgreSQL at `PUENTE_DATABASE_URL` when it is set, else SQLite
/// at `PUENTE_DATABASE`.
pub fn open(config: &Config, metrics: Arc<Metrics>) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &config.database_url {
        let store = Postgres::connect(url.expose(), config.database_busy_timeout, metrics)
            .with_context(|| format!("cannot open the database at {url}"))?;
        return Ok(Arc::new(store));
    }
    let database = Database::open(&config.database, config.database_busy_timeout)?
        .with_wal_preallocation(config.database_wal_preallocate_mib << 20);
    Ok(Arc::new(Sqlite::open(database, metrics)?))
}
