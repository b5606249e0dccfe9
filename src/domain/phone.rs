//! WhatsApp recipients: a WHMCS client's phone as E.164 digits.
//!
//! WHMCS keeps phones in several shapes: `+234.8031234567` in hook vars,
//! `8031234567` beside `phonecc` `234` in the API, and whatever a client
//! typed (`0803 123 4567`, `00234…`). Google's numbering plan data (the
//! `phonenumber` crate) decides which are real numbers; the Cloud API then
//! takes the digits without `+` (messaging_signing.md §1.9).

use std::fmt;

use phonenumber::{Mode, country};

/// A valid phone number as E.164 digits without `+` (`2348031234567`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a client's phone cannot receive a message; recorded, never retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the client has no phone number")]
    Missing,
    #[error("`{0}` is not a phone number")]
    Unreadable(String),
    #[error("`{0}` is not a valid number in its country's numbering plan")]
    Invalid(String),
}

impl PhoneNumber {
    /// Reads a WHMCS phone: `number` as stored or typed, `calling_code`
    /// (`phonecc`, may be empty) and `country` (ISO alpha-2, may be empty).
    pub fn from_whmcs(number: &str, calling_code: &str, country: &str) -> Result<Self, PhoneError> {
        let number = number.trim();
        if number.chars().all(|c| !c.is_ascii_digit()) {
            return Err(PhoneError::Missing);
        }
        // WHMCS writes "+CC.number"; "00" is the international prefix in
        // most countries; both mean the number carries its calling code.
        let international = number
            .strip_prefix('+')
            .or_else(|| number.strip_prefix("00"))
            .map(|rest| format!("+{}", rest.replace('.', " ")));
        let region = country
            .trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .ok();
        let calling_code: String = calling_code.chars().filter(char::is_ascii_digit).collect();
        let parsed = match international {
            Some(text) => phonenumber::parse(None, &text),
            // A national number: the country's plan strips its trunk prefix.
            None if region.is_some() => phonenumber::parse(region, number),
            None if !calling_code.is_empty() => {
                phonenumber::parse(None, format!("+{calling_code} {number}"))
            }
            None => return Err(PhoneError::Unreadable(number.to_owned())),
        }
        .map_err(|_| PhoneError::Unreadable(number.to_owned()))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid(number.to_owned()));
        }
        let e164 = parsed.format().mode(Mode::E164).to_string();
        Ok(Self(e164.trim_start_matches('+').to_owned()))
    }

    /// The digits the Cloud API's `to` takes.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Enough to tell numbers apart in logs, not enough to call them.
        let visible = self.0.len().saturating_sub(4);
        write!(
            f,
            "PhoneNumber(+{}…{})",
            &self.0[..2.min(visible)],
            &self.0[visible..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_whmcs_shape_of_a_number_gives_the_same_digits() {
        let cases = [
            ("+234.8031234567", "", ""),
            ("8031234567", "234", "NG"),
            ("08031234567", "234", "NG"),
            ("0803 123 4567", "", "NG"),
            ("002348031234567", "", "ES"),
            ("+234 803-123-4567", "234", "NG"),
            ("8031234567", "234", ""),
        ];
        for (number, calling_code, country) in cases {
            assert_eq!(
                PhoneNumber::from_whmcs(number, calling_code, country)
                    .map(|p| p.digits().to_owned()),
                Ok("2348031234567".to_owned()),
                "{number} / {calling_code} / {country}"
            );
        }
    }

    #[test]
    fn numbers_of_other_countries_keep_their_own_rules() {
        let cases = [
            ("600 12 34 56", "34", "ES", "34600123456"),
            ("+34.600123456", "34", "ES", "34600123456"),
            ("07911 123456", "44", "GB", "447911123456"),
            ("(415) 555-2671", "1", "US", "14155552671"),
            ("11 91234-5678", "55", "BR", "5511912345678"),
            ("+52.5512345678", "52", "MX", "525512345678"),
        ];
        for (number, calling_code, country, digits) in cases {
            let phone = PhoneNumber::from_whmcs(number, calling_code, country).expect(number);
            assert_eq!(phone.digits(), digits, "{number}");
        }
    }

    #[test]
    fn unusable_numbers_are_refused_with_a_reason() {
        assert_eq!(
            PhoneNumber::from_whmcs("", "34", "ES"),
            Err(PhoneError::Missing)
        );
        assert_eq!(
            PhoneNumber::from_whmcs("  -  ", "", ""),
            Err(PhoneError::Missing)
        );
        assert!(matches!(
            PhoneNumber::from_whmcs("12", "34", "ES"),
            Err(PhoneError::Invalid(_) | PhoneError::Unreadable(_))
        ));
        assert!(matches!(
            PhoneNumber::from_whmcs("600123456", "", ""),
            Err(PhoneError::Unreadable(_))
        ));
        assert!(matches!(
            PhoneNumber::from_whmcs("+34.000000000", "", ""),
            Err(PhoneError::Invalid(_) | PhoneError::Unreadable(_))
        ));
    }

    #[test]
    fn debug_output_does_not_show_the_whole_number() {
        let phone = PhoneNumber::from_whmcs("+34.600123456", "", "").expect("valid");
        let shown = format!("{phone:?}");
        assert!(!shown.contains("600123456"), "{shown}");
        assert!(shown.ends_with("3456)"), "{shown}");
    }
}
