//! `ShoppingCartValidateUpgrade`: may this service move to that product?
//! Refuses targets outside WHMCS's upgrade list and downgrades (SPEC §2.2),
//! with the seed's explanation in the client's language. Decided from the
//! facts the addon sends in `data._puente`; `today` comes in.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Deserialize;

use super::cycle::Cycle;
use super::money::{Currency, Money};
use super::upgrade::{self, Current, Kind, Target, UpgradePolicy};

/// What the addon reads from WHMCS for an upgrade check.
#[derive(Debug, Clone, Deserialize)]
pub struct UpgradeFacts {
    pub service: ServiceSnapshot,
    pub currency: String,
    #[serde(default)]
    pub language: String,
    /// Products WHMCS lets this service's product move to.
    pub upgrade_targets: Vec<u64>,
    /// The target product's prices by WHMCS pricing cycle (`-1.00`: off).
    pub target_pricing: BTreeMap<String, String>,
    /// What was paid for the current period, when the addon could tell.
    #[serde(default)]
    pub paid: Option<Paid>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSnapshot {
    pub billingcycle: String,
    pub recurringamount: String,
    pub nextduedate: Date,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Paid {
    pub amount: String,
    pub period_start: Date,
}

/// The answer WHMCS shows: no errors allows the upgrade.
pub fn check(target_pid: u64, facts: &UpgradeFacts, today: Date) -> Vec<String> {
    let spanish = !facts.language.trim().eq_ignore_ascii_case("english");
    if !facts.upgrade_targets.contains(&target_pid) {
        return vec![text(spanish, NOT_ALLOWED).to_owned()];
    }
    match is_downgrade(facts, today) {
        Some(true) => vec![text(spanish, DOWNGRADE).to_owned()],
        // Facts puente cannot price leave WHMCS's own checks in charge.
        Some(false) | None => Vec::new(),
    }
}

/// The quote under `policy` for the target on `cycle` (a WHMCS pricing
/// cycle, `annually`), or `None` when the facts cannot price it.
pub fn price(
    policy: UpgradePolicy,
    facts: &UpgradeFacts,
    cycle: &str,
    today: Date,
) -> Option<upgrade::Quote> {
    let (current, target_pricing) = priced(facts)?;
    let chosen = Cycle::parse(cycle)?;
    let target_price = target_pricing
        .iter()
        .find(|(offered, _)| *offered == chosen)
        .map(|(_, price)| *price)?;
    let in_current_cycle = target_pricing
        .iter()
        .find(|(offered, _)| *offered == current.cycle)
        .map(|(_, price)| *price);
    let target = Target {
        price: target_price,
        cycle: chosen,
        price_in_current_cycle: in_current_cycle,
    };
    let on = today.clamp(current.period_start, current.next_due_date);
    upgrade::quote(policy, &current, &target, on).ok()
}

/// The current plan and the target's offered prices, from the facts.
fn priced(facts: &UpgradeFacts) -> Option<(Current, Vec<(Cycle, Money)>)> {
    let currency = Currency::parse(&facts.currency).ok()?;
    let cycle = Cycle::parse(&facts.service.billingcycle)?;
    let money = |text: &str| Money::parse(text, currency).ok();
    let price = money(&facts.service.recurringamount)?;
    let next_due_date = facts.service.nextduedate;
    let (paid, period_start) = match &facts.paid {
        Some(paid) => (money(&paid.amount)?, paid.period_start),
        None => (
            price,
            cycle
                .months()
                .and_then(|m| next_due_date.checked_sub(jiff::Span::new().months(m)).ok())?,
        ),
    };
    let offered = facts
        .target_pricing
        .iter()
        .filter_map(|(key, value)| Some((Cycle::parse(key)?, money(value)?)))
        .filter(|(cycle, _)| cycle.months().is_some())
        .collect();
    Some((
        Current {
            price,
            cycle,
            paid,
            period_start,
            next_due_date,
        },
        offered,
    ))
}

fn is_downgrade(facts: &UpgradeFacts, today: Date) -> Option<bool> {
    let (current, offered) = priced(facts)?;
    let in_current_cycle = offered
        .iter()
        .find(|(offered, _)| *offered == current.cycle)
        .map(|(_, price)| *price);
    let (target_cycle, target_price) = match in_current_cycle {
        Some(price) => (current.cycle, price),
        None => *offered.first()?,
    };
    let target = Target {
        price: target_price,
        cycle: target_cycle,
        price_in_current_cycle: in_current_cycle,
    };
    let on = today.clamp(current.period_start, current.next_due_date);
    let quote = upgrade::quote(UpgradePolicy::Seed, &current, &target, on).ok()?;
    Some(quote.kind == Kind::Downgrade)
}

fn text(spanish: bool, texts: (&'static str, &'static str)) -> &'static str {
    if spanish { texts.0 } else { texts.1 }
}

/// The seed's answer to a downgrade.
const DOWNGRADE: (&str, &str) = (
    "No es posible bajar de plan. Para pasar a un plan inferior, solicite la baja del servicio y contrate otro plan más adecuado. Recuerde que al dar de baja un servicio se pierde todo (archivos, correos, puertos, contenido subido) y no es posible revertirlo.",
    "Moving to a smaller plan is not possible. Request the cancellation of this service and order a plan that suits you better. Remember that cancelling a service deletes everything on it (files, email, ports, uploaded content) and cannot be reverted.",
);

const NOT_ALLOWED: (&str, &str) = (
    "Este plan no está disponible como mejora de su servicio. Si lo necesita, puede solicitar la mejora manualmente y la revisará un ejecutivo de cuentas.",
    "This plan is not available as an upgrade of your service. If you need it, you can ask for the upgrade and an account executive will review it.",
);

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;

    fn facts(language: &str, pricing: serde_json::Value) -> UpgradeFacts {
        serde_json::from_value(json!({
            "service": {"billingcycle": "Annually", "recurringamount": "100.00", "nextduedate": "2026-01-01"},
            "currency": "USD",
            "language": language,
            "upgrade_targets": [13, 14],
            "target_pricing": pricing,
            "paid": {"amount": "100.00", "period_start": "2025-01-01"}
        }))
        .expect("facts")
    }

    #[test]
    fn a_bigger_plan_is_allowed_and_a_smaller_one_refused_with_the_seed_text() {
        let today = date(2025, 7, 2);
        assert!(
            check(
                13,
                &facts("spanish", json!({"annually": "150.00", "monthly": "15.00"})),
                today
            )
            .is_empty()
        );
        let refused = check(13, &facts("", json!({"annually": "80.00"})), today);
        assert!(
            refused[0].starts_with("No es posible bajar de plan"),
            "{refused:?}"
        );
        let refused = check(13, &facts("english", json!({"annually": "80.00"})), today);
        assert!(
            refused[0].starts_with("Moving to a smaller plan"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_target_outside_whmcs_upgrade_list_is_refused_with_a_pointer_to_the_manual_request() {
        let refused = check(
            99,
            &facts("spanish", json!({"annually": "150.00"})),
            date(2025, 7, 2),
        );
        assert!(
            refused[0].contains("solicitar la mejora manualmente"),
            "{refused:?}"
        );
    }

    #[test]
    fn disabled_cycles_are_ignored_and_other_cycles_compare_per_day() {
        // Annual disabled; monthly 12 is 144 a year: more than 100, but the
        // seed charge (12 - 100) is negative, so it is a downgrade.
        let refused = check(
            13,
            &facts("spanish", json!({"annually": "-1.00", "monthly": "12.00"})),
            date(2025, 7, 2),
        );
        assert_eq!(refused.len(), 1);
        // Unpriceable facts leave the decision to WHMCS.
        assert!(
            check(
                13,
                &facts("spanish", json!({"annually": "-1.00"})),
                date(2025, 7, 2)
            )
            .is_empty()
        );
    }
}
