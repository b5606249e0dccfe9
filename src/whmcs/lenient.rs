//! Deserializers for WHMCS API answers, which are loosely typed: ids and
//! money as numbers or strings, `"0000-00-00"` for no date, lists wrapped in
//! an object (`{"products":{"product":[…]}}`), a lone object, `""` or
//! nothing for an empty list, and `"1"`/`"0"`/`true` for flags.

use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number or a string holding one, as text ("" and null give None).
fn scalar_text(value: Value) -> Option<String> {
    match value {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        _ => None,
    }
}

/// An id: `1842` or `"1842"`.
pub fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    optional_id(deserializer)?.ok_or_else(|| D::Error::custom("an id is missing"))
}

/// An id that may be absent, null, `""` or `0`.
pub fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    match scalar_text(Value::deserialize(deserializer)?) {
        None => Ok(None),
        Some(text) => text
            .parse::<u64>()
            .map(|n| (n > 0).then_some(n))
            .map_err(|_| D::Error::custom(format!("`{text}` is not an id"))),
    }
}

/// An amount. WHMCS sends amounts as decimal strings (`"24.95"`), read
/// exactly. Integers are exact too. A fractional JSON number has already
/// been through serde_json's binary float; its shortest decimal form is the
/// text WHMCS sent only up to 15 significant digits, so longer ones are
/// refused rather than rounded.
pub fn money<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    let value = Value::deserialize(deserializer)?;
    if let Value::Number(number) = &value
        && number.is_f64()
    {
        let text = number.to_string();
        if text.chars().filter(char::is_ascii_digit).count() > 15 {
            return Err(D::Error::custom(format!(
                "`{text}` has too many digits to be read exactly"
            )));
        }
    }
    let text = scalar_text(value).unwrap_or_else(|| "0".to_owned());
    text.parse::<Decimal>()
        .map_err(|_| D::Error::custom(format!("`{text}` is not an amount")))
}

/// A date (`YYYY-MM-DD`, optionally followed by a time); `"0000-00-00"`,
/// `""` and null are no date.
pub fn date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<jiff::civil::Date>, D::Error> {
    let Some(text) = scalar_text(Value::deserialize(deserializer)?) else {
        return Ok(None);
    };
    let day = text.get(..10).unwrap_or(&text);
    if day.starts_with("0000-00-00") {
        return Ok(None);
    }
    day.parse::<jiff::civil::Date>()
        .map(Some)
        .map_err(|_| D::Error::custom(format!("`{text}` is not a date")))
}

/// A flag: `true`, `1`, `"1"`, `"on"`, `"yes"`; false for everything else.
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(flag) => flag,
        Value::Number(number) => number.to_string() != "0",
        Value::String(text) => matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "1" | "on" | "yes" | "true"
        ),
        _ => false,
    })
}

/// Text that may come as a number, null or be missing.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(scalar_text(Value::deserialize(deserializer)?).unwrap_or_default())
}

/// A list in any of WHMCS's shapes: `[…]`, `{"item":[…]}`, `{"item":{…}}`,
/// a lone object, `""`, `{}` or null.
pub fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    let items = match Value::deserialize(deserializer)? {
        Value::Array(items) => items,
        Value::Object(map) if map.len() == 1 => {
            match map.into_iter().next().map(|(_, inner)| inner) {
                Some(Value::Array(items)) => items,
                Some(Value::Object(single)) if looks_like_a_record(&single) => {
                    vec![Value::Object(single)]
                }
                Some(Value::Object(wrapped)) => {
                    // {"customfield": {"0": {…}, "1": {…}}}: PHP arrays as objects.
                    wrapped.into_iter().map(|(_, item)| item).collect()
                }
                _ => Vec::new(),
            }
        }
        Value::Object(map) if map.is_empty() => Vec::new(),
        Value::Object(single) => vec![Value::Object(single)],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|item| serde_json::from_value(item).map_err(D::Error::custom))
        .collect()
}

/// Whether an object is one record (it has an `id`) rather than a PHP
/// array of records keyed by position.
fn looks_like_a_record(object: &serde_json::Map<String, Value>) -> bool {
    object.contains_key("id") || !object.values().all(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Row {
        #[serde(default, deserialize_with = "optional_id")]
        id: Option<u64>,
        #[serde(default, deserialize_with = "money")]
        amount: Decimal,
        #[serde(default, deserialize_with = "date")]
        day: Option<jiff::civil::Date>,
        #[serde(default, deserialize_with = "flag")]
        on: bool,
    }

    fn row(json: &str) -> Row {
        serde_json::from_str(json).expect(json)
    }

    #[test]
    fn each_of_whmcs_spellings_reads_as_one_value() {
        for json in [r#"{"id":7}"#, r#"{"id":"7"}"#, r#"{"id":" 7 "}"#] {
            assert_eq!(row(json).id, Some(7), "{json}");
        }
        for json in [r#"{"id":""}"#, r#"{"id":null}"#, r#"{"id":0}"#, "{}"] {
            assert_eq!(row(json).id, None, "{json}");
        }
        assert_eq!(row(r#"{"amount":24.95}"#).amount, Decimal::new(2495, 2));
        assert_eq!(row(r#"{"amount":12}"#).amount, Decimal::new(12, 0));
        assert_eq!(row(r#"{"amount":"1234.5"}"#).amount, Decimal::new(12345, 1));
        assert_eq!(row(r#"{"amount":""}"#).amount, Decimal::ZERO);
        assert_eq!(
            row(r#"{"day":"2025-03-03 09:41:17"}"#).day,
            Some(jiff::civil::date(2025, 3, 3))
        );
        assert_eq!(row(r#"{"day":"0000-00-00"}"#).day, None);
        for (json, on) in [
            (r#"{"on":"1"}"#, true),
            (r#"{"on":"on"}"#, true),
            (r#"{"on":1}"#, true),
            (r#"{"on":"0"}"#, false),
            (r#"{"on":""}"#, false),
            (r#"{"on":false}"#, false),
        ] {
            assert_eq!(row(json).on, on, "{json}");
        }
    }

    #[test]
    fn what_is_not_an_id_an_amount_or_a_date_is_refused() {
        for json in [
            r#"{"id":"abc"}"#,
            r#"{"id":-3}"#,
            r#"{"amount":"$24.95 USD"}"#,
            r#"{"day":"03/03/2025"}"#,
        ] {
            assert!(serde_json::from_str::<Row>(json).is_err(), "{json}");
        }
    }
}
