//! The upgrade price rule (SPEC §2.1–2.2), pure: the enable date comes in
//! as an argument, money is `Money`, and the result says what to charge,
//! when the service is next due, and whether the change is a downgrade
//! (which is refused, never charged or credited).

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::cycle::{Cycle, days_between};
use super::money::{Currency, Money};

/// How an upgrade is priced and when the new plan's period starts
/// (`PUENTE_UPGRADE_POLICY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradePolicy {
    Seed,
    SeedSameDueDate,
    Prorata,
    ProrataRestart,
}

impl UpgradePolicy {
    pub const NAMES: &str = "seed, seed_same_due_date, prorata, prorata_restart";

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "seed" => Self::Seed,
            "seed_same_due_date" => Self::SeedSameDueDate,
            "prorata" => Self::Prorata,
            "prorata_restart" => Self::ProrataRestart,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::SeedSameDueDate => "seed_same_due_date",
            Self::Prorata => "prorata",
            Self::ProrataRestart => "prorata_restart",
        }
    }

    /// Whether the new plan's period starts on the enable date.
    pub fn restarts_period(self) -> bool {
        matches!(self, Self::Seed | Self::ProrataRestart)
    }
}

/// The service as it is.
#[derive(Debug, Clone)]
pub struct Current {
    /// Its recurring price.
    pub price: Money,
    pub cycle: Cycle,
    /// What the client paid for the current period (see SPEC §2.1).
    pub paid: Money,
    pub period_start: Date,
    pub next_due_date: Date,
}

/// The plan the client chose.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its price for the chosen cycle.
    pub price: Money,
    pub cycle: Cycle,
    /// Its price on the current plan's cycle, when WHMCS offers that cycle.
    pub price_in_current_cycle: Option<Money>,
    /// How its tier ranks against the current plan's, when the
    /// administrator ranked both; it then replaces the price comparison.
    pub tier: Option<std::cmp::Ordering>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Upgrade,
    Downgrade,
}

/// What an upgrade costs and changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub kind: Kind,
    /// Rounded to the currency's minor unit; zero for a downgrade.
    pub charge: Money,
    pub next_due_date: Date,
    /// The old plan's value the policy credited (before rounding).
    pub credit: Money,
    pub days_left: i64,
    pub days_in_period: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    #[error("One Time products are not upgraded automatically; ask for a manual upgrade")]
    OneTime,
    #[error("the target cycle must be a recurring one (Monthly … Triennially)")]
    TargetNotRecurring,
    #[error("amounts must all be in {0}")]
    MixedCurrencies(&'static str),
    #[error("the enable date {on} must fall within the current period {start} to {due}")]
    OutsidePeriod { on: Date, start: Date, due: Date },
}

/// Prices the change from `current` to `target` when enabled on `on`.
pub fn quote(
    policy: UpgradePolicy,
    current: &Current,
    target: &Target,
    on: Date,
) -> Result<Quote, UpgradeError> {
    let currency = current.price.currency();
    for money in [current.paid, target.price]
        .into_iter()
        .chain(target.price_in_current_cycle)
    {
        if money.currency() != currency {
            return Err(UpgradeError::MixedCurrencies(currency.code()));
        }
    }
    let target_period_end = target
        .cycle
        .after(on)
        .ok_or(UpgradeError::TargetNotRecurring)?;
    let target_days = days_between(on, target_period_end);
    let money = |amount: Decimal| Money::exact(amount, currency);

    // Free → paid: nothing was paid and the period starts on the enable date.
    if current.cycle == Cycle::FreeAccount {
        let charge = target.price.rounded();
        let kind = if charge.amount() > Decimal::ZERO {
            Kind::Upgrade
        } else {
            Kind::Downgrade
        };
        return Ok(finish(
            kind,
            charge,
            target_period_end,
            Money::zero(currency),
            0,
            target_days,
            currency,
        ));
    }
    if current.cycle == Cycle::OneTime {
        return Err(UpgradeError::OneTime);
    }
    if on < current.period_start || on > current.next_due_date {
        return Err(UpgradeError::OutsidePeriod {
            on,
            start: current.period_start,
            due: current.next_due_date,
        });
    }
    let days_left = days_between(on, current.next_due_date);
    let days_in_period = days_between(current.period_start, current.next_due_date).max(1);
    let left = Decimal::from(days_left) / Decimal::from(days_in_period);
    let target_per_day = target.price.amount() / Decimal::from(target_days.max(1));

    let (charge, credit, next_due_date) = match policy {
        UpgradePolicy::Seed => (
            target.price.amount() - current.paid.amount(),
            current.paid.amount(),
            target_period_end,
        ),
        UpgradePolicy::SeedSameDueDate => (
            target.price.amount() - current.paid.amount(),
            current.paid.amount(),
            current.next_due_date,
        ),
        UpgradePolicy::Prorata => {
            let credit = current.price.amount() * left;
            let new_part = match comparable_price(current, target) {
                Some(price) => price * left,
                None => target_per_day * Decimal::from(days_left),
            };
            (new_part - credit, credit, current.next_due_date)
        }
        UpgradePolicy::ProrataRestart => {
            let credit = current.paid.amount() * left;
            (target.price.amount() - credit, credit, target_period_end)
        }
    };
    let kind = if is_downgrade(current, target, on) {
        Kind::Downgrade
    } else {
        Kind::Upgrade
    };
    let charge = money(charge.max(Decimal::ZERO)).rounded();
    Ok(finish(
        kind,
        charge,
        next_due_date,
        money(credit),
        days_left,
        days_in_period,
        currency,
    ))
}

fn finish(
    kind: Kind,
    charge: Money,
    next_due_date: Date,
    credit: Money,
    days_left: i64,
    days_in_period: i64,
    currency: Currency,
) -> Quote {
    match kind {
        Kind::Upgrade => Quote {
            kind,
            charge,
            next_due_date,
            credit,
            days_left,
            days_in_period,
        },
        Kind::Downgrade => Quote {
            kind,
            charge: Money::zero(currency),
            next_due_date,
            credit: Money::zero(currency),
            days_left,
            days_in_period,
        },
    }
}

/// The target's price on the current plan's cycle, where there is one.
fn comparable_price(current: &Current, target: &Target) -> Option<Decimal> {
    if target.cycle == current.cycle {
        Some(target.price.amount())
    } else {
        target.price_in_current_cycle.map(Money::amount)
    }
}

/// SPEC §2.2: a lower tier where both are ranked, else cheaper on the same
/// cycle (else per day); or a `seed` charge that would be zero or negative.
fn is_downgrade(current: &Current, target: &Target, on: Date) -> bool {
    let non_positive_seed_charge = target.price.amount() - current.paid.amount() <= Decimal::ZERO;
    if let Some(tier) = target.tier {
        return tier == std::cmp::Ordering::Less || non_positive_seed_charge;
    }
    let cheaper = match comparable_price(current, target) {
        Some(price) => price < current.price.amount(),
        None => {
            let per_day = |price: Decimal, cycle: Cycle, from: Date| {
                cycle
                    .days_from(from)
                    .map(|days| price / Decimal::from(days.max(1)))
            };
            match (
                per_day(target.price.amount(), target.cycle, on),
                per_day(current.price.amount(), current.cycle, current.period_start),
            ) {
                (Some(new), Some(old)) => new < old,
                _ => false,
            }
        }
    };
    cheaper || non_positive_seed_charge
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn usd(text: &str) -> Money {
        Money::parse(text, Currency::parse("USD").expect("USD")).expect(text)
    }

    fn annual(price: &str, paid: &str) -> Current {
        Current {
            price: usd(price),
            cycle: Cycle::Annually,
            paid: usd(paid),
            period_start: date(2025, 1, 1),
            next_due_date: date(2026, 1, 1),
        }
    }

    fn target(price: &str, cycle: Cycle) -> Target {
        Target {
            price: usd(price),
            cycle,
            price_in_current_cycle: None,
            tier: None,
        }
    }

    #[test]
    fn the_seed_example_charges_the_difference_and_restarts_the_period() {
        let quote = quote(
            UpgradePolicy::Seed,
            &annual("100.00", "100.00"),
            &target("150.00", Cycle::Annually),
            date(2025, 7, 2),
        )
        .expect("quote");
        assert_eq!(quote.kind, Kind::Upgrade);
        assert_eq!(quote.charge.to_string(), "50.00");
        assert_eq!(quote.next_due_date, date(2026, 7, 2));
    }

    #[test]
    fn each_policy_prices_the_same_change_its_own_way() {
        let current = annual("100.00", "100.00");
        let to = target("150.00", Cycle::Annually);
        let on = date(2025, 7, 2); // 183 of 365 days left
        let cases = [
            (UpgradePolicy::Seed, "50.00", date(2026, 7, 2)),
            (UpgradePolicy::SeedSameDueDate, "50.00", date(2026, 1, 1)),
            (UpgradePolicy::Prorata, "25.07", date(2026, 1, 1)),
            (UpgradePolicy::ProrataRestart, "99.86", date(2026, 7, 2)),
        ];
        for (policy, charge, due) in cases {
            let quote = quote(policy, &current, &to, on).expect("quote");
            assert_eq!(
                (quote.charge.to_string(), quote.next_due_date),
                (charge.to_owned(), due),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn downgrades_are_refused_and_never_charged() {
        let current = annual("150.00", "150.00");
        for to in [
            target("100.00", Cycle::Annually),
            target("10.00", Cycle::Monthly),
            target("150.00", Cycle::Annually),
        ] {
            let quote = quote(UpgradePolicy::Seed, &current, &to, date(2025, 7, 2)).expect("quote");
            assert_eq!(quote.kind, Kind::Downgrade, "{to:?}");
            assert_eq!(quote.charge.to_string(), "0.00");
        }
    }

    #[test]
    fn cross_cycle_changes_compare_like_with_like() {
        // Monthly 10 → annual 150: per day 0.41 > 0.33; seed charge 150 − 10.
        let monthly = Current {
            price: usd("10.00"),
            cycle: Cycle::Monthly,
            paid: usd("10.00"),
            period_start: date(2025, 3, 1),
            next_due_date: date(2025, 4, 1),
        };
        let quote = quote(
            UpgradePolicy::Seed,
            &monthly,
            &target("150.00", Cycle::Annually),
            date(2025, 3, 15),
        )
        .expect("quote");
        assert_eq!(
            (quote.kind, quote.charge.to_string()),
            (Kind::Upgrade, "140.00".to_owned())
        );
        assert_eq!(quote.next_due_date, date(2026, 3, 15));
        // Annual 120 → monthly 15: more per day, but the seed charge is negative.
        let annual_to_monthly = quote_of(
            UpgradePolicy::Seed,
            &annual("120.00", "120.00"),
            &target("15.00", Cycle::Monthly),
        );
        assert_eq!(annual_to_monthly.kind, Kind::Downgrade);
    }

    fn quote_of(policy: UpgradePolicy, current: &Current, to: &Target) -> Quote {
        quote(policy, current, to, date(2025, 7, 2)).expect("quote")
    }

    #[test]
    fn free_to_paid_charges_the_full_price_from_the_enable_date() {
        let free = Current {
            price: usd("0.00"),
            cycle: Cycle::FreeAccount,
            paid: usd("0.00"),
            period_start: date(2025, 1, 1),
            next_due_date: date(2025, 1, 1),
        };
        let quote = quote(
            UpgradePolicy::Seed,
            &free,
            &target("9.99", Cycle::Monthly),
            date(2025, 1, 31),
        )
        .expect("quote");
        assert_eq!(
            (quote.kind, quote.charge.to_string()),
            (Kind::Upgrade, "9.99".to_owned())
        );
        assert_eq!(quote.next_due_date, date(2025, 2, 28));
    }

    #[test]
    fn the_first_and_last_day_and_february_29_are_priced() {
        let current = Current {
            price: usd("100.00"),
            cycle: Cycle::Annually,
            paid: usd("100.00"),
            period_start: date(2024, 2, 29),
            next_due_date: date(2025, 2, 28),
        };
        let to = target("200.00", Cycle::Annually);
        let first =
            quote(UpgradePolicy::Prorata, &current, &to, date(2024, 2, 29)).expect("first day");
        assert_eq!(
            (
                first.days_left,
                first.days_in_period,
                first.charge.to_string()
            ),
            (365, 365, "100.00".to_owned())
        );
        let last =
            quote(UpgradePolicy::Prorata, &current, &to, date(2025, 2, 28)).expect("last day");
        assert_eq!(last.charge.to_string(), "0.00");
        let seed = quote(UpgradePolicy::Seed, &current, &to, date(2024, 2, 29)).expect("seed");
        assert_eq!(seed.next_due_date, date(2025, 2, 28));
    }

    #[test]
    fn yen_has_no_decimals_and_a_second_upgrade_counts_both_payments() {
        let yen = Currency::parse("JPY").expect("JPY");
        let current = Current {
            price: Money::parse("1000", yen).expect("price"),
            cycle: Cycle::Annually,
            paid: Money::parse("1000", yen).expect("paid"),
            period_start: date(2025, 1, 1),
            next_due_date: date(2026, 1, 1),
        };
        let to = Target {
            price: Money::parse("2000", yen).expect("target"),
            cycle: Cycle::Annually,
            price_in_current_cycle: None,
            tier: None,
        };
        let prorata =
            quote(UpgradePolicy::Prorata, &current, &to, date(2025, 9, 1)).expect("quote");
        assert_eq!(prorata.charge.to_string(), "334"); // 1000 × 122/365 = 334.2
        // Paid 100 + an upgrade of 50 in the same period, now to 200.
        let paid_twice = annual("150.00", "150.00");
        assert_eq!(
            quote_of(
                UpgradePolicy::Seed,
                &paid_twice,
                &target("200.00", Cycle::Annually)
            )
            .charge
            .to_string(),
            "50.00"
        );
    }

    #[test]
    fn impossible_requests_are_refused_with_a_reason() {
        let one_time = Current {
            cycle: Cycle::OneTime,
            ..annual("100.00", "100.00")
        };
        assert_eq!(
            quote(
                UpgradePolicy::Seed,
                &one_time,
                &target("150.00", Cycle::Annually),
                date(2025, 7, 2)
            ),
            Err(UpgradeError::OneTime)
        );
        assert_eq!(
            quote(
                UpgradePolicy::Seed,
                &annual("100.00", "100.00"),
                &target("150.00", Cycle::OneTime),
                date(2025, 7, 2)
            ),
            Err(UpgradeError::TargetNotRecurring)
        );
        assert!(matches!(
            quote(
                UpgradePolicy::Seed,
                &annual("100.00", "100.00"),
                &target("150.00", Cycle::Annually),
                date(2026, 2, 1)
            ),
            Err(UpgradeError::OutsidePeriod { .. })
        ));
    }
    fn monthly(price: &str, paid: &str, start: Date, due: Date) -> Current {
        Current {
            price: usd(price),
            cycle: Cycle::Monthly,
            paid: usd(paid),
            period_start: start,
            next_due_date: due,
        }
    }

    #[test]
    fn across_cycles_without_a_comparable_price_per_day_prices_decide() {
        // Monthly 10 (31 days from Jan 1) = 0.3226/day.
        let current = monthly("10.00", "10.00", date(2025, 1, 1), date(2025, 2, 1));
        let on = date(2025, 1, 16); // 16 of 31 days left
        for (price, kind) in [
            // 100/365 = 0.274 a day: cheaper, though the seed charge is 90.
            ("100.00", Kind::Downgrade),
            // 240/365 = 0.658 a day.
            ("240.00", Kind::Upgrade),
        ] {
            let to = target(price, Cycle::Annually);
            let quote = quote(UpgradePolicy::Seed, &current, &to, on).expect("quote");
            assert_eq!(quote.kind, kind, "{price}");
        }
        // Equal per day is not cheaper: 31.00 a month from Jul 1 (31 days)
        // against 365.00 a year from Jan 1 (365 days), 20.00 paid so far.
        let yearly = Current {
            paid: usd("20.00"),
            ..annual("365.00", "20.00")
        };
        let same = quote(
            UpgradePolicy::Seed,
            &yearly,
            &target("31.00", Cycle::Monthly),
            date(2025, 7, 1),
        )
        .expect("quote");
        assert_eq!(same.kind, Kind::Upgrade);

        // Prorata: the new plan's price per day over the days left, less
        // the unused part of the old one: 240/365 × 16 − 10 × 16/31.
        let prorata = quote(
            UpgradePolicy::Prorata,
            &current,
            &target("240.00", Cycle::Annually),
            on,
        )
        .expect("quote");
        assert_eq!(prorata.charge.to_string(), "5.36");
        assert_eq!(prorata.next_due_date, date(2025, 2, 1));
    }

    #[test]
    fn a_comparable_price_is_the_target_s_own_on_the_same_cycle_or_the_one_given() {
        // Period Jan 15 → Feb 15 (31 days); on Feb 1, 14 days left; the
        // target's month from Feb 1 has 28 days, so per-day pricing would
        // give 20/28 × 14 = 10.00 instead of 20 × 14/31.
        let current = monthly("10.00", "10.00", date(2025, 1, 15), date(2025, 2, 15));
        let on = date(2025, 2, 1);
        let same_cycle = quote(
            UpgradePolicy::Prorata,
            &current,
            &target("20.00", Cycle::Monthly),
            on,
        )
        .expect("quote");
        assert_eq!(same_cycle.charge.to_string(), "4.52"); // (20 − 10) × 14/31
        let annual_with_monthly_price = Target {
            price_in_current_cycle: Some(usd("20.00")),
            ..target("200.00", Cycle::Annually)
        };
        let given = quote(
            UpgradePolicy::Prorata,
            &current,
            &annual_with_monthly_price,
            on,
        )
        .expect("quote");
        assert_eq!(given.charge.to_string(), "4.52");
        // A cheaper comparable price is a downgrade even when per day the
        // annual price is higher.
        let cheaper_monthly = Target {
            price_in_current_cycle: Some(usd("5.00")),
            ..target("400.00", Cycle::Annually)
        };
        assert_eq!(
            quote(UpgradePolicy::Seed, &current, &cheaper_monthly, on)
                .expect("quote")
                .kind,
            Kind::Downgrade
        );
    }

    #[test]
    fn the_same_price_on_the_same_cycle_is_not_cheaper() {
        // Paid 60 of a 100 plan (a first-period discount): moving to another
        // 100 plan charges the 40 not yet paid, as an upgrade.
        let quote = quote_of(
            UpgradePolicy::Seed,
            &annual("100.00", "60.00"),
            &target("100.00", Cycle::Annually),
        );
        assert_eq!(
            (quote.kind, quote.charge.to_string()),
            (Kind::Upgrade, "40.00".to_owned())
        );
    }

    #[test]
    fn free_to_free_is_no_upgrade() {
        let free = Current {
            price: usd("0.00"),
            cycle: Cycle::FreeAccount,
            paid: usd("0.00"),
            period_start: date(2025, 1, 1),
            next_due_date: date(2025, 1, 1),
        };
        let quote = quote(
            UpgradePolicy::Seed,
            &free,
            &target("0.00", Cycle::Monthly),
            date(2025, 1, 31),
        )
        .expect("quote");
        assert_eq!(
            (quote.kind, quote.charge.to_string()),
            (Kind::Downgrade, "0.00".to_owned())
        );
    }
}

#[cfg(test)]
mod properties {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    const CYCLES: [Cycle; 6] = [
        Cycle::Monthly,
        Cycle::Quarterly,
        Cycle::SemiAnnually,
        Cycle::Annually,
        Cycle::Biennially,
        Cycle::Triennially,
    ];
    const POLICIES: [UpgradePolicy; 4] = [
        UpgradePolicy::Seed,
        UpgradePolicy::SeedSameDueDate,
        UpgradePolicy::Prorata,
        UpgradePolicy::ProrataRestart,
    ];

    fn cents(amount: i64) -> Money {
        Money::exact(
            Decimal::new(amount, 2),
            Currency::parse("EUR").expect("EUR"),
        )
    }

    proptest! {
        #[test]
        fn an_upgrade_is_never_negative_and_a_downgrade_never_charges(
            price in 0i64..1_000_000,
            paid_share in 0i64..=100,
            target_price in 0i64..1_000_000,
            current_cycle in 0usize..6,
            target_cycle in 0usize..6,
            policy in 0usize..4,
            start_offset in 0i32..3000,
            elapsed_share in 0i64..=100,
        ) {
            let cycle = CYCLES[current_cycle];
            let period_start = date(2024, 1, 1).checked_add(jiff::Span::new().days(start_offset)).expect("date");
            let next_due_date = cycle.after(period_start).expect("recurring");
            let days = days_between(period_start, next_due_date);
            let on = period_start.checked_add(jiff::Span::new().days(days * elapsed_share / 100)).expect("on");
            let current = Current {
                price: cents(price),
                cycle,
                paid: cents(price * paid_share / 100),
                period_start,
                next_due_date,
            };
            let target = Target { price: cents(target_price), cycle: CYCLES[target_cycle], price_in_current_cycle: None, tier: None };

            let quote = quote(POLICIES[policy], &current, &target, on).expect("a recurring change is priced");

            prop_assert!(quote.charge.amount() >= Decimal::ZERO);
            prop_assert_eq!(quote.charge.amount().scale(), 2);
            if quote.kind == Kind::Downgrade {
                prop_assert!(quote.charge.amount().is_zero());
            }
            if target_price <= price * paid_share / 100 {
                prop_assert_eq!(quote.kind, Kind::Downgrade, "a non-positive seed charge is a downgrade");
            }
            if CYCLES[target_cycle] == cycle && target_price < price {
                prop_assert_eq!(quote.kind, Kind::Downgrade, "cheaper on the same cycle is a downgrade");
            }
        }
    }
}
