//! What a paid upgrade changes after WHMCS has applied it (SPEC §2.1 "the
//! upgrade is applied automatically once its invoice is paid"). WHMCS moves
//! the service to the new product and keeps its due date; under a policy
//! whose new period starts on the enable date, puente then sets the next due
//! date (enable date + one chosen cycle) and the recurring amount. Decided
//! from the event alone: the `tblupgrades` row the addon adds to
//! `AfterProductUpgrade` and `AfterConfigOptionsUpgrade` (`_puente.upgrade`)
//! and to `InvoicePaid` (`_puente.upgrades`, one per upgrade line of the
//! invoice).
//!
//! Every row is recorded. Only a product upgrade (`package` or `service`)
//! whose row names the service's owner is applied; configurable-option and
//! addon upgrades are recorded and never applied, and a row that does not
//! match WHMCS's own records is kept as refused, with why.

use jiff::civil::Date;
use serde_json::Value;

use super::cycle::Cycle;
use super::ids::whmcs_id;
use super::money::{Currency, Money};
pub use super::status::UpgradeStatus;
use super::upgrade::UpgradePolicy;

/// `tblupgrades.type` in WHMCS 8.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeType {
    /// A product upgrade from the legacy upgrade page (`newvalue` =
    /// `"<pid>,<cycle>"`).
    Package,
    /// A product upgrade from WHMCS 8's upgrade flow (`newvalue` = `"<pid>"`,
    /// the cycle in `new_cycle`).
    Service,
    ConfigOptions,
    Addon,
}

impl UpgradeType {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "package" => Self::Package,
            "service" => Self::Service,
            "configoptions" => Self::ConfigOptions,
            "addon" => Self::Addon,
            _ => return None,
        })
    }

    /// As WHMCS stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Package => "package",
            Self::Service => "service",
            Self::ConfigOptions => "configoptions",
            Self::Addon => "addon",
        }
    }

    /// Whether the upgrade moves the service to another product.
    pub fn moves_product(self) -> bool {
        matches!(self, Self::Package | Self::Service)
    }
}

impl UpgradeStatus {
    /// What the dashboard lists unless asked for another status.
    pub const IN_FLIGHT: &'static [Self] = &[Self::Planned, Self::Applying, Self::Failed];

    /// What happens next to an upgrade in this status.
    pub fn next_step(self) -> &'static str {
        match self {
            Self::Planned => {
                "the worker sets the new product and price in WHMCS (UpdateClientProduct)"
            }
            Self::Applying => {
                "waiting for WHMCS; after a restart WHMCS is read before any new call"
            }
            Self::Failed => "fix what WHMCS refused (see the error), then retry",
            Self::Applied => "none: done",
            Self::Recorded => "none: WHMCS applies this kind itself",
            Self::Refused => "none: refused by the rules",
        }
    }
}

/// What puente does with a recorded upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// The upgrade worker carries it out.
    Apply,
    /// Kept for the record: puente never applies this type.
    Record,
    /// The row does not match WHMCS's records; kept with why, never applied.
    Refuse(String),
}

/// One upgrade to record, and what to set in WHMCS when it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// `tblupgrades.id`: one application per upgrade, whichever hook tells.
    pub upgrade_id: u64,
    pub upgrade_type: UpgradeType,
    /// `tblupgrades.relid`: the service (for an `addon` row, the addon).
    pub service_id: u64,
    /// `tblupgrades.userid`: the client the upgrade was ordered for.
    pub client_id: u64,
    pub product_id: Option<u64>,
    pub cycle: Option<Cycle>,
    pub policy: UpgradePolicy,
    pub enable_date: Date,
    /// Set only when the policy restarts the period.
    pub next_due_date: Option<Date>,
    /// The new plan's price on the chosen cycle, set with the due date.
    pub recurring_amount: Option<Money>,
    pub disposition: Disposition,
}

/// Why an event records no upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotApplied {
    #[error("{0} applies no upgrade")]
    NotAnUpgradeHook(String),
    #[error("the event lacks {0}")]
    Missing(&'static str),
}

/// The hooks that may report an upgrade.
pub const HOOKS: [&str; 3] = [
    "AfterProductUpgrade",
    "AfterConfigOptionsUpgrade",
    "InvoicePaid",
];

/// The upgrades an event reports. `enable_date` is the event's day in the
/// installation's timezone. A row that cannot even be recorded (no id,
/// service, client or known type) is left out and named in `skipped`.
pub fn plan(
    hook: &str,
    data: &Value,
    policy: UpgradePolicy,
    enable_date: Date,
) -> Result<Planned, NotApplied> {
    let rows: Vec<&Value> = match hook {
        "AfterProductUpgrade" | "AfterConfigOptionsUpgrade" => vec![
            facts(data, "upgrade")
                .ok_or(NotApplied::Missing("_puente.upgrade (the tblupgrades row)"))?,
        ],
        // InvoicePaid may come before WHMCS processed the upgrade; only a
        // row WHMCS marked Completed is taken from it (AfterProductUpgrade
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
    // The client an invoice was issued to, when the event names it.
    let invoice_client = (hook == "InvoicePaid")
        .then(|| {
            data.get("invoice")
                .and_then(|invoice| id(invoice, "userid"))
        })
        .flatten();
    let mut planned = Planned::default();
    for row in rows {
        match application(row, policy, enable_date, invoice_client) {
            Ok(application) => planned.applications.push(application),
            Err(missing) => planned.skipped.push(missing),
        }
    }
    Ok(planned)
}

/// The upgrades of one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    pub applications: Vec<Application>,
    /// Rows that could not be recorded, and what each lacked.
    pub skipped: Vec<NotApplied>,
}

/// A member of the addon's `_puente` facts.
fn facts<'v>(data: &'v Value, name: &str) -> Option<&'v Value> {
    data.get("_puente")?.get(name)
}

fn application(
    row: &Value,
    policy: UpgradePolicy,
    enable_date: Date,
    invoice_client: Option<u64>,
) -> Result<Application, NotApplied> {
    let upgrade_id = id(row, "id").ok_or(NotApplied::Missing("upgrade.id"))?;
    let upgrade_type = UpgradeType::parse(text(row, "type")).ok_or(NotApplied::Missing(
        "upgrade.type (package, service, configoptions or addon)",
    ))?;
    let service_id = id(row, "relid").ok_or(NotApplied::Missing("upgrade.relid"))?;
    let client_id = id(row, "userid").ok_or(NotApplied::Missing("upgrade.userid"))?;
    let mut application = Application {
        upgrade_id,
        upgrade_type,
        service_id,
        client_id,
        product_id: None,
        cycle: None,
        policy,
        enable_date,
        next_due_date: None,
        recurring_amount: None,
        disposition: Disposition::Record,
    };
    if !upgrade_type.moves_product() {
        return Ok(application);
    }
    let (product_id, cycle) = target(row);
    application.product_id = product_id;
    application.cycle = cycle;
    application.disposition = match refusal(row, &application, invoice_client) {
        Some(reason) => Disposition::Refuse(reason),
        None => Disposition::Apply,
    };
    if application.disposition == Disposition::Apply && policy.restarts_period() {
        application.next_due_date = cycle.and_then(|cycle| cycle.after(enable_date));
        application.recurring_amount = Currency::parse(text(row, "currency"))
            .ok()
            .and_then(|currency| Money::from_whmcs(text(row, "new_price"), currency))
            .filter(|price| !price.is_negative())
            .map(Money::rounded);
    }
    Ok(application)
}

/// The product and cycle a product upgrade moves to: the product is
/// `newvalue`'s first part; the cycle is `new_cycle` when WHMCS filled it,
/// else the part of `newvalue` after the comma.
fn target(row: &Value) -> (Option<u64>, Option<Cycle>) {
    let newvalue = text(row, "newvalue");
    let (product, cycle_in_value) = newvalue.split_once(',').unwrap_or((newvalue, ""));
    let product_id = product.trim().parse().ok().filter(|id| *id > 0);
    let new_cycle = text(row, "new_cycle");
    let cycle = Cycle::parse(if new_cycle.is_empty() {
        cycle_in_value
    } else {
        new_cycle
    });
    (product_id, cycle)
}

/// Why a product upgrade row cannot be applied, if it cannot.
fn refusal(row: &Value, upgrade: &Application, invoice_client: Option<u64>) -> Option<String> {
    let (service, client) = (upgrade.service_id, upgrade.client_id);
    let Some(owner) = row.get("service").and_then(|found| id(found, "userid")) else {
        return Some(format!("WHMCS has no service {service}"));
    };
    if owner != client {
        return Some(format!(
            "the upgrade was ordered for client {client}, but service {service} belongs to client {owner}"
        ));
    }
    if let Some(invoiced) = invoice_client.filter(|invoiced| *invoiced != client) {
        return Some(format!(
            "the upgrade was ordered for client {client}, but its invoice is client {invoiced}'s"
        ));
    }
    if upgrade.product_id.is_none() {
        return Some("the upgrade row names no product in `newvalue`".to_owned());
    }
    match upgrade.cycle {
        None => Some("the upgrade row names no billing cycle".to_owned()),
        Some(cycle) if cycle.months().is_none() => Some(format!(
            "a {} upgrade has no period to restart; WHMCS's change stands",
            cycle.as_str()
        )),
        Some(_) => None,
    }
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

    /// Service 501 of client 42 moves to product 13, annually, as the addon
    /// reads the row from WHMCS 8.4.
    fn row(status: &str) -> Value {
        json!({"id": "77", "type": "package", "relid": 501, "userid": "42",
               "originalvalue": "12", "newvalue": "13,annually", "new_cycle": "",
               "status": status, "service": {"id": 501, "userid": 42, "pid": 13},
               "currency": "USD", "new_price": "150.00"})
    }

    fn one(data: &Value, policy: UpgradePolicy) -> Application {
        let planned = plan("AfterProductUpgrade", data, policy, date(2025, 7, 2)).expect("plan");
        assert!(planned.skipped.is_empty(), "{planned:?}");
        assert_eq!(planned.applications.len(), 1);
        planned.applications[0].clone()
    }

    fn upgrade(row: Value) -> Value {
        json!({"upgradeid": 77, "_puente": {"upgrade": row}})
    }

    #[test]
    fn a_restarting_policy_moves_the_due_date_one_chosen_cycle_past_the_enable_date() {
        let applied = one(&upgrade(row("Pending")), UpgradePolicy::Seed);
        assert_eq!(applied.disposition, Disposition::Apply);
        assert_eq!(
            (applied.upgrade_id, applied.service_id, applied.client_id),
            (77, 501, 42)
        );
        assert_eq!(
            (applied.product_id, applied.cycle),
            (Some(13), Some(Cycle::Annually))
        );
        assert_eq!(applied.next_due_date, Some(date(2026, 7, 2)));
        assert_eq!(
            applied.recurring_amount.map(|m| m.to_string()),
            Some("150.00".into())
        );
    }

    #[test]
    fn new_cycle_is_read_first_and_a_service_row_names_only_the_product() {
        let mut current = row("Pending");
        current["type"] = json!("service");
        current["newvalue"] = json!("13");
        current["new_cycle"] = json!("semiannually");
        let applied = one(&upgrade(current), UpgradePolicy::Seed);
        assert_eq!(applied.upgrade_type, UpgradeType::Service);
        assert_eq!(
            (applied.product_id, applied.cycle),
            (Some(13), Some(Cycle::SemiAnnually))
        );
        assert_eq!(applied.next_due_date, Some(date(2026, 1, 2)));

        let mut both = row("Pending");
        both["new_cycle"] = json!("monthly");
        assert_eq!(
            one(&upgrade(both), UpgradePolicy::Seed).cycle,
            Some(Cycle::Monthly)
        );
    }

    #[test]
    fn a_policy_that_keeps_the_due_date_records_the_upgrade_and_changes_nothing() {
        let applied = one(&upgrade(row("Completed")), UpgradePolicy::Prorata);
        assert_eq!(applied.disposition, Disposition::Apply);
        assert_eq!(applied.next_due_date, None);
        assert_eq!(applied.recurring_amount, None);
    }

    #[test]
    fn configurable_option_and_addon_upgrades_are_recorded_never_applied() {
        for (kind, upgrade_type) in [
            ("configoptions", UpgradeType::ConfigOptions),
            ("addon", UpgradeType::Addon),
        ] {
            let mut options = row("Completed");
            options["type"] = json!(kind);
            options["newvalue"] = json!("4=>9");
            let recorded = one(&upgrade(options), UpgradePolicy::Seed);
            assert_eq!(recorded.upgrade_type, upgrade_type);
            assert_eq!(recorded.disposition, Disposition::Record);
            assert_eq!((recorded.product_id, recorded.next_due_date), (None, None));
            assert_eq!(recorded.recurring_amount, None);
        }
    }

    #[test]
    fn a_row_that_does_not_match_whmcs_is_refused_with_why() {
        let refused = |change: &dyn Fn(&mut Value)| {
            let mut broken = row("Pending");
            change(&mut broken);
            match one(&upgrade(broken), UpgradePolicy::Seed).disposition {
                Disposition::Refuse(reason) => reason,
                other => panic!("not refused: {other:?}"),
            }
        };
        assert!(refused(&|r| r["service"]["userid"] = json!(7)).contains("belongs to client 7"));
        assert!(refused(&|r| r["service"] = Value::Null).contains("no service 501"));
        assert!(refused(&|r| r["newvalue"] = json!(",annually")).contains("no product"));
        assert!(refused(&|r| r["newvalue"] = json!("13")).contains("no billing cycle"));
        assert!(refused(&|r| r["newvalue"] = json!("13,onetime")).contains("no period"));
        // A refused row changes nothing in WHMCS.
        let mut other = row("Pending");
        other["userid"] = json!(9);
        let kept = one(&upgrade(other), UpgradePolicy::Seed);
        assert_eq!((kept.next_due_date, kept.recurring_amount), (None, None));
    }

    #[test]
    fn invoice_paid_takes_only_completed_rows_of_the_invoices_client() {
        let mut options = row("Completed");
        options["type"] = json!("configoptions");
        options["id"] = json!(78);
        let data = json!({"invoiceid": 9, "invoice": {"id": 9, "userid": 42},
                          "_puente": {"upgrades": [row("Pending"), options, row("Completed")]}});
        let planned =
            plan("InvoicePaid", &data, UpgradePolicy::Seed, date(2025, 7, 2)).expect("plan");
        let dispositions: Vec<_> = planned
            .applications
            .iter()
            .map(|a| (a.upgrade_id, a.disposition.clone()))
            .collect();
        assert_eq!(
            dispositions,
            [(78, Disposition::Record), (77, Disposition::Apply)]
        );

        let mut elsewhere = data.clone();
        elsewhere["invoice"]["userid"] = json!(5);
        let planned = plan(
            "InvoicePaid",
            &elsewhere,
            UpgradePolicy::Seed,
            date(2025, 7, 2),
        )
        .expect("plan");
        assert!(matches!(&planned.applications[1].disposition,
            Disposition::Refuse(reason) if reason.contains("invoice is client 5's")));

        // An InvoicePaid without upgrade lines records nothing.
        let plain = plan(
            "InvoicePaid",
            &json!({"invoiceid": 9}),
            UpgradePolicy::Seed,
            date(2025, 7, 2),
        );
        assert_eq!(plain, Ok(Planned::default()));
    }

    #[test]
    fn a_row_that_cannot_be_recorded_is_named() {
        let mut unknown = row("Pending");
        unknown["type"] = json!("product");
        let planned = plan(
            "AfterProductUpgrade",
            &upgrade(unknown),
            UpgradePolicy::Seed,
            date(2025, 7, 2),
        )
        .expect("plan");
        assert!(planned.applications.is_empty());
        assert!(
            matches!(&planned.skipped[..], [NotApplied::Missing(what)] if what.contains("type"))
        );
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
        let planned = plan(
            "AfterProductUpgrade",
            &upgrade(monthly),
            UpgradePolicy::ProrataRestart,
            date(2024, 1, 31),
        )
        .expect("plan");
        assert_eq!(
            planned.applications[0].next_due_date,
            Some(date(2024, 2, 29))
        );
    }

    #[test]
    fn upgrade_types_are_written_as_whmcs_stores_them() {
        for kind in [
            UpgradeType::Package,
            UpgradeType::Service,
            UpgradeType::ConfigOptions,
            UpgradeType::Addon,
        ] {
            assert_eq!(UpgradeType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(UpgradeType::ConfigOptions.as_str(), "configoptions");
    }

    #[test]
    fn a_target_product_must_be_a_positive_id() {
        let row =
            |newvalue: &str, new_cycle: &str| json!({"newvalue": newvalue, "new_cycle": new_cycle});
        assert_eq!(
            target(&row("13,annually", "")),
            (Some(13), Some(Cycle::Annually))
        );
        assert_eq!(
            target(&row("13,annually", "monthly")),
            (Some(13), Some(Cycle::Monthly))
        );
        assert_eq!(
            target(&row("0,annually", "")),
            (None, Some(Cycle::Annually))
        );
        assert_eq!(target(&row("x", "")), (None, None));
    }
}
