//! Pure domain types and rules: no I/O, no clock.

pub mod alerts;
pub mod cycle;
pub mod delivery;
pub mod envelope;
pub mod hooks;
pub mod ids;
pub mod meta_errors;
pub mod money;
pub mod paid;
pub mod phone;
pub mod templates;
pub mod upgrade;
pub mod upgrade_apply;
pub mod upgrade_check;
