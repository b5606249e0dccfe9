//! Standard Webhooks v1 (symmetric) signing and verification.
//!
//! Pure functions: the clock is an argument. The signed content is
//! `"{webhook-id}.{webhook-timestamp}.{raw body}"`, the MAC is HMAC-SHA256
//! keyed with the base64-decoded part of a `whsec_…` secret, and the header
//! carries a space-separated list of `v1,<base64 MAC>` entries so that
//! secrets can be rotated.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use subtle::ConstantTimeEq;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const SECRET_PREFIX: &str = "whsec_";
const MIN_SECRET_BYTES: usize = 24;
const MAX_SECRET_BYTES: usize = 64;
const MAC_BYTES: usize = 32;

/// Header names, lowercase as in the Standard Webhooks specification.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A Standard Webhooks signing secret (`whsec_` + base64 of 24–64 bytes).
///
/// The key bytes never appear in `Debug` output.
#[derive(Clone)]
pub struct HookSecret {
    key: SecretSlice<u8>,
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HookSecret(redacted)")
    }
}

/// Why a secret string was refused. The messages never contain the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a hook secret must start with `whsec_`")]
    MissingPrefix,
    #[error("the part after `whsec_` is not valid base64")]
    NotBase64,
    #[error(
        "a hook secret must decode to {MIN_SECRET_BYTES}–{MAX_SECRET_BYTES} bytes, this one has {0}"
    )]
    BadLength(usize),
}

impl FromStr for HookSecret {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = BASE64.decode(encoded).map_err(|_| SecretError::NotBase64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(SecretError::BadLength(key.len()));
        }
        Ok(Self { key: key.into() })
    }
}

impl HookSecret {
    /// A new random secret of 32 bytes, with its `whsec_` text form.
    pub fn generate() -> Result<(Self, String), getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        let text = format!("{SECRET_PREFIX}{}", BASE64.encode(key));
        Ok((
            Self {
                key: key.to_vec().into(),
            },
            text,
        ))
    }

    /// A key for another purpose, derived from this one with HKDF-SHA256
    /// (no salt, `purpose` as info): what it signs can never be taken for
    /// something signed with the secret itself. The addon derives the same
    /// key with PHP's `hash_hkdf`.
    pub fn derive(&self, purpose: &str) -> Self {
        let mut key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, self.key.expose_secret())
            .expand(purpose.as_bytes(), &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self {
            key: key.to_vec().into(),
        }
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> [u8; MAC_BYTES] {
        let mut mac = HmacSha256::new_from_slice(self.key.expose_secret())
            .expect("HMAC accepts keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

/// Signs `body` as Standard Webhooks does: returns the `webhook-signature`
/// value `v1,<base64>`.
pub fn sign(secret: &HookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = secret.mac(id, &timestamp.to_string(), body);
    format!("v1,{}", BASE64.encode(mac))
}

/// The three signature headers as received (absent ones are `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SignatureHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a request failed verification.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    #[error("`webhook-timestamp` is not an integer number of seconds")]
    MalformedTimestamp,
    #[error("`webhook-timestamp` is {0} s older than the allowed window")]
    TooOld(i64),
    #[error("`webhook-timestamp` is {0} s in the future, beyond the allowed window")]
    TooNew(i64),
    #[error("`webhook-signature` holds no `v1,<base64>` entry")]
    MalformedSignature,
    #[error("no signature matches any configured secret")]
    NoMatch,
}

/// The headers of a request whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHeaders {
    pub id: String,
    pub timestamp: i64,
}

/// Verifies a Standard Webhooks request against any of `secrets`.
///
/// `now` is Unix seconds; a timestamp further than `tolerance_s` from it, in
/// either direction, is refused before any MAC is computed. Signatures are
/// compared in constant time; entries of unknown versions are ignored.
pub fn verify(
    secrets: &[HookSecret],
    headers: SignatureHeaders<'_>,
    body: &[u8],
    now: i64,
    tolerance_s: u64,
) -> Result<VerifiedHeaders, VerifyError> {
    let id = headers
        .id
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingHeader(HEADER_ID))?;
    let timestamp_text = headers
        .timestamp
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?;
    let signature = headers
        .signature
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?;

    let timestamp = parse_timestamp(timestamp_text)?;
    let tolerance = i64::try_from(tolerance_s).unwrap_or(i64::MAX);
    let age = now.saturating_sub(timestamp);
    if age > tolerance {
        return Err(VerifyError::TooOld(age - tolerance));
    }
    if -age > tolerance {
        return Err(VerifyError::TooNew(-age - tolerance));
    }

    let candidates = v1_signatures(signature)?;
    let matched = secrets.iter().any(|secret| {
        let expected = secret.mac(id, timestamp_text, body);
        candidates
            .iter()
            .flatten()
            .any(|candidate| bool::from(candidate.ct_eq(&expected)))
    });
    if matched {
        Ok(VerifiedHeaders {
            id: id.to_owned(),
            timestamp,
        })
    } else {
        Err(VerifyError::NoMatch)
    }
}

/// Digits only, as the reference libraries accept; a sign or spaces make the
/// signed text differ from what the sender meant.
fn parse_timestamp(text: &str) -> Result<i64, VerifyError> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::MalformedTimestamp);
    }
    text.parse().map_err(|_| VerifyError::MalformedTimestamp)
}

/// The decoded MACs of every `v1,` entry. An entry that is not valid base64
/// of 32 bytes is kept as `None`: it cannot match, but the header was still
/// well formed enough to count. A header with no `v1,` entry at all is
/// malformed.
fn v1_signatures(header: &str) -> Result<Vec<Option<[u8; MAC_BYTES]>>, VerifyError> {
    let entries: Vec<Option<[u8; MAC_BYTES]>> = header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .map(|encoded| {
            BASE64
                .decode(encoded)
                .ok()
                .and_then(|bytes| <[u8; MAC_BYTES]>::try_from(bytes).ok())
        })
        .collect();
    if entries.is_empty() {
        Err(VerifyError::MalformedSignature)
    } else {
        Ok(entries)
    }
}

/// Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex>` is the
/// HMAC-SHA256 of the raw body under the app secret. There is no timestamp;
/// repeats are handled by deduplication.
pub fn verify_hub_signature(app_secret: &[u8], header: &str, body: &[u8]) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(offered) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    offered.len() == expected.len() && bool::from(offered.as_slice().ct_eq(expected.as_slice()))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> HookSecret {
        text.parse().expect("valid secret")
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> SignatureHeaders<'a> {
        SignatureHeaders {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    #[test]
    fn a_signature_made_with_one_secret_verifies_with_a_list_that_contains_it() {
        let body = br#"{"a":1}"#;
        let sig = sign(&secret(SECRET), "evt_1", 1000, body);
        let verified = verify(
            &[secret(OTHER), secret(SECRET)],
            headers("evt_1", "1000", &sig),
            body,
            1000,
            300,
        );
        assert_eq!(
            verified,
            Ok(VerifiedHeaders {
                id: "evt_1".into(),
                timestamp: 1000
            })
        );
    }

    #[test]
    fn any_matching_entry_of_a_space_separated_list_is_enough() {
        let body = b"{}";
        let good = sign(&secret(SECRET), "evt_1", 1000, body);
        let stale = sign(&secret(OTHER), "evt_1", 1000, body);
        let list = format!("v1a,ignoredbase64 {stale} v1,!!notbase64 {good}");
        assert!(
            verify(
                &[secret(SECRET)],
                headers("evt_1", "1000", &list),
                body,
                1000,
                300
            )
            .is_ok()
        );
    }

    #[test]
    fn a_changed_body_id_or_timestamp_no_longer_verifies() {
        let body = b"{\"amount\":\"10.00\"}";
        let sig = sign(&secret(SECRET), "evt_1", 1000, body);
        let keys = [secret(SECRET)];
        let cases = [
            headers("evt_1", "1000", &sig),
            headers("evt_2", "1000", &sig),
            headers("evt_1", "1001", &sig),
        ];
        assert_eq!(
            verify(&keys, cases[0], b"{\"amount\":\"99.00\"}", 1000, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&keys, cases[1], body, 1000, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&keys, cases[2], body, 1000, 300),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn timestamps_outside_the_window_are_refused_both_ways_and_the_edges_pass() {
        let body = b"{}";
        let keys = [secret(SECRET)];
        let at = |ts: i64, now: i64| {
            let sig = sign(&keys[0], "evt_1", ts, body);
            verify(
                &keys,
                headers("evt_1", &ts.to_string(), &sig),
                body,
                now,
                300,
            )
        };
        assert!(at(1000, 1300).is_ok());
        assert!(at(1300, 1000).is_ok());
        assert_eq!(at(1000, 1301), Err(VerifyError::TooOld(1)));
        assert_eq!(at(1301, 1000), Err(VerifyError::TooNew(1)));
    }

    #[test]
    fn missing_and_malformed_headers_are_named() {
        let keys = [secret(SECRET)];
        let missing = |h: SignatureHeaders<'_>| verify(&keys, h, b"{}", 1000, 300);
        assert_eq!(
            missing(SignatureHeaders {
                id: None,
                ..headers("", "1000", "v1,x")
            }),
            Err(VerifyError::MissingHeader(HEADER_ID))
        );
        assert_eq!(
            missing(headers("evt_1", "", "v1,x")),
            Err(VerifyError::MissingHeader(HEADER_TIMESTAMP))
        );
        assert_eq!(
            missing(SignatureHeaders {
                signature: None,
                ..headers("evt_1", "1000", "")
            }),
            Err(VerifyError::MissingHeader(HEADER_SIGNATURE))
        );
        for ts in ["-1000", "10.5", " 1000", "1e3", "99999999999999999999"] {
            assert_eq!(
                missing(headers("evt_1", ts, "v1,x")),
                Err(VerifyError::MalformedTimestamp),
                "{ts}"
            );
        }
        for sig in ["garbage", "v2,abc", "v1", "  "] {
            assert_eq!(
                missing(headers("evt_1", "1000", sig)),
                Err(VerifyError::MalformedSignature),
                "{sig}"
            );
        }
    }

    #[test]
    fn secrets_need_the_prefix_base64_and_a_sane_length() {
        assert_eq!(
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                .parse::<HookSecret>()
                .err(),
            Some(SecretError::MissingPrefix)
        );
        assert_eq!(
            "whsec_not base64!".parse::<HookSecret>().err(),
            Some(SecretError::NotBase64)
        );
        assert_eq!(
            "whsec_c2hvcnQ=".parse::<HookSecret>().err(),
            Some(SecretError::BadLength(5))
        );
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let shown = format!("{:?}", secret(SECRET));
        assert_eq!(shown, "HookSecret(redacted)");
    }

    #[test]
    fn generated_secrets_round_trip_through_their_text_form() {
        let (generated, text) = HookSecret::generate().expect("random bytes");
        let parsed: HookSecret = text.parse().expect("generated secret parses");
        let body = b"{}";
        let sig = sign(&generated, "evt_1", 1000, body);
        assert!(verify(&[parsed], headers("evt_1", "1000", &sig), body, 1000, 300).is_ok());
    }
}
