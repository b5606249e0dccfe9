//! Upgrade decisions from the facts the addon reads out of WHMCS
//! (`data._puente`): may this service move to that product
//! (`ShoppingCartValidateUpgrade`, SPEC §2.1–2.2), and at what price. A
//! refusal carries the seed's explanation in the client's language.
//! `today` comes in.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Deserialize;

use super::cycle::Cycle;
use super::money::{Currency, Money};
use super::paid::{self, AmountPaid, PaidLine};
use super::texts::{Language, Text};
use super::upgrade::{self, Current, Kind, Quote, Target, UpgradePolicy};

/// The administrator's upgrade settings beyond the pricing policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upgrades {
    /// puente's per-product allow-list: a product listed here may move
    /// only to these targets (and WHMCS's upgrade list must allow them too).
    pub targets: BTreeMap<u64, Vec<u64>>,
    /// Tier rank per product: moving to a lower rank is a downgrade.
    pub tiers: BTreeMap<u64, u32>,
    /// WHMCS support department of manual upgrade requests.
    pub manual_department: Option<u64>,
}

/// What the addon reads from WHMCS for an upgrade.
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
    /// The service's paid invoice lines; absent when the addon could not
    /// read them (the recurring amount then stands in).
    #[serde(default)]
    pub paid_lines: Option<Vec<PaidLine>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSnapshot {
    /// The current product (`tblhosting.packageid`).
    #[serde(default)]
    pub pid: Option<u64>,
    /// The owning client.
    #[serde(default)]
    pub userid: Option<u64>,
    /// WHMCS's service status (`tblhosting.domainstatus`: `Active`, …).
    #[serde(default)]
    pub status: Option<String>,
    pub billingcycle: String,
    pub recurringamount: String,
    pub nextduedate: Date,
}

/// Why an upgrade is not offered; `code` is the client API's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Outside WHMCS's upgrade list or puente's allow-list.
    TargetNotAllowed,
    Downgrade,
    /// WHMCS has no price for the chosen cycle (`-1.00` or missing).
    CycleNotAvailable,
    /// One Time, or facts puente cannot price: only a manual upgrade.
    NotAutomatic,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::TargetNotAllowed | Self::NotAutomatic => "target_not_allowed",
            Self::Downgrade => "downgrade_not_allowed",
            Self::CycleNotAvailable => "cycle_not_available",
        }
    }

    /// The explanation shown to the client.
    pub fn message(self, language: Language) -> &'static str {
        match self {
            Self::TargetNotAllowed | Self::NotAutomatic => Text::UpgradeTargetNotAllowed,
            Self::Downgrade => Text::UpgradeDowngrade,
            Self::CycleNotAvailable => Text::UpgradeCycleNotAvailable,
        }
        .get(language)
    }
}

/// A priced upgrade and what the price rests on.
#[derive(Debug, Clone)]
pub struct Priced {
    pub quote: Quote,
    pub target_price: Money,
    pub paid: AmountPaid,
}

/// `ShoppingCartValidateUpgrade`: `Ok` lets WHMCS go on. Facts puente
/// cannot price leave WHMCS's own checks in charge.
pub fn check(
    target_pid: u64,
    facts: &UpgradeFacts,
    upgrades: &Upgrades,
    today: Date,
) -> Result<(), Refusal> {
    allowed(target_pid, facts, upgrades)?;
    // SPEC §2.1: One Time products are not upgraded automatically.
    if Cycle::parse(&facts.service.billingcycle) == Some(Cycle::OneTime) {
        return Err(Refusal::NotAutomatic);
    }
    match downgrade(target_pid, facts, upgrades, today) {
        Some(true) => Err(Refusal::Downgrade),
        Some(false) | None => Ok(()),
    }
}

/// The quote under `policy` for the target on `cycle` (either WHMCS
/// spelling), with every refusal the client area explains.
pub fn quote(
    policy: UpgradePolicy,
    target_pid: u64,
    facts: &UpgradeFacts,
    upgrades: &Upgrades,
    cycle: &str,
    today: Date,
) -> Result<Priced, Refusal> {
    allowed(target_pid, facts, upgrades)?;
    let priced = price(policy, target_pid, facts, upgrades, cycle, today)?;
    if priced.quote.kind == Kind::Downgrade {
        return Err(Refusal::Downgrade);
    }
    Ok(priced)
}

/// The policy's price for the target on `cycle`, without the allow-list
/// (WHMCS checked it at validation).
pub fn price(
    policy: UpgradePolicy,
    target_pid: u64,
    facts: &UpgradeFacts,
    upgrades: &Upgrades,
    cycle: &str,
    today: Date,
) -> Result<Priced, Refusal> {
    let plan = Plan::read(facts, today).ok_or(Refusal::NotAutomatic)?;
    let chosen = Cycle::parse(cycle)
        .filter(|cycle| cycle.months().is_some())
        .ok_or(Refusal::CycleNotAvailable)?;
    let target_price = plan.offered(chosen).ok_or(Refusal::CycleNotAvailable)?;
    let target = Target {
        price: target_price,
        cycle: chosen,
        price_in_current_cycle: plan.offered(plan.current.cycle),
        tier: tier(target_pid, facts, upgrades),
    };
    let on = plan.enable_date(today);
    let quote = upgrade::quote(policy, &plan.current, &target, on).map_err(|error| {
        tracing::debug!(%error, "upgrade not priced automatically");
        Refusal::NotAutomatic
    })?;
    Ok(Priced {
        quote,
        target_price,
        paid: plan.paid,
    })
}

fn allowed(target_pid: u64, facts: &UpgradeFacts, upgrades: &Upgrades) -> Result<(), Refusal> {
    let in_whmcs = facts.upgrade_targets.contains(&target_pid);
    let in_puente = facts
        .service
        .pid
        .and_then(|pid| upgrades.targets.get(&pid))
        .is_none_or(|targets| targets.contains(&target_pid));
    if in_whmcs && in_puente {
        Ok(())
    } else {
        Err(Refusal::TargetNotAllowed)
    }
}

/// How the target's tier ranks against the current product's, when the
/// administrator ranked both.
fn tier(target_pid: u64, facts: &UpgradeFacts, upgrades: &Upgrades) -> Option<Ordering> {
    let current = upgrades.tiers.get(&facts.service.pid?)?;
    Some(upgrades.tiers.get(&target_pid)?.cmp(current))
}

/// SPEC §2.2 on the cycle the comparison needs: the target's price on the
/// current cycle where WHMCS has one, else its first offered cycle.
fn downgrade(
    target_pid: u64,
    facts: &UpgradeFacts,
    upgrades: &Upgrades,
    today: Date,
) -> Option<bool> {
    let plan = Plan::read(facts, today)?;
    let (cycle, price) = match plan.offered(plan.current.cycle) {
        Some(price) => (plan.current.cycle, price),
        None => *plan.offers.first()?,
    };
    let target = Target {
        price,
        cycle,
        price_in_current_cycle: plan.offered(plan.current.cycle),
        tier: tier(target_pid, facts, upgrades),
    };
    let on = plan.enable_date(today);
    let quote = upgrade::quote(UpgradePolicy::Seed, &plan.current, &target, on).ok()?;
    Some(quote.kind == Kind::Downgrade)
}

/// The current plan and the target's offered prices, read from the facts.
struct Plan {
    current: Current,
    paid: AmountPaid,
    offers: Vec<(Cycle, Money)>,
}

impl Plan {
    fn read(facts: &UpgradeFacts, today: Date) -> Option<Self> {
        let currency = Currency::parse(&facts.currency).ok()?;
        let cycle = Cycle::parse(&facts.service.billingcycle)?;
        // WHMCS's own values, rounded once at the end; `-1.00` is "off".
        let whmcs_money =
            |text: &str| Money::from_whmcs(text, currency).filter(|money| !money.is_negative());
        let price = whmcs_money(&facts.service.recurringamount)?;
        let next_due_date = facts.service.nextduedate;
        let (period_start, paid) = if cycle == Cycle::FreeAccount {
            let nothing = AmountPaid {
                amount: Money::zero(currency),
                source: paid::PaidSource::FreeAccount,
            };
            (today, nothing)
        } else {
            let months = cycle.months()?;
            let start = next_due_date
                .checked_sub(jiff::Span::new().months(months))
                .ok()?;
            let lines = facts.paid_lines.as_deref();
            (start, paid::amount_paid(lines, price, start, next_due_date))
        };
        let offers = facts
            .target_pricing
            .iter()
            .filter_map(|(key, value)| Some((Cycle::parse(key)?, whmcs_money(value)?)))
            .filter(|(cycle, _)| cycle.months().is_some())
            .collect();
        Some(Self {
            current: Current {
                price,
                cycle,
                paid: paid.amount,
                period_start,
                next_due_date,
            },
            paid,
            offers,
        })
    }

    fn offered(&self, cycle: Cycle) -> Option<Money> {
        self.offers
            .iter()
            .find(|(offered, _)| *offered == cycle)
            .map(|(_, price)| *price)
    }

    /// Today, kept within the current period (a service already past its
    /// due date is priced on its last day).
    fn enable_date(&self, today: Date) -> Date {
        if self.current.cycle == Cycle::FreeAccount {
            today
        } else {
            today.clamp(self.current.period_start, self.current.next_due_date)
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;

    fn facts(language: &str, pricing: serde_json::Value) -> UpgradeFacts {
        serde_json::from_value(json!({
            "service": {"pid": 12, "userid": 42, "billingcycle": "Annually",
                        "recurringamount": "100.00", "nextduedate": "2026-01-01"},
            "currency": "USD",
            "language": language,
            "upgrade_targets": [13, 14],
            "target_pricing": pricing,
            "paid_lines": [{"type": "Hosting", "amount": "100.00",
                            "duedate": "2025-01-01", "datepaid": "2024-12-30"}]
        }))
        .expect("facts")
    }

    fn none() -> Upgrades {
        Upgrades::default()
    }

    const TODAY: Date = date(2025, 7, 2);

    #[test]
    fn a_bigger_plan_is_allowed_and_a_smaller_one_refused_with_the_seed_text() {
        let bigger = facts("spanish", json!({"annually": "150.00", "monthly": "15.00"}));
        assert_eq!(check(13, &bigger, &none(), TODAY), Ok(()));
        let smaller = facts("", json!({"annually": "80.00"}));
        let refused = check(13, &smaller, &none(), TODAY).expect_err("downgrade");
        assert_eq!(refused, Refusal::Downgrade);
        assert!(
            refused
                .message(Language::Spanish)
                .starts_with("No es posible bajar de plan")
        );
        assert!(
            refused
                .message(Language::English)
                .starts_with("Moving to a smaller plan")
        );
    }

    #[test]
    fn a_target_outside_whmcs_or_puente_lists_is_refused_with_a_pointer_to_the_manual_request() {
        let bigger = facts("spanish", json!({"annually": "150.00"}));
        let refused = check(99, &bigger, &none(), TODAY).expect_err("not listed");
        assert_eq!(refused.code(), "target_not_allowed");
        assert!(
            refused
                .message(Language::Spanish)
                .contains("solicitar la mejora manualmente")
        );
        // puente's allow-list narrows WHMCS's: product 12 may only go to 14.
        let narrowed = Upgrades {
            targets: [(12, vec![14])].into(),
            ..Upgrades::default()
        };
        assert_eq!(
            check(13, &bigger, &narrowed, TODAY),
            Err(Refusal::TargetNotAllowed)
        );
        assert_eq!(check(14, &bigger, &narrowed, TODAY), Ok(()));
    }

    #[test]
    fn disabled_cycles_are_ignored_and_other_cycles_compare_per_day() {
        // Annual disabled; monthly 12 is 144 a year: more than 100, but the
        // seed charge (12 - 100) is negative, so it is a downgrade.
        let monthly = facts("spanish", json!({"annually": "-1.00", "monthly": "12.00"}));
        assert_eq!(check(13, &monthly, &none(), TODAY), Err(Refusal::Downgrade));
        // Unpriceable facts leave the decision to WHMCS.
        let unpriced = facts("spanish", json!({"annually": "-1.00"}));
        assert_eq!(check(13, &unpriced, &none(), TODAY), Ok(()));
        let priced = quote(
            UpgradePolicy::Seed,
            13,
            &unpriced,
            &none(),
            "annually",
            TODAY,
        );
        assert_eq!(priced.expect_err("disabled").code(), "cycle_not_available");
    }

    #[test]
    fn a_tier_rank_replaces_the_price_comparison() {
        // 13 is cheaper per year but ranked higher: an upgrade (the seed
        // charge 110 - 100 is positive); a lower rank is a downgrade even
        // when it costs more.
        let ranked = Upgrades {
            tiers: [(12, 2), (13, 3), (14, 1)].into(),
            ..Upgrades::default()
        };
        let cheaper_but_higher = facts("spanish", json!({"annually": "110.00", "monthly": "5.00"}));
        let mut service = cheaper_but_higher.clone();
        service.service.recurringamount = "120.00".into();
        assert_eq!(check(13, &service, &none(), TODAY), Err(Refusal::Downgrade));
        assert_eq!(check(13, &service, &ranked, TODAY), Ok(()));
        let dearer = facts("spanish", json!({"annually": "300.00"}));
        assert_eq!(check(14, &dearer, &ranked, TODAY), Err(Refusal::Downgrade));
    }

    #[test]
    fn the_quote_rests_on_the_paid_lines_and_says_when_it_fell_back() {
        let bigger = facts("spanish", json!({"annually": "150.00"}));
        let priced =
            quote(UpgradePolicy::Seed, 13, &bigger, &none(), "Annually", TODAY).expect("quote");
        assert_eq!(priced.quote.charge.to_string(), "50.00");
        assert_eq!(priced.quote.next_due_date, date(2026, 7, 2));
        assert_eq!(priced.paid.source, paid::PaidSource::Invoices);

        let mut unread = bigger.clone();
        unread.paid_lines = None;
        unread.service.recurringamount = "90.00".into();
        let priced =
            quote(UpgradePolicy::Seed, 13, &unread, &none(), "annually", TODAY).expect("quote");
        assert_eq!(priced.quote.charge.to_string(), "60.00");
        assert_eq!(
            priced.paid.source,
            paid::PaidSource::RecurringAmountFallback
        );
    }

    #[test]
    fn a_one_time_service_is_pointed_to_the_manual_request() {
        let mut once = facts("spanish", json!({"annually": "150.00"}));
        once.service.billingcycle = "One Time".into();
        let refused = check(13, &once, &none(), TODAY).expect_err("one time");
        assert_eq!(refused, Refusal::NotAutomatic);
        assert!(refused.message(Language::Spanish).contains("manualmente"));
        let priced = quote(UpgradePolicy::Seed, 13, &once, &none(), "annually", TODAY);
        assert_eq!(priced.expect_err("one time").code(), "target_not_allowed");
    }

    #[test]
    fn a_free_service_pays_the_full_price_from_the_enable_date() {
        let mut free = facts("spanish", json!({"monthly": "15.00"}));
        free.service.billingcycle = "Free Account".into();
        free.service.recurringamount = "0.00".into();
        let priced =
            quote(UpgradePolicy::Seed, 13, &free, &none(), "monthly", TODAY).expect("quote");
        assert_eq!(priced.quote.charge.to_string(), "15.00");
        assert_eq!(priced.quote.next_due_date, date(2025, 8, 2));
        assert_eq!(priced.paid.source, paid::PaidSource::FreeAccount);
        // A free account's due date is often long past: its period starts
        // today all the same.
        free.service.nextduedate = date(2024, 3, 1);
        let priced =
            quote(UpgradePolicy::Seed, 13, &free, &none(), "monthly", TODAY).expect("quote");
        assert_eq!(priced.quote.next_due_date, date(2025, 8, 2));
    }
}
