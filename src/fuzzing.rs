//! Entry points of the fuzz targets (`fuzz/`, `make fuzz`) over every parser
//! of outside input. Each takes arbitrary bytes and must return without
//! panicking; `make test` replays the kept corpus (`fuzz/corpus/<target>.bin`,
//! the inputs `make fuzz` found, packed by `scripts/corpus.py`) and every
//! input that once failed (`fuzz/regressions/<target>/`) through them.

use std::path::Path;

use crate::config::{Config, INSTANCE_SETTINGS, SETTINGS, Sources};
use crate::signature::{self, HookSecret, SignatureHeaders};

/// A fuzz target: takes any bytes, must not panic.
pub type Target = fn(&[u8]);

/// The targets, by the name of their corpus.
pub const TARGETS: &[(&str, Target)] = &[
    ("signature", signature),
    ("envelope", envelope),
    ("whmcs_answer", whmcs_answer),
    ("meta_webhook", meta_webhook),
    ("config", config),
];

/// Standard Webhooks headers and a body, as lines: secret, `webhook-id`,
/// `webhook-timestamp`, `webhook-signature`, then the body; verified as the
/// service does, and an `X-Hub-Signature-256` header checked too.
pub fn signature(data: &[u8]) {
    let mut parts = data.splitn(5, |byte| *byte == b'\n');
    let mut line = || parts.next().and_then(|part| std::str::from_utf8(part).ok());
    let (secret, id, timestamp, header) = (line(), line(), line(), line());
    let body = parts.next().unwrap_or_default();
    let secrets: Vec<HookSecret> = secret
        .and_then(|text| text.parse().ok())
        .into_iter()
        .collect();
    let fallback: HookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        .parse()
        .expect("a valid secret");
    let secrets = if secrets.is_empty() {
        vec![fallback]
    } else {
        secrets
    };
    let headers = SignatureHeaders {
        id,
        timestamp,
        signature: header,
    };
    let _ = signature::verify(&secrets, headers, body, 1_764_547_200, 300);
    let _ = signature::verify_hub_signature(b"app-secret", header.unwrap_or_default(), body);
}

/// A hook envelope as `/v1/hooks` parses it after verification.
pub fn envelope(data: &[u8]) {
    let _ = crate::domain::envelope::Envelope::from_json(data);
}

/// A WHMCS API answer, read as every record puente reads.
pub fn whmcs_answer(data: &[u8]) {
    crate::whmcs::read_any_answer(data);
}

/// A Meta webhook notification's statuses.
pub fn meta_webhook(data: &[u8]) {
    let _ = crate::http::whatsapp::notification_statuses(data);
}

/// A TOML configuration file, flattened and validated. Files it names are
/// not read (a fuzzer would name `/dev/zero`): such inputs are skipped.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("templates") {
        return;
    }
    if let Ok(sources) =
        Sources::from_toml(Path::new("fuzz.toml"), text, SETTINGS, INSTANCE_SETTINGS)
    {
        let _ = Config::from_sources(&sources);
    }
}

/// The inputs of a packed corpus: records of a 4-byte little-endian length
/// and that many bytes. A truncated record ends the list.
pub fn unpack(packed: &[u8]) -> Vec<&[u8]> {
    let mut inputs = Vec::new();
    let mut rest = packed;
    while let Some((length, tail)) = rest.split_first_chunk::<4>() {
        let length = u32::from_le_bytes(*length) as usize;
        let Some(input) = tail.get(..length) else {
            break;
        };
        inputs.push(input);
        rest = &tail[length..];
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::{TARGETS, unpack};

    /// Every kept input of every target, and every input that once made a
    /// target fail, runs through it without a panic.
    #[test]
    fn the_fuzz_corpus_and_regressions_run_clean() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz");
        for (name, target) in TARGETS {
            let packed = std::fs::read(format!("{root}/corpus/{name}.bin")).expect("a corpus");
            let mut inputs: Vec<Vec<u8>> =
                unpack(&packed).into_iter().map(<[u8]>::to_vec).collect();
            assert!(
                inputs.len() >= 10,
                "{name}: only {} inputs kept",
                inputs.len()
            );
            if let Ok(entries) = std::fs::read_dir(format!("{root}/regressions/{name}")) {
                for entry in entries.flatten() {
                    inputs.push(std::fs::read(entry.path()).expect("a regression input"));
                }
            }
            for input in &inputs {
                target(input);
            }
        }
    }

    #[test]
    fn a_packed_corpus_unpacks_to_its_inputs() {
        let packed = [
            2, 0, 0, 0, b'h', b'i', 0, 0, 0, 0, 1, 0, 0, 0, b'!', 9, 0, 0, 0, b'x',
        ];
        assert_eq!(unpack(&packed), [&b"hi"[..], b"", b"!"]);
    }
}
