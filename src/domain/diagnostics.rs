//! Diagnostics rows (the addon's Diagnostics tab): what a row is, and the
//! checks that need nothing but facts passed in: the versions, the clocks,
//! the time zones and when each hook last arrived. The probes of WHMCS are
//! in `crate::diagnostics`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A row's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One row of a diagnostics report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub check: String,
    pub title: String,
    pub status: Verdict,
    pub detail: String,
    #[serde(default)]
    pub fix: String,
    /// The rows of docs/WHMCS-ASSUMPTIONS.md the check confirms.
    #[serde(default)]
    pub assumptions: Vec<Value>,
}

impl Row {
    pub fn new(check: &str, title: &str, status: Verdict, detail: String, fix: &str) -> Self {
        Self {
            check: check.to_owned(),
            title: title.to_owned(),
            status,
            detail,
            fix: fix.to_owned(),
            assumptions: Vec::new(),
        }
    }

    pub fn confirming(mut self, assumptions: &[&str]) -> Self {
        self.assumptions = assumptions
            .iter()
            .map(|row| {
                row.parse::<u64>()
                    .map_or_else(|_| Value::from(*row), Value::from)
            })
            .collect();
        self
    }
}

/// What the addon says of itself and its WHMCS.
#[derive(Debug, Clone, Deserialize)]
pub struct AddonFacts {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub php: String,
    #[serde(default)]
    pub whmcs: String,
    /// WHMCS's PHP time zone (`date_default_timezone_get()`).
    #[serde(default)]
    pub timezone: String,
    /// Its offset from UTC now, in seconds.
    #[serde(default)]
    pub utc_offset_seconds: i64,
    /// The addon's clock (Unix seconds).
    #[serde(default)]
    pub now: i64,
    /// The hook points it forwards.
    #[serde(default)]
    pub hooks: Vec<String>,
}

/// The addon's version against the service's.
pub fn versions(addon: &AddonFacts) -> Row {
    let service = env!("CARGO_PKG_VERSION");
    if addon.version == service {
        Row::new(
            "versions",
            "Versions",
            Verdict::Pass,
            format!("addon and service are both {service}"),
            "",
        )
    } else {
        Row::new(
            "versions",
            "Versions",
            Verdict::Warn,
            format!("addon {}, service {service}", addon.version),
            "install the same version of both",
        )
    }
}

/// WHMCS's clock against the service's.
pub fn clocks(addon: &AddonFacts, now: jiff::Timestamp) -> Row {
    let skew = (now.as_second() - addon.now).abs();
    let detail = format!("WHMCS's clock and the service's differ by {skew} s");
    if skew <= 60 {
        Row::new("clocks", "Clocks", Verdict::Pass, detail, "")
    } else {
        Row::new(
            "clocks",
            "Clocks",
            Verdict::Warn,
            detail,
            "synchronise both servers' clocks (NTP): past 5 minutes every event is refused as stale",
        )
        .confirming(&["23"])
    }
}

/// The installation's time zone: puente's against WHMCS's PHP, compared by
/// their offset now (the day a cancellation is requested depends on it).
pub fn timezones(timezone: &jiff::tz::TimeZone, addon: &AddonFacts, now: jiff::Timestamp) -> Row {
    let ours = timezone.to_offset(now).seconds();
    let name = timezone.iana_name().unwrap_or("UTC");
    let detail = format!(
        "puente uses {name} (UTC{}), WHMCS's PHP {} (UTC{})",
        offset(ours),
        addon.timezone,
        offset(i32::try_from(addon.utc_offset_seconds).unwrap_or(i32::MAX))
    );
    if i64::from(ours) == addon.utc_offset_seconds {
        Row::new("timezone", "Time zone", Verdict::Pass, detail, "")
    } else {
        Row::new(
            "timezone",
            "Time zone",
            Verdict::Warn,
            detail,
            "set PUENTE_TIMEZONE (or the instance's `timezone`) to WHMCS's, so an Immediate cancellation ends on the client's day",
        )
    }
}

fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// When each forwarded hook last reached the service.
pub fn hooks(seen: &[(String, Option<jiff::Timestamp>)]) -> Row {
    let any = seen.iter().any(|(_, at)| at.is_some());
    let listed: Vec<String> = seen
        .iter()
        .map(|(hook, at)| match at {
            Some(at) => format!("{hook} {}", at.strftime("%Y-%m-%d %H:%M UTC")),
            None => format!("{hook} never"),
        })
        .collect();
    let detail = format!("last arrived: {}", listed.join("; "));
    if any {
        Row::new("hooks_seen", "Hooks received", Verdict::Pass, detail, "")
    } else {
        Row::new(
            "hooks_seen",
            "Hooks received",
            Verdict::Warn,
            detail,
            "no hook of this install has reached puente yet: press Send test event on the Status tab",
        )
    }
    .confirming(&["1", "7"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(offset: i64, now: i64) -> AddonFacts {
        AddonFacts {
            version: env!("CARGO_PKG_VERSION").into(),
            php: "8.2.36".into(),
            whmcs: "8.13.1".into(),
            timezone: "America/Argentina/Buenos_Aires".into(),
            utc_offset_seconds: offset,
            now,
            hooks: vec!["InvoicePaid".into()],
        }
    }

    #[test]
    fn time_zones_are_compared_by_their_offset_now() {
        let buenos_aires = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").expect("zone");
        let now: jiff::Timestamp = "2026-12-06T12:00:00Z".parse().expect("time");
        let same = timezones(&buenos_aires, &facts(-3 * 3600, now.as_second()), now);
        assert_eq!(same.status, Verdict::Pass, "{}", same.detail);
        assert!(same.detail.contains("UTC-03:00"), "{}", same.detail);
        let utc = jiff::tz::TimeZone::UTC;
        let differ = timezones(&utc, &facts(-3 * 3600, now.as_second()), now);
        assert_eq!(differ.status, Verdict::Warn);
        assert!(differ.fix.contains("PUENTE_TIMEZONE"));
    }

    #[test]
    fn clocks_and_versions_say_what_differs() {
        let now: jiff::Timestamp = "2026-12-06T12:00:00Z".parse().expect("time");
        assert_eq!(
            clocks(&facts(0, now.as_second() - 20), now).status,
            Verdict::Pass
        );
        assert_eq!(
            clocks(&facts(0, now.as_second() - 200), now).status,
            Verdict::Warn
        );
        assert_eq!(versions(&facts(0, 0)).status, Verdict::Pass);
        let older = AddonFacts {
            version: "0.0.9".into(),
            ..facts(0, 0)
        };
        assert_eq!(versions(&older).status, Verdict::Warn);
        // A minute either way is a pass, a second more a warning, both ways.
        for (skew, verdict) in [
            (60, Verdict::Pass),
            (-60, Verdict::Pass),
            (61, Verdict::Warn),
            (-61, Verdict::Warn),
        ] {
            let row = clocks(&facts(0, now.as_second() + skew), now);
            assert_eq!(row.status, verdict, "{skew}: {}", row.detail);
            assert!(row.detail.ends_with(&format!("{} s", skew.abs())));
        }
        assert_eq!(
            clocks(&facts(0, now.as_second() - 61), now).assumptions,
            [Value::from(23)]
        );
    }

    #[test]
    fn offsets_are_written_as_utc_plus_or_minus_hours_and_minutes() {
        assert_eq!(offset(0), "+00:00");
        assert_eq!(offset(19_800), "+05:30");
        assert_eq!(offset(-10_800), "-03:00");
        assert_eq!(offset(-34_200), "-09:30");
        let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").expect("zone");
        let now: jiff::Timestamp = "2026-12-06T12:00:00Z".parse().expect("time");
        let row = timezones(&kolkata, &facts(19_800, now.as_second()), now);
        assert_eq!(row.status, Verdict::Pass, "{}", row.detail);
        assert_eq!(
            row.detail,
            "puente uses Asia/Kolkata (UTC+05:30), WHMCS's PHP America/Argentina/Buenos_Aires (UTC+05:30)"
        );
        assert_eq!(
            timezones(&kolkata, &facts(19_801, now.as_second()), now).status,
            Verdict::Warn
        );
    }

    #[test]
    fn a_row_names_the_assumptions_it_confirms_as_numbers_or_labels() {
        let row = Row::new("x", "X", Verdict::Pass, "d".into(), "").confirming(&["29", "29a"]);
        assert_eq!(row.assumptions, [Value::from(29), Value::from("29a")]);
        assert_eq!(
            serde_json::to_value(Verdict::Warn).expect("json"),
            Value::from("warn")
        );
    }

    #[test]
    fn hooks_that_never_arrived_are_named() {
        let at: jiff::Timestamp = "2026-12-05T10:00:00Z".parse().expect("time");
        let row = hooks(&[("InvoicePaid".into(), Some(at)), ("ClientAdd".into(), None)]);
        assert_eq!(row.status, Verdict::Pass);
        assert_eq!(
            row.detail,
            "last arrived: InvoicePaid 2026-12-05 10:00 UTC; ClientAdd never"
        );
        assert_eq!(hooks(&[("ClientAdd".into(), None)]).status, Verdict::Warn);
    }
}
