//! `puente migrate-store`: an install's SQLite file copied into PostgreSQL,
//! every table row for row with its ids, then checked.
//!
//! The copy is one PostgreSQL transaction: it lands whole or not at all.
//! A row whose key is already there is left as it is, so running the copy
//! again changes nothing; the check then finds every source row in the
//! target under the same key (events also under the same webhook-id), or
//! the command fails and says where. The columns copied are the target's
//! (PostgreSQL's schema names each one as SQLite does), less the leases,
//! which start free.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::future::try_join_all;
use rusqlite::OpenFlags;
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;

use super::postgres::Postgres;
use super::sqlite::Database;

/// Each table, in an order its references allow, with the column that
/// identifies a row.
const TABLES: [(&str, &str); 13] = [
    ("events", "seq"),
    ("messages", "id"),
    ("message_attempts", "id"),
    ("whatsapp_notifications", "body_sha256"),
    ("manual_upgrade_requests", "id"),
    ("upgrade_applications", "id"),
    ("cancellations", "id"),
    ("transfers", "id"),
    ("transfer_steps", "id"),
    ("diagnostic_reports", "instance"),
    ("dashboard_spent", "token"),
    ("inbound_messages", "id"),
    ("reconciliations", "instance"),
];

/// Rows sent to PostgreSQL at once (its pipeline; one transaction for all).
const CHUNK: usize = 500;

/// What the copy did with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    /// Rows in the SQLite file.
    pub source: u64,
    /// Rows this run added.
    pub added: u64,
    /// Source rows the target holds after the copy (the check).
    pub found: u64,
}

/// How a column is read from SQLite and bound for PostgreSQL.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Integer,
    Text,
    Bytes,
    /// SQLite's 0/1.
    Boolean,
    /// SQLite's decimal text.
    Numeric,
}

/// One value on its way.
#[derive(Debug)]
enum Value {
    Integer(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Boolean(Option<bool>),
    Numeric(Option<Decimal>),
}

impl Value {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Self::Integer(value) => value,
            Self::Text(value) => value,
            Self::Bytes(value) => value,
            Self::Boolean(value) => value,
            Self::Numeric(value) => value,
        }
    }
}

/// Copies the SQLite file `from` into the PostgreSQL database `to` and
/// checks the copy; one [`Copied`] per table. Fails (and copies nothing)
/// when a row cannot be written, or when the target holds other rows under
/// the keys of the source's.
pub fn copy(from: &Path, to: &str) -> anyhow::Result<Vec<Copied>> {
    anyhow::ensure!(from.exists(), "{} does not exist", from.display());
    // The file's schema brought up to this version's, as `serve` would.
    Database::open(from, Duration::from_secs(5))?;
    Postgres::migrate_schema(to)?;
    let source = rusqlite::Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", from.display()))?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?
        .block_on(copy_into(source, to))
}

async fn copy_into(source: rusqlite::Connection, to: &str) -> anyhow::Result<Vec<Copied>> {
    let (mut client, connection) = tokio_postgres::connect(to, super::postgres::tls()?)
        .await
        .context("cannot connect to PostgreSQL")?;
    let driver = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "the PostgreSQL connection ended");
        }
    });
    // One snapshot of the whole file, whatever a running service writes.
    source
        .execute_batch("BEGIN")
        .context("cannot read the SQLite file")?;
    let tx = client.transaction().await?;
    let mut report = Vec::with_capacity(TABLES.len());
    for (table, key) in TABLES {
        let columns = target_columns(&tx, table).await?;
        report.push(copy_table(&source, &tx, table, key, &columns).await?);
    }
    for (table, key) in TABLES {
        if let Some(sequence) = identity_sequence(&tx, table, key).await? {
            tx.execute(
                &format!(
                    "SELECT setval(CAST($1::text AS regclass), greatest((SELECT max({key}) FROM {table}), 1))"
                ),
                &[&sequence],
            )
            .await?;
        }
    }
    let short: Vec<&Copied> = report
        .iter()
        .filter(|copied| copied.found != copied.source)
        .collect();
    anyhow::ensure!(
        short.is_empty(),
        "the target holds other rows under the source's keys (nothing was copied): {}",
        short
            .iter()
            .map(|copied| format!(
                "{}: {} of {} found",
                copied.table, copied.found, copied.source
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    tx.commit().await?;
    driver.abort();
    Ok(report)
}

/// The target table's columns and how each is copied, in order; the
/// leases are left out.
async fn target_columns(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
) -> anyhow::Result<Vec<(String, Kind)>> {
    let rows = tx
        .query(
            "SELECT column_name, data_type FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = $1
                AND column_name NOT LIKE 'lease\\_%'
              ORDER BY ordinal_position",
            &[&table],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let (name, data_type): (String, String) = (row.get(0), row.get(1));
            let kind = match data_type.as_str() {
                "bigint" | "integer" => Kind::Integer,
                "text" => Kind::Text,
                "bytea" => Kind::Bytes,
                "boolean" => Kind::Boolean,
                "numeric" => Kind::Numeric,
                other => anyhow::bail!("{table}.{name} has a type the copy does not know: {other}"),
            };
            Ok((name, kind))
        })
        .collect()
}

/// Copies one table and checks it.
async fn copy_table(
    source: &rusqlite::Connection,
    tx: &tokio_postgres::Transaction<'_>,
    table: &'static str,
    key: &str,
    columns: &[(String, Kind)],
) -> anyhow::Result<Copied> {
    let names = columns
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = (1..=columns.len())
        .map(|at| format!("${at}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} ({names}) OVERRIDING SYSTEM VALUE VALUES ({placeholders})
             ON CONFLICT ({key}) DO NOTHING"
        ))
        .await?;
    let mut read = source
        .prepare(&format!("SELECT {names} FROM {table} ORDER BY {key}"))
        .with_context(|| format!("cannot read {table} from the SQLite file"))?;
    let mut rows = read.query([])?;
    let key_at = columns
        .iter()
        .position(|(name, _)| name == key)
        .context("the key is a column")?;
    let id_at = columns.iter().position(|(name, _)| name == "id");
    let mut keys: Vec<Value> = Vec::new();
    let mut event_ids: Vec<String> = Vec::new();
    let (mut source_rows, mut added) = (0_u64, 0_u64);
    let mut chunk: Vec<Vec<Value>> = Vec::with_capacity(CHUNK);
    loop {
        let row = rows.next()?;
        if let Some(row) = row {
            let values = columns
                .iter()
                .enumerate()
                .map(|(at, (name, kind))| read_value(row, at, *kind, table, name))
                .collect::<anyhow::Result<Vec<_>>>()?;
            keys.push(read_value(row, key_at, columns[key_at].1, table, key)?);
            if let (true, Some(id_at)) = (table == "events", id_at) {
                event_ids.push(row.get(id_at)?);
            }
            chunk.push(values);
            source_rows += 1;
        }
        if chunk.len() == CHUNK || (row.is_none() && !chunk.is_empty()) {
            let sent = chunk.iter().map(|values| {
                let parameters: Vec<&(dyn ToSql + Sync)> = values.iter().map(Value::sql).collect();
                let insert = &insert;
                async move { tx.execute(insert, &parameters).await }
            });
            added += try_join_all(sent)
                .await
                .with_context(|| format!("cannot copy {table}"))?
                .iter()
                .sum::<u64>();
            chunk.clear();
        }
        if row.is_none() {
            break;
        }
    }
    let found = found(tx, table, key, keys, &event_ids).await?;
    Ok(Copied {
        table,
        source: source_rows,
        added,
        found,
    })
}

fn read_value(
    row: &rusqlite::Row<'_>,
    at: usize,
    kind: Kind,
    table: &str,
    column: &str,
) -> anyhow::Result<Value> {
    let context = || format!("{table}.{column}");
    Ok(match kind {
        Kind::Integer => Value::Integer(row.get(at).with_context(context)?),
        Kind::Text => Value::Text(row.get(at).with_context(context)?),
        Kind::Bytes => Value::Bytes(row.get(at).with_context(context)?),
        Kind::Boolean => Value::Boolean(
            row.get::<_, Option<i64>>(at)
                .with_context(context)?
                .map(|flag| flag != 0),
        ),
        Kind::Numeric => Value::Numeric(
            row.get::<_, Option<String>>(at)
                .with_context(context)?
                .map(|text| text.parse::<Decimal>())
                .transpose()
                .with_context(|| {
                    format!("{table}.{column} holds an amount that is not a number")
                })?,
        ),
    })
}

/// How many of the source's keys the target holds (for events, the same
/// `seq` with the same webhook-id).
async fn found(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    key: &str,
    keys: Vec<Value>,
    event_ids: &[String],
) -> anyhow::Result<u64> {
    let row = if table == "events" {
        let seqs: Vec<i64> = keys
            .into_iter()
            .filter_map(|key| match key {
                Value::Integer(seq) => seq,
                _ => None,
            })
            .collect();
        tx.query_one(
            "SELECT count(*) FROM events e
               JOIN unnest($1::bigint[], $2::text[]) AS source (seq, id)
                 ON e.seq = source.seq AND e.id = source.id",
            &[&seqs, &event_ids],
        )
        .await?
    } else {
        match keys.first() {
            None => return Ok(0),
            Some(Value::Integer(_)) => {
                let keys: Vec<Option<i64>> = keys
                    .into_iter()
                    .map(|key| match key {
                        Value::Integer(value) => value,
                        _ => None,
                    })
                    .collect();
                tx.query_one(
                    &format!("SELECT count(*) FROM {table} WHERE {key} = ANY($1)"),
                    &[&keys],
                )
                .await?
            }
            Some(Value::Bytes(_)) => {
                let keys: Vec<Option<Vec<u8>>> = keys
                    .into_iter()
                    .map(|key| match key {
                        Value::Bytes(value) => value,
                        _ => None,
                    })
                    .collect();
                tx.query_one(
                    &format!("SELECT count(*) FROM {table} WHERE {key} = ANY($1)"),
                    &[&keys],
                )
                .await?
            }
            Some(_) => {
                let keys: Vec<Option<String>> = keys
                    .into_iter()
                    .map(|key| match key {
                        Value::Text(value) => value,
                        _ => None,
                    })
                    .collect();
                tx.query_one(
                    &format!("SELECT count(*) FROM {table} WHERE {key} = ANY($1)"),
                    &[&keys],
                )
                .await?
            }
        }
    };
    let count: i64 = row.get(0);
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The sequence behind `table.key` when it is an identity.
async fn identity_sequence(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    key: &str,
) -> anyhow::Result<Option<String>> {
    let row = tx
        .query_one("SELECT pg_get_serial_sequence($1, $2)", &[&table, &key])
        .await?;
    Ok(row.get(0))
}
