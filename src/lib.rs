//! puente: verifies, stores and applies the rules to WHMCS hook events.

pub mod cli;
pub mod config;
pub mod dev;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod outbox;
pub mod quote;
pub mod signature;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod upgrades;
pub mod whatsapp;
pub mod whmcs;
