//! Pure domain types and rules: no I/O, no clock.

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
pub mod retry;
pub mod status;
pub mod templates;
pub mod texts;
pub mod transfer;
pub mod upgrade;
pub mod upgrade_apply;
pub mod upgrade_check;

#[cfg(test)]
mod tests {
    /// SPEC §2.1: money is `rust_decimal`, never a float, in every rule
    /// that prices or applies an upgrade.
    #[test]
    fn the_money_rules_never_use_a_float() {
        let root = env!("CARGO_MANIFEST_DIR");
        for file in [
            "domain/money.rs",
            "domain/cycle.rs",
            "domain/paid.rs",
            "domain/upgrade.rs",
            "domain/upgrade_apply.rs",
            "domain/upgrade_check.rs",
            "domain/cancel.rs",
            "quote.rs",
            "http/client/upgrades.rs",
            "http/decisions.rs",
        ] {
            let text = std::fs::read_to_string(format!("{root}/src/{file}")).expect(file);
            for float in ["f64", "f32"] {
                assert!(!text.contains(float), "{file} uses {float}");
            }
        }
    }
}
