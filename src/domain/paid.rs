//! "Amount already paid for the current period" (SPEC §2.1), from the paid
//! WHMCS invoice lines the addon reads for the service: the renewal line
//! (`Hosting`) net of its promotion line (`PromoHosting`), plus the upgrade
//! charges (`Upgrade`) paid within the period. Invoice line amounts carry
//! neither tax nor setup fees, which WHMCS keeps apart (the tax on the
//! invoice, the setup fee on its own line), so summing these lines excludes
//! both. Where the lines cannot say, the service's recurring amount stands
//! in and the answer says so.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::money::Money;

/// One paid invoice line of the service, as the addon reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct PaidLine {
    /// WHMCS's line type: `Hosting`, `PromoHosting` or `Upgrade`.
    #[serde(rename = "type")]
    pub kind: String,
    /// As WHMCS stores it; a promotion line is negative.
    pub amount: String,
    /// The line's own due date: for a renewal, the start of the period it pays.
    #[serde(default, deserialize_with = "optional_date")]
    pub duedate: Option<Date>,
    /// When its invoice was paid.
    #[serde(default, deserialize_with = "optional_date")]
    pub datepaid: Option<Date>,
}

/// Where the amount came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaidSource {
    /// The period's paid renewal line and the upgrades paid within it.
    Invoices,
    /// The period began with an upgrade that restarted it: the recurring
    /// amount puente set then is what the period cost.
    UpgradeRestart,
    /// No paid line covers the period: the recurring amount stands in.
    RecurringAmountFallback,
    /// A free service: nothing was paid.
    FreeAccount,
}

impl PaidSource {
    /// The metric outcome that counts quotes resting on this source.
    pub fn metric(self) -> &'static str {
        match self {
            Self::Invoices => "paid_invoices",
            Self::UpgradeRestart => "paid_upgrade_restart",
            Self::RecurringAmountFallback => "paid_recurring_amount_fallback",
            Self::FreeAccount => "paid_free_account",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoices => "invoices",
            Self::UpgradeRestart => "upgrade_restart",
            Self::RecurringAmountFallback => "recurring_amount_fallback",
            Self::FreeAccount => "free_account",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountPaid {
    pub amount: Money,
    pub source: PaidSource,
}

/// What was paid for the period `[period_start, next_due_date)`.
/// `lines: None` means the addon could not read the invoices at all.
pub fn amount_paid(
    lines: Option<&[PaidLine]>,
    recurring: Money,
    period_start: Date,
    next_due_date: Date,
) -> AmountPaid {
    let currency = recurring.currency();
    let fallback = AmountPaid {
        amount: recurring,
        source: PaidSource::RecurringAmountFallback,
    };
    let Some(lines) = lines else {
        return fallback;
    };
    let within = |day: Option<Date>| day.is_some_and(|d| d >= period_start && d < next_due_date);
    let amount = |line: &PaidLine| Money::from_whmcs(&line.amount, currency).map(Money::amount);
    let of = |kind: &'static str| {
        lines
            .iter()
            .filter(move |line| line.kind.eq_ignore_ascii_case(kind))
    };

    let renewal: Vec<&PaidLine> = of("Hosting").filter(|l| within(l.duedate)).collect();
    let upgrades: Vec<&PaidLine> = of("Upgrade").filter(|l| within(l.datepaid)).collect();
    let sum = |lines: &mut dyn Iterator<Item = &PaidLine>| {
        lines.filter_map(amount).fold(Decimal::ZERO, |a, b| a + b)
    };
    if !renewal.is_empty() {
        let promotions = of("PromoHosting").filter(|l| within(l.duedate));
        let total = sum(&mut renewal.into_iter().chain(promotions).chain(upgrades));
        return AmountPaid {
            amount: Money::exact(total.max(Decimal::ZERO), currency),
            source: PaidSource::Invoices,
        };
    }
    // A period with no renewal line but a paid upgrade began with that
    // upgrade: puente restarted the period and set the recurring amount to
    // the new plan's price, which is what the client is deemed to have paid
    // for it (the month-end clamp can put the payment a few days after the
    // computed start). Later upgrades of the period add their charges.
    let restart = upgrades
        .iter()
        .enumerate()
        .min_by_key(|(_, line)| line.datepaid)
        .map(|(index, _)| index);
    if let Some(restart) = restart {
        let mut later = upgrades
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != restart)
            .map(|(_, line)| *line);
        let total = recurring.amount() + sum(&mut later);
        return AmountPaid {
            amount: Money::exact(total, currency),
            source: PaidSource::UpgradeRestart,
        };
    }
    fallback
}

fn optional_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Date>, D::Error> {
    // WHMCS writes "0000-00-00" for "never".
    let text: Option<String> = Option::deserialize(deserializer)?;
    Ok(text.and_then(|text| text.get(..10).and_then(|day| day.parse().ok())))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::domain::money::Currency;

    fn usd(text: &str) -> Money {
        Money::parse(text, Currency::parse("USD").expect("USD")).expect("amount")
    }

    fn line(kind: &str, amount: &str, duedate: &str, datepaid: &str) -> PaidLine {
        serde_json::from_value(serde_json::json!({
            "type": kind, "amount": amount, "duedate": duedate, "datepaid": datepaid
        }))
        .expect("line")
    }

    const START: Date = date(2025, 1, 1);
    const DUE: Date = date(2026, 1, 1);

    #[test]
    fn the_renewal_net_of_its_promotion_plus_upgrades_of_the_period() {
        let lines = [
            // Last period's renewal does not count.
            line("Hosting", "90.00", "2024-01-01", "2024-01-03"),
            line("Hosting", "100.00", "2025-01-01", "2024-12-28"),
            line("PromoHosting", "-10.00", "2025-01-01", "2024-12-28"),
            line("Upgrade", "25.50", "2025-03-10", "2025-03-10"),
            // A charge of the next period, paid early, does not either.
            line("Upgrade", "5.00", "2026-01-02", "2026-01-02"),
        ];
        let paid = amount_paid(Some(&lines), usd("120.00"), START, DUE);
        assert_eq!(paid.source, PaidSource::Invoices);
        assert_eq!(paid.amount.rounded().to_string(), "115.50");
    }

    #[test]
    fn without_a_renewal_line_the_recurring_amount_stands_in_and_says_so() {
        for lines in [None, Some(&[][..])] {
            let paid = amount_paid(lines, usd("100.00"), START, DUE);
            assert_eq!(paid.source, PaidSource::RecurringAmountFallback);
            assert_eq!(paid.amount, usd("100.00"));
        }
    }

    #[test]
    fn a_period_restarted_by_an_upgrade_counts_the_new_recurring_amount_once() {
        // Paid 100 on 2025-01-01, upgraded to 150 on 2025-07-02 (charge 50):
        // the period restarted; a later upgrade in it adds its charge.
        let restart = date(2025, 7, 2);
        let lines = [
            line("Hosting", "100.00", "2025-01-01", "2025-01-01"),
            line("Upgrade", "50.00", "2025-07-02", "2025-07-02"),
            line("Upgrade", "20.00", "2025-09-01", "2025-09-01"),
        ];
        let paid = amount_paid(Some(&lines), usd("150.00"), restart, date(2026, 7, 2));
        assert_eq!(paid.source, PaidSource::UpgradeRestart);
        assert_eq!(paid.amount.rounded().to_string(), "170.00");
    }

    #[test]
    fn a_monthly_period_restarted_on_the_31st_is_still_recognised() {
        // Enabled on Jan 31: next due Feb 28, so the computed start is Jan 28.
        let lines = [line("Upgrade", "9.00", "2025-01-31", "2025-01-31")];
        let paid = amount_paid(
            Some(&lines),
            usd("20.00"),
            date(2025, 1, 28),
            date(2025, 2, 28),
        );
        assert_eq!(paid.source, PaidSource::UpgradeRestart);
        assert_eq!(paid.amount.rounded().to_string(), "20.00");
    }

    #[test]
    fn whmcs_never_dates_and_unreadable_amounts_count_for_nothing() {
        let lines = [
            line("Hosting", "100.00", "2025-01-01", "0000-00-00"),
            line("Upgrade", "abc", "2025-02-01", "2025-02-01"),
        ];
        let paid = amount_paid(Some(&lines), usd("80.00"), START, DUE);
        assert_eq!(paid.amount.rounded().to_string(), "100.00");
    }

    #[test]
    fn a_promotion_larger_than_the_renewal_never_makes_the_paid_amount_negative() {
        let lines = [
            line("Hosting", "10.00", "2025-01-01", "2025-01-01"),
            line("PromoHosting", "-12.00", "2025-01-01", "2025-01-01"),
        ];
        let paid = amount_paid(Some(&lines), usd("10.00"), START, DUE);
        assert_eq!(paid.amount.rounded().to_string(), "0.00");
    }

    #[test]
    fn sources_have_their_names_and_metric_outcomes() {
        for (source, name, metric) in [
            (PaidSource::Invoices, "invoices", "paid_invoices"),
            (
                PaidSource::UpgradeRestart,
                "upgrade_restart",
                "paid_upgrade_restart",
            ),
            (
                PaidSource::RecurringAmountFallback,
                "recurring_amount_fallback",
                "paid_recurring_amount_fallback",
            ),
            (PaidSource::FreeAccount, "free_account", "paid_free_account"),
        ] {
            assert_eq!((source.as_str(), source.metric()), (name, metric));
        }
    }

    #[test]
    fn the_period_ends_the_day_before_the_next_due_date() {
        // A renewal due on the next due date is the next period's.
        let lines = [
            line("Hosting", "100.00", "2025-01-01", "2024-12-28"),
            line("Hosting", "100.00", "2026-01-01", "2025-12-28"),
        ];
        let paid = amount_paid(Some(&lines), usd("100.00"), START, DUE);
        assert_eq!(paid.amount.rounded().to_string(), "100.00");
        let first_day = [line("Upgrade", "9.00", "2025-01-01", "2025-01-01")];
        let next_day = [line("Upgrade", "9.00", "2026-01-01", "2026-01-01")];
        assert_eq!(
            amount_paid(Some(&first_day), usd("100.00"), START, DUE).source,
            PaidSource::UpgradeRestart
        );
        assert_eq!(
            amount_paid(Some(&next_day), usd("100.00"), START, DUE).source,
            PaidSource::RecurringAmountFallback
        );
    }
}
