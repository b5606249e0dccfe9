//! One integration binary: each module is one capability of the service.

// Tests read metrics, which are floats; no money is computed here.
#![allow(clippy::disallowed_types)]

mod admin;
mod alerts;
mod backup;
mod cancellations;
mod cli;
mod dashboard;
mod decisions;
mod health;
mod hooks;
mod instances;
mod meta_schema;
mod migrate_store;
mod outbox;
mod reconcile;
mod replicas;
mod replies;
mod retention;
mod sends;
mod shim;
mod shutdown;
mod signature;
mod support;
mod templates;
mod transfers;
mod upgrades;
mod version;
mod whatsapp_webhook;
mod whmcs;
