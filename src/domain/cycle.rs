//! WHMCS billing cycles, in both of WHMCS's spellings (`Semi-Annually` as
//! stored, `semiannually` in pricing), and the calendar they run on.

use jiff::civil::Date;
use jiff::{Span, ToSpan as _};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycle {
    FreeAccount,
    OneTime,
    Monthly,
    Quarterly,
    SemiAnnually,
    Annually,
    Biennially,
    Triennially,
}

impl Cycle {
    pub fn parse(text: &str) -> Option<Self> {
        let key: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match key.as_str() {
            "freeaccount" | "free" => Self::FreeAccount,
            "onetime" => Self::OneTime,
            "monthly" => Self::Monthly,
            "quarterly" => Self::Quarterly,
            "semiannually" => Self::SemiAnnually,
            "annually" => Self::Annually,
            "biennially" => Self::Biennially,
            "triennially" => Self::Triennially,
            _ => return None,
        })
    }

    /// As WHMCS stores it on a service.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FreeAccount => "Free Account",
            Self::OneTime => "One Time",
            Self::Monthly => "Monthly",
            Self::Quarterly => "Quarterly",
            Self::SemiAnnually => "Semi-Annually",
            Self::Annually => "Annually",
            Self::Biennially => "Biennially",
            Self::Triennially => "Triennially",
        }
    }

    /// Months in one period; none for free and one-time services.
    pub fn months(self) -> Option<i32> {
        match self {
            Self::FreeAccount | Self::OneTime => None,
            Self::Monthly => Some(1),
            Self::Quarterly => Some(3),
            Self::SemiAnnually => Some(6),
            Self::Annually => Some(12),
            Self::Biennially => Some(24),
            Self::Triennially => Some(36),
        }
    }

    /// The day one period after `from`, keeping the day of the month and
    /// clamping to the month's end (Jan 31 + 1 month = Feb 28 or 29).
    pub fn after(self, from: Date) -> Option<Date> {
        let months = self.months()?;
        from.checked_add(months.months()).ok()
    }

    /// Calendar days in the period that starts on `from`.
    pub fn days_from(self, from: Date) -> Option<i64> {
        Some(days_between(from, self.after(from)?))
    }
}

/// Calendar days from `start` to `end` (negative when `end` is earlier).
pub fn days_between(start: Date, end: Date) -> i64 {
    start
        .until(end)
        .map_or(0, |span: Span| i64::from(span.get_days()))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn both_whmcs_spellings_name_the_same_cycle() {
        for (stored, pricing, cycle) in [
            ("Semi-Annually", "semiannually", Cycle::SemiAnnually),
            ("Annually", "annually", Cycle::Annually),
            ("One Time", "onetime", Cycle::OneTime),
            ("One-Time", "onetime", Cycle::OneTime),
            ("Free Account", "free", Cycle::FreeAccount),
        ] {
            assert_eq!(Cycle::parse(stored), Some(cycle));
            assert_eq!(Cycle::parse(pricing), Some(cycle));
        }
        assert_eq!(Cycle::parse("weekly"), None);
    }

    #[test]
    fn periods_keep_the_day_and_clamp_to_month_ends_and_leap_years() {
        assert_eq!(
            Cycle::Monthly.after(date(2025, 1, 31)),
            Some(date(2025, 2, 28))
        );
        assert_eq!(
            Cycle::Monthly.after(date(2024, 1, 31)),
            Some(date(2024, 2, 29))
        );
        assert_eq!(
            Cycle::Annually.after(date(2024, 2, 29)),
            Some(date(2025, 2, 28))
        );
        assert_eq!(
            Cycle::Quarterly.after(date(2025, 11, 30)),
            Some(date(2026, 2, 28))
        );
        assert_eq!(Cycle::Annually.days_from(date(2024, 1, 1)), Some(366));
        assert_eq!(Cycle::OneTime.after(date(2025, 1, 1)), None);
        assert_eq!(days_between(date(2025, 1, 1), date(2025, 3, 1)), 59);
    }

    #[test]
    fn every_cycle_is_written_as_whmcs_stores_it_and_read_back() {
        for (cycle, stored) in [
            (Cycle::FreeAccount, "Free Account"),
            (Cycle::OneTime, "One Time"),
            (Cycle::Monthly, "Monthly"),
            (Cycle::Quarterly, "Quarterly"),
            (Cycle::SemiAnnually, "Semi-Annually"),
            (Cycle::Annually, "Annually"),
            (Cycle::Biennially, "Biennially"),
            (Cycle::Triennially, "Triennially"),
        ] {
            assert_eq!(cycle.as_str(), stored);
            assert_eq!(Cycle::parse(stored), Some(cycle));
        }
    }
}
