//! One integration binary: each module is one capability of the service.

mod admin;
mod alerts;
mod cancellations;
mod cli;
mod decisions;
mod health;
mod helpers;
mod hooks;
mod meta_schema;
mod outbox;
mod shim;
mod shutdown;
mod signature;
mod upgrades;
mod whatsapp_webhook;
mod whmcs;
