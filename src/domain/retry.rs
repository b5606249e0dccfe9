//! When a message that could not be sent is tried again: a schedule of
//! delays after each failed try (Svix-like by default), stretched to what
//! Meta asked for, with a jitter the caller draws; after the last delay the
//! message is a dead letter.

use std::fmt;
use std::time::Duration;

/// The largest jitter, either way, in thousandths of the delay.
pub const MAX_JITTER_PERMILLE: i16 = 200;

/// Delays before the 2nd, 3rd, … try of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// Svix's schedule after the first try: 5 s, 5 min, 30 min, 2 h, 5 h,
    /// 10 h, 10 h (eight tries over about a day and a half).
    fn default() -> Self {
        let minutes = |n: u64| Duration::from_secs(60 * n);
        Self {
            delays: vec![
                Duration::from_secs(5),
                minutes(5),
                minutes(30),
                minutes(120),
                minutes(300),
                minutes(600),
                minutes(600),
            ],
        }
    }
}

impl RetrySchedule {
    /// Delays separated by spaces, each a number and a unit (`s`, `m`,
    /// `h`, `d`): `5s 5m 30m 2h 5h 10h 10h`. At most 20 delays, each from
    /// 1 s to 7 days.
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split_whitespace()
            .map(|token| {
                // The unit is the last character, whatever its width.
                let unit_at = token.char_indices().last().map_or(0, |(at, _)| at);
                let (number, unit) = token.split_at(unit_at);
                let seconds_per_unit = match unit {
                    "s" => 1,
                    "m" => 60,
                    "h" => 3600,
                    "d" => 86_400,
                    _ => {
                        return Err(format!(
                            "`{token}` is not a delay such as 30s, 5m, 2h or 1d"
                        ));
                    }
                };
                number
                    .parse::<u64>()
                    .ok()
                    .map(|n| n.saturating_mul(seconds_per_unit))
                    .filter(|seconds| (1..=7 * 86_400).contains(seconds))
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("`{token}` is not a delay from 1s to 7d"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        match delays.len() {
            0 => Err("holds no delay".to_owned()),
            1..=20 => Ok(Self { delays }),
            _ => Err("has more than 20 delays".to_owned()),
        }
    }

    /// Tries in all, the first one included.
    pub fn tries(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX) + 1
    }

    /// After `failed` tries (1 after the first), how long to wait before the
    /// next: the schedule's delay, at least `at_least` (what Meta's error
    /// asks for), moved by `jitter_permille` thousandths (clamped to
    /// ±[`MAX_JITTER_PERMILLE`]). `None`: no try is left, a dead letter.
    pub fn after(&self, failed: u32, at_least: Duration, jitter_permille: i16) -> Option<Duration> {
        let index = usize::try_from(failed.checked_sub(1)?).ok()?;
        let delay = (*self.delays.get(index)?).max(at_least);
        let jitter = jitter_permille.clamp(-MAX_JITTER_PERMILLE, MAX_JITTER_PERMILLE);
        let factor = u32::try_from(1000 + i32::from(jitter)).expect("800 to 1200");
        Some(delay * factor / 1000)
    }

    /// A jitter for [`RetrySchedule::after`] from a random byte.
    pub fn jitter_from(byte: u8) -> i16 {
        let span = 2 * i32::from(MAX_JITTER_PERMILLE) + 1;
        let jitter = i32::from(byte) * span / 256 - i32::from(MAX_JITTER_PERMILLE);
        i16::try_from(jitter).expect("within ±200")
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .delays
            .iter()
            .map(|delay| {
                let seconds = delay.as_secs();
                match seconds {
                    s if s % 86_400 == 0 => format!("{}d", s / 86_400),
                    s if s % 3600 == 0 => format!("{}h", s / 3600),
                    s if s % 60 == 0 => format!("{}m", s / 60),
                    s => format!("{s}s"),
                }
            })
            .collect();
        f.write_str(&shown.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_default_is_svixs_schedule_of_eight_tries() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.to_string(), "5s 5m 30m 2h 5h 10h 10h");
        assert_eq!(schedule.tries(), 8);
        assert_eq!(
            RetrySchedule::parse("5s 5m 30m 2h 5h 10h 10h"),
            Ok(schedule)
        );
    }

    #[test]
    fn each_failed_try_takes_the_next_delay_until_none_is_left() {
        let schedule = RetrySchedule::parse("10s 1m 1h").expect("valid");
        // failed tries -> delay before the next, without jitter
        for (failed, expected) in [
            (1, Some(10 * SECOND)),
            (2, Some(60 * SECOND)),
            (3, Some(3600 * SECOND)),
            (4, None),
            (9, None),
            (0, None),
        ] {
            assert_eq!(
                schedule.after(failed, Duration::ZERO, 0),
                expected,
                "{failed}"
            );
        }
        assert_eq!(schedule.tries(), 4);
    }

    #[test]
    fn metas_minimum_wait_stretches_a_shorter_delay_only() {
        let schedule = RetrySchedule::parse("5s 4h").expect("valid");
        assert_eq!(schedule.after(1, 6 * SECOND, 0), Some(6 * SECOND));
        assert_eq!(schedule.after(2, 6 * SECOND, 0), Some(4 * 3600 * SECOND));
    }

    #[test]
    fn the_jitter_moves_a_delay_at_most_a_fifth_either_way() {
        let schedule = RetrySchedule::parse("100s").expect("valid");
        assert_eq!(schedule.after(1, Duration::ZERO, 200), Some(120 * SECOND));
        assert_eq!(schedule.after(1, Duration::ZERO, -200), Some(80 * SECOND));
        assert_eq!(schedule.after(1, Duration::ZERO, 999), Some(120 * SECOND));
        assert_eq!(schedule.after(1, Duration::ZERO, -999), Some(80 * SECOND));
        let drawn: Vec<i16> = (0..=255u8).map(RetrySchedule::jitter_from).collect();
        assert_eq!(drawn.first(), Some(&-200));
        assert_eq!(drawn.last(), Some(&199));
        assert!(drawn.windows(2).all(|pair| pair[0] <= pair[1]));
    }

    #[test]
    fn bad_schedules_are_refused_with_the_token() {
        for (text, problem) in [
            ("", "holds no delay"),
            ("5x", "`5x` is not a delay such as"),
            ("s", "`s` is not a delay from"),
            ("0s", "`0s` is not a delay from 1s to 7d"),
            ("8d", "`8d` is not a delay from 1s to 7d"),
            ("-5s", "`-5s` is not a delay from"),
            // Found by fuzzing: a unit of more than one byte.
            ("3\u{392}", "`3\u{392}` is not a delay such as"),
            ("\u{e9}", "`\u{e9}` is not a delay such as"),
        ] {
            let refused = RetrySchedule::parse(text).expect_err(text);
            assert!(refused.starts_with(problem), "{text}: {refused}");
        }
        assert_eq!(
            RetrySchedule::parse(&"1s ".repeat(21)),
            Err("has more than 20 delays".to_owned())
        );
    }

    #[test]
    fn a_delay_may_be_up_to_seven_days() {
        for ok in ["7d", "168h", "10080m", "604800s", "2d"] {
            assert!(RetrySchedule::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["8d", "169h", "604801s", "0s"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_schedule_is_written_in_its_largest_whole_unit() {
        let schedule = RetrySchedule::parse("1d 25h 90m 61s 120s 7200s").expect("schedule");
        assert_eq!(schedule.to_string(), "1d 25h 90m 61s 2m 2h");
    }
}
