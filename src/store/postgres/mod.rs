//! The PostgreSQL backend: several replicas may share one database. Each
//! file holds the statements of the rule named like it in `store/`, beside
//! SQLite's file of the same name in `store/sqlite/`.
//!
//! Conventions, so that the two backends read alike:
//! - a function has the name, the arguments and the doc of its SQLite twin,
//!   and is `async`; it reads through `&impl GenericClient` (a pooled
//!   client or a transaction) and writes through a [`tx::Tx`], calling
//!   `tx.wake(Work::…)` where its twin does;
//! - placeholders are `$1`, `$2`…; integers bind as `i64` (WHMCS ids with
//!   `sql_integer`), booleans as `bool`, amounts as `Decimal`;
//! - every statement returns [`sql::PgResult`].

mod cancellations;
mod connection;
mod dashboard;
mod diagnostics;
mod events;
mod listener;
mod messages;
mod plan;
mod reconcile;
mod replicas;
mod retention;
mod sql;
mod store;
mod transfers;
mod tx;
mod upgrades;
mod whatsapp;
mod writer;

pub(crate) use connection::tls;
pub use store::Postgres;
