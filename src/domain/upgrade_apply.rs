//! What a paid upgrade changes after WHMCS has applied it (SPEC §2.1 "the
//! upgrade is applied automatically once its invoice is paid"). WHMCS moves
//! the service to the new product and keeps its due date; under a policy
//! whose new period starts on the enable date, puente then sets the next due
//! date (enable date + one chosen cycle) and the recurring amount. Decided
//! from the event alone: the `tblupgrades` row the addon adds to
//! `AfterProductUpgrade` (`_puente.upgrade`) and to `InvoicePaid`
//! (`_puente.upgrades`, one per upgrade line of the invoice).

use jiff::civil::Date;
use serde_json::Value;

use super::cycle::Cycle;
use super::ids::whmcs_id;
use super::money::{Currency, Money};
use super::upgrade::UpgradePolicy;

/// One applied upgrade to record, and what to set in WHMCS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// `tblupgrades.id`: one application per upgrade, whichever hook tells.
    pub upgrade_id: u64,
    pub service_id: u64,
    pub client_id: u64,
    pub product_id: u64,
    pub cycle: Cycle,
    pub policy: UpgradePolicy,
    pub enable_date: Date,
    /// Set only when the policy restarts the period.
    pub next_due_date: Option<Date>,
    /// The new plan's price on the chosen cycle, set with the due date.
    pub recurring_amount: Option<Money>,
}

/// Why an event applies no upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotApplied {
    #[error("{0} applies no upgrade")]
    NotAnUpgradeHook(String),
    #[error("the event lacks {0}")]
    Missing(&'static str),
}

/// The hooks that may report a paid upgrade.
pub fn is_upgrade_hook(hook: &str) -> bool {
    matches!(hook, "AfterProductUpgrade" | "InvoicePaid")
}

/// The applications an event reports. `enable_date` is the event's day in
/// the installation's timezone.
pub fn plan(
    hook: &str,
    data: &Value,
    policy: UpgradePolicy,
    enable_date: Date,
) -> Result<Vec<Application>, NotApplied> {
    let rows: Vec<&Value> = match hook {
        "AfterProductUpgrade" => vec![
            facts(data, "upgrade")
                .ok_or(NotApplied::Missing("_puente.upgrade (the tblupgrades row)"))?,
        ],
        // InvoicePaid may come before WHMCS processed the upgrade; only a
        // row WHMCS marked Completed is applied from it (AfterProductUpgrade
        // reports the others).
        "InvoicePaid" => facts(data, "upgrades")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter(|row| text(row, "status").eq_ignore_ascii_case("completed"))
                    .collect()
            })
            .unwrap_or_default(),
        other => return Err(NotApplied::NotAnUpgradeHook(other.to_owned())),
    };
    rows.into_iter()
        .filter(|row| text(row, "type").eq_ignore_ascii_case("package"))
        .map(|row| application(row, policy, enable_date))
        .collect()
}

/// A member of the addon's `_puente` facts.
fn facts<'v>(data: &'v Value, name: &str) -> Option<&'v Value> {
    data.get("_puente")?.get(name)
}

fn application(
    row: &Value,
    policy: UpgradePolicy,
    enable_date: Date,
) -> Result<Application, NotApplied> {
    let upgrade_id = id(row, "id").ok_or(NotApplied::Missing("upgrade.id"))?;
    let service_id = id(row, "relid").ok_or(NotApplied::Missing("upgrade.relid"))?;
    let client_id = id(row, "userid").ok_or(NotApplied::Missing("upgrade.userid"))?;
    // `newvalue` of a package upgrade: "<product id>,<cycle>".
    let newvalue = text(row, "newvalue");
    let (product, cycle) = newvalue
        .split_once(',')
        .ok_or(NotApplied::Missing("upgrade.newvalue as `<pid>,<cycle>`"))?;
    let product_id = product
        .trim()
        .parse()
        .map_err(|_| NotApplied::Missing("upgrade.newvalue's product id"))?;
    let cycle = Cycle::parse(cycle)
        .filter(|cycle| cycle.months().is_some())
        .ok_or(NotApplied::Missing("upgrade.newvalue's recurring cycle"))?;
    let restarts = policy.restarts_period();
    let next_due_date = restarts.then(|| cycle.after(enable_date)).flatten();
    let recurring_amount = restarts
        .then(|| {
            let currency = Currency::parse(text(row, "currency")).ok()?;
            Money::from_whmcs(text(row, "new_price"), currency)
                .filter(|price| !price.is_negative())
                .map(Money::rounded)
        })
        .flatten();
    Ok(Application {
        upgrade_id,
        service_id,
        client_id,
        product_id,
        cycle,
        policy,
        enable_date,
        next_due_date,
        recurring_amount,
    })
}

fn text<'v>(row: &'v Value, key: &str) -> &'v str {
    row.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
}

fn id(row: &Value, key: &str) -> Option<u64> {
    row.get(key).and_then(whmcs_id)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;

    fn row(status: &str) -> Value {
        json!({"id": "77", "type": "package", "relid": 501, "userid": "42",
               "originalvalue": "12", "newvalue": "13,annually", "status": status,
               "currency": "USD", "new_price": "150.00"})
    }

    #[test]
    fn a_restarting_policy_moves_the_due_date_one_chosen_cycle_past_the_enable_date() {
        let data = json!({"upgradeid": 77, "_puente": {"upgrade": row("Pending")}});
        let planned = plan(
            "AfterProductUpgrade",
            &data,
            UpgradePolicy::Seed,
            date(2025, 7, 2),
        )
        .expect("plan");
        assert_eq!(planned.len(), 1);
        let applied = &planned[0];
        assert_eq!(
            (applied.upgrade_id, applied.service_id, applied.client_id),
            (77, 501, 42)
        );
        assert_eq!((applied.product_id, applied.cycle), (13, Cycle::Annually));
        assert_eq!(applied.next_due_date, Some(date(2026, 7, 2)));
        assert_eq!(
            applied.recurring_amount.map(|m| m.to_string()),
            Some("150.00".into())
        );
    }

    #[test]
    fn a_policy_that_keeps_the_due_date_records_the_upgrade_and_changes_nothing() {
        let data = json!({"_puente": {"upgrade": row("Completed")}});
        let planned = plan(
            "AfterProductUpgrade",
            &data,
            UpgradePolicy::Prorata,
            date(2025, 7, 2),
        )
        .expect("plan");
        assert_eq!(planned[0].next_due_date, None);
        assert_eq!(planned[0].recurring_amount, None);
    }

    #[test]
    fn invoice_paid_applies_only_completed_package_upgrades() {
        let mut options = row("Completed");
        options["type"] = json!("configoptions");
        let data = json!({"invoiceid": 9, "_puente": {"upgrades": [row("Pending"), options, row("Completed")]}});
        let planned =
            plan("InvoicePaid", &data, UpgradePolicy::Seed, date(2025, 7, 2)).expect("plan");
        assert_eq!(planned.len(), 1);
        // An InvoicePaid without upgrade lines applies nothing.
        let plain = plan(
            "InvoicePaid",
            &json!({"invoiceid": 9}),
            UpgradePolicy::Seed,
            date(2025, 7, 2),
        );
        assert_eq!(plain, Ok(Vec::new()));
    }

    #[test]
    fn a_row_without_what_it_needs_is_named() {
        let mut broken = row("Pending");
        broken["newvalue"] = json!("13");
        let data = json!({"_puente": {"upgrade": broken}});
        let refused = plan(
            "AfterProductUpgrade",
            &data,
            UpgradePolicy::Seed,
            date(2025, 7, 2),
        );
        assert!(matches!(refused, Err(NotApplied::Missing(what)) if what.contains("newvalue")));
        assert!(
            plan(
                "AfterProductUpgrade",
                &json!({}),
                UpgradePolicy::Seed,
                date(2025, 7, 2)
            )
            .is_err()
        );
    }

    #[test]
    fn month_end_enable_dates_clamp() {
        let mut monthly = row("Pending");
        monthly["newvalue"] = json!("13,monthly");
        let data = json!({"_puente": {"upgrade": monthly}});
        let planned = plan(
            "AfterProductUpgrade",
            &data,
            UpgradePolicy::ProrataRestart,
            date(2024, 1, 31),
        )
        .expect("plan");
        assert_eq!(planned[0].next_due_date, Some(date(2024, 2, 29)));
    }
}
