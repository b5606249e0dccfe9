//! Money: amounts as `rust_decimal` in a currency with an ISO 4217 minor
//! unit. Inputs from puente's own callers are refused when negative or more
//! precise than the currency; results are rounded once, half away from zero,
//! to the minor unit.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// An ISO 4217 currency puente knows, with its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: &'static str,
    minor_unit: u32,
}

/// Currencies WHMCS hosts bill in; the decimals are ISO 4217's.
const CURRENCIES: &[(&str, u32)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("NZD", 2),
    ("CHF", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("HUF", 2),
    ("RON", 2),
    ("BGN", 2),
    ("TRY", 2),
    ("MXN", 2),
    ("ARS", 2),
    ("BRL", 2),
    ("COP", 2),
    ("PEN", 2),
    ("UYU", 2),
    ("BOB", 2),
    ("DOP", 2),
    ("GTQ", 2),
    ("CRC", 2),
    ("HNL", 2),
    ("NIO", 2),
    ("PAB", 2),
    ("VES", 2),
    ("INR", 2),
    ("CNY", 2),
    ("HKD", 2),
    ("SGD", 2),
    ("MYR", 2),
    ("THB", 2),
    ("PHP", 2),
    ("IDR", 2),
    ("ZAR", 2),
    ("NGN", 2),
    ("KES", 2),
    ("EGP", 2),
    ("MAD", 2),
    ("ILS", 2),
    ("AED", 2),
    ("SAR", 2),
    ("QAR", 2),
    ("RUB", 2),
    ("UAH", 2),
    ("PKR", 2),
    ("BDT", 2),
    ("LKR", 2),
    ("TWD", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("CLP", 0),
    ("PYG", 0),
    ("VND", 0),
    ("ISK", 0),
    ("UGX", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("RWF", 0),
    ("GNF", 0),
    ("KMF", 0),
    ("DJF", 0),
    ("BIF", 0),
    ("VUV", 0),
    ("BHD", 3),
    ("KWD", 3),
    ("OMR", 3),
    ("JOD", 3),
    ("TND", 3),
    ("LYD", 3),
    ("IQD", 3),
];

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == upper)
            .map(|&(code, minor_unit)| Self { code, minor_unit })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn minor_unit(self) -> u32 {
        self.minor_unit
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency puente knows")]
    UnknownCurrency(String),
    #[error("`{0}` is not a decimal amount such as 100.00")]
    NotAnAmount(String),
    #[error("`{0}` is negative")]
    Negative(String),
    #[error("`{amount}` has more decimals than {currency} has ({minor_unit})")]
    TooPrecise {
        amount: String,
        currency: &'static str,
        minor_unit: u32,
    },
}

/// An amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// An amount given to puente: a decimal string, not negative, with no
    /// more decimals than the currency has.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let trimmed = text.trim();
        let valid = !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && trimmed.matches('.').count() <= 1;
        let amount: Decimal = valid
            .then(|| trimmed.parse().ok())
            .flatten()
            .ok_or_else(|| MoneyError::NotAnAmount(text.to_owned()))?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative(text.to_owned()));
        }
        if amount.scale() > currency.minor_unit {
            return Err(MoneyError::TooPrecise {
                amount: text.to_owned(),
                currency: currency.code,
                minor_unit: currency.minor_unit,
            });
        }
        Ok(Self { amount, currency })
    }

    /// An amount as WHMCS writes it (any sign, any precision: a promotion
    /// line is negative); `None` when the text is not a number. Rounded
    /// only by [`Money::rounded`].
    pub fn from_whmcs(text: &str, currency: Currency) -> Option<Self> {
        let amount = text.trim().parse::<Decimal>().ok()?;
        Some(Self::exact(amount, currency))
    }

    /// Whether the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// An exact intermediate amount (any precision), rounded only by
    /// [`Money::rounded`].
    pub fn exact(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::exact(Decimal::ZERO, currency).rounded()
    }

    pub fn amount(self) -> Decimal {
        self.amount
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    /// Rounded half away from zero to the currency's minor unit, and
    /// written with exactly that many decimals.
    pub fn rounded(self) -> Self {
        let mut amount = self.amount.round_dp_with_strategy(
            self.currency.minor_unit,
            RoundingStrategy::MidpointAwayFromZero,
        );
        amount.rescale(self.currency.minor_unit);
        Self {
            amount,
            currency: self.currency,
        }
    }
}

impl fmt::Display for Money {
    /// The rounded amount with exactly the currency's decimals (`50.00`,
    /// JPY `333`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rounded().amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").expect("USD")
    }

    #[test]
    fn amounts_are_read_exactly_and_shown_with_the_currency_s_decimals() {
        assert_eq!(
            Money::parse("100", usd()).expect("100").to_string(),
            "100.00"
        );
        assert_eq!(
            Money::parse("24.5", usd()).expect("24.5").to_string(),
            "24.50"
        );
        let yen = Currency::parse("JPY").expect("JPY");
        assert_eq!(Money::exact(Decimal::new(33333, 2), yen).to_string(), "333");
        let dinar = Currency::parse("KWD").expect("KWD");
        assert_eq!(
            Money::parse("1.125", dinar).expect("KWD").to_string(),
            "1.125"
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero_once() {
        assert_eq!(
            Money::exact(Decimal::new(1005, 3), usd()).to_string(),
            "1.01"
        );
        assert_eq!(
            Money::exact(Decimal::new(-1005, 3), usd()).to_string(),
            "-1.01"
        );
        assert_eq!(
            Money::exact(Decimal::new(10049, 4), usd()).to_string(),
            "1.00"
        );
    }

    #[test]
    fn bad_amounts_and_currencies_are_refused() {
        assert_eq!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency("XYZ".into()))
        );
        assert!(matches!(
            Money::parse("-1.00", usd()),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            Money::parse("1.005", usd()),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::parse("1.5", Currency::parse("JPY").expect("JPY")),
            Err(MoneyError::TooPrecise { .. })
        ));
        for text in ["", "abc", "1e3", "1,00", "$5", "1.0.0"] {
            assert!(
                matches!(Money::parse(text, usd()), Err(MoneyError::NotAnAmount(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn a_currency_knows_its_code_and_decimals() {
        for (text, code, minor_unit) in [("usd", "USD", 2), ("JPY", "JPY", 0), (" kwd ", "KWD", 3)]
        {
            let currency = Currency::parse(text).expect("known");
            assert_eq!((currency.code(), currency.minor_unit()), (code, minor_unit));
        }
    }
}
