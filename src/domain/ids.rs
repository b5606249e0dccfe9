//! Names and identifiers that cross the wire, parsed once at the edge.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Checks `text` against a length bound and a per-byte predicate.
fn well_formed(text: &str, max_len: usize, allowed: impl Fn(u8) -> bool) -> bool {
    !text.is_empty() && text.len() <= max_len && text.bytes().all(allowed)
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $max:expr, $allowed:expr, $what:literal, $charset:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted text, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Parses `text`, or says what is wrong with it.
            pub fn parse(text: &str) -> Result<Self, String> {
                if well_formed(text, Self::MAX_LEN, $allowed) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err(format!(
                        concat!($what, " must be 1–{} characters of ", $charset),
                        Self::MAX_LEN,
                    ))
                }
            }

            /// The text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn instance_byte(b: u8) -> bool {
    id_byte(b) || b == b'.'
}

fn hook_type_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

name_type!(
    /// The `webhook-id` of an event: the idempotency key, unique across
    /// installs (the shim uses `evt_` + ULID). URL-safe so that it can be a
    /// path segment of the admin API.
    EventId,
    128,
    id_byte,
    "webhook-id",
    "ASCII letters, digits, `_` and `-`"
);

name_type!(
    /// The name of a WHMCS installation (`context.instance`,
    /// `puente-instance`, TOML `[instances.<name>]`).
    InstanceName,
    64,
    instance_byte,
    "an instance name",
    "ASCII letters, digits, `_`, `-` and `.`"
);

name_type!(
    /// A WHMCS hook point name (`InvoicePaid`) or a puente action type
    /// (`client.transfers.accept`), verbatim.
    HookType,
    64,
    hook_type_byte,
    "an event type",
    "ASCII letters, digits, `_` and `.`"
);

/// A WHMCS record id in JSON, as WHMCS sends it: a positive number or a
/// numeric string.
pub fn whmcs_id(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

impl InstanceName {
    /// The instance configured by the plain `PUENTE_*` variables.
    pub fn default_instance() -> Self {
        Self("default".to_owned())
    }
}

impl EventId {
    /// A fresh `evt_<ULID>` id, as the shim generates them.
    pub fn generate() -> Self {
        Self(format!("evt_{}", ulid::Ulid::generate()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_the_shapes_senders_use_and_refuse_separators() {
        for ok in [
            "evt_01HZX3K8Q2M4N6P8R0T2V4W6Y8",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "move_12",
        ] {
            assert!(EventId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a.b", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(EventId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instance_names_allow_dots_for_host_names() {
        assert!(InstanceName::parse("panel.example.com").is_ok());
        assert!(InstanceName::parse("panel example").is_err());
    }

    #[test]
    fn errors_say_what_is_allowed() {
        let message = HookType::parse("Invoice Paid").unwrap_err();
        assert!(
            message.starts_with("an event type must be 1–64 characters"),
            "{message}"
        );
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = EventId::generate();
        let b = EventId::generate();
        assert_ne!(a, b);
        assert!(EventId::parse(a.as_str()).is_ok());
        assert!(a.as_str().starts_with("evt_"));
    }

    #[test]
    fn hook_types_take_letters_digits_underscores_and_dots() {
        for ok in ["InvoicePaid", "client.cancellations", "Puente_Test", "a1"] {
            assert!(HookType::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a-b", "a b", "a/b", ""] {
            assert!(HookType::parse(bad).is_err(), "{bad}");
        }
    }
}
