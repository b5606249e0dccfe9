//! What a failed Cloud API send means for the message and for sending as a
//! whole (messaging_signing.md §1.7 and §1.10). Meta says to branch on the
//! error code, not on titles or HTTP statuses.

use std::time::Duration;

/// The fate of a send that Meta refused or could not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// Try this message again after about this long.
    Retry(Duration),
    /// This message will never go through as it is: a dead letter.
    Permanent,
    /// The account, token or number is unusable: stop sending and alarm.
    Halt,
}

/// Classifies a refused send by Meta's error code, or by the HTTP status
/// when the answer carried none.
pub fn classify(code: Option<i64>, http_status: u16) -> SendFailure {
    match code {
        // Throughput, pair and call-rate limits, transient platform errors.
        Some(131056) => SendFailure::Retry(Duration::from_secs(6)),
        Some(130429 | 1 | 2 | 131000 | 131016) => SendFailure::Retry(Duration::from_secs(30)),
        Some(131057) => SendFailure::Retry(Duration::from_secs(60)),
        Some(4 | 80007) => SendFailure::Retry(Duration::from_secs(300)),
        // Spam and per-user marketing limits: not for hours.
        Some(131048 | 131049) => SendFailure::Retry(Duration::from_secs(4 * 3600)),
        // Token, permission, account, billing, registration.
        Some(0 | 190 | 10 | 368 | 131031 | 131042 | 133010) => SendFailure::Halt,
        Some(code) if (200..=299).contains(&code) => SendFailure::Halt,
        Some(_) => SendFailure::Permanent,
        None if http_status == 429 || http_status >= 500 => {
            SendFailure::Retry(Duration::from_secs(30))
        }
        None if http_status == 401 || http_status == 403 => SendFailure::Halt,
        None => SendFailure::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_documented_code_gets_its_action() {
        let cases = [
            (Some(130429), 429, "retry"),
            (Some(131056), 400, "retry"),
            (Some(131000), 500, "retry"),
            (Some(2), 503, "retry"),
            (Some(131026), 400, "permanent"),
            (Some(131047), 400, "permanent"),
            (Some(132001), 404, "permanent"),
            (Some(132000), 400, "permanent"),
            (Some(100), 400, "permanent"),
            (Some(190), 401, "halt"),
            (Some(10), 403, "halt"),
            (Some(200), 403, "halt"),
            (Some(368), 403, "halt"),
            (Some(133010), 400, "halt"),
            (None, 502, "retry"),
            (None, 429, "retry"),
            (None, 401, "halt"),
            (None, 400, "permanent"),
        ];
        for (code, status, expected) in cases {
            let action = match classify(code, status) {
                SendFailure::Retry(_) => "retry",
                SendFailure::Permanent => "permanent",
                SendFailure::Halt => "halt",
            };
            assert_eq!(action, expected, "{code:?} / {status}");
        }
        assert_eq!(
            classify(Some(131056), 400),
            SendFailure::Retry(Duration::from_secs(6)),
            "pair limit: about 6 s"
        );
    }

    #[test]
    fn each_retry_waits_as_long_as_meta_asks() {
        for (code, status, seconds) in [
            (Some(131056), 400, 6),
            (Some(130429), 429, 30),
            (Some(131057), 400, 60),
            (Some(80007), 400, 300),
            (Some(131048), 400, 4 * 3600),
            (Some(131049), 400, 4 * 3600),
            (None, 503, 30),
        ] {
            assert_eq!(
                classify(code, status),
                SendFailure::Retry(Duration::from_secs(seconds)),
                "{code:?} / {status}"
            );
        }
    }
}
