//! One integration binary: each module is one capability of the service.

mod admin;
mod alerts;
mod cancellations;
mod cli;
mod dashboard;
mod decisions;
mod fake_whmcs;
mod health;
mod helpers;
mod hooks;
mod instances;
mod meta_schema;
mod outbox;
mod retention;
mod shim;
mod shutdown;
mod signature;
mod transfers;
mod upgrades;
mod whatsapp_webhook;
mod whmcs;
