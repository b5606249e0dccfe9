//! Pure domain types and rules: no I/O, no clock. No floats either: money
//! is `rust_decimal`, time integers, and clippy refuses `f32`/`f64` in every
//! file that does not allow them by name (`clippy.toml`).

pub mod alerts;
pub mod cancel;
pub mod cycle;
pub mod delivery;
pub mod diagnostics;
pub mod envelope;
pub mod ids;
pub mod invoices;
pub mod meta_errors;
pub mod money;
pub mod paid;
pub mod phone;
pub mod plan;
pub mod replies;
pub mod retry;
pub mod status;
pub mod template_check;
pub mod templates;
pub mod texts;
pub mod transfer;
pub mod upgrade;
pub mod upgrade_apply;
pub mod upgrade_check;
