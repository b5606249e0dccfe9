//! Small bar charts drawn as inline SVG on the server: no script, no CDN.

use maud::{Markup, html};

const WIDTH: u64 = 300;
const HEIGHT: u64 = 60;

/// Bars a chart has room for: one per sample of the last hour.
const SLOTS: u64 = crate::metrics::HISTORY_LEN as u64;

/// A bar chart of `values` (oldest first, the newest at the right edge),
/// titled for screen readers with `label` and the latest value as `latest`.
pub fn bars(label: &str, values: &[u64], latest: &str) -> Markup {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let slot = WIDTH / SLOTS;
    let bar = slot.saturating_sub(1).max(1);
    let count = u64::try_from(values.len()).unwrap_or(u64::MAX).min(SLOTS);
    let values = &values[values.len().saturating_sub(SLOTS as usize)..];
    let first = SLOTS - count;
    html! {
        figure.chart {
            figcaption { (label) ": " strong { (latest) } }
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-label=(format!("{label}, last {} minutes; latest {latest}", values.len()))
                preserveAspectRatio="none" {
                @for (index, value) in values.iter().enumerate() {
                    @let height = scaled(*value, max);
                    @let x = (first + u64::try_from(index).unwrap_or(0)) * slot;
                    rect x=(x) y=(HEIGHT - height) width=(bar) height=(height) {
                        title { (value) }
                    }
                }
            }
        }
    }
}

/// `value` as a bar height out of [`HEIGHT`], at least 1 when not zero.
fn scaled(value: u64, max: u64) -> u64 {
    if value == 0 {
        return 0;
    }
    (value.saturating_mul(HEIGHT) / max).clamp(1, HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_keep_small_ones_visible() {
        assert_eq!(scaled(0, 10), 0);
        assert_eq!(scaled(10, 10), HEIGHT);
        assert_eq!(scaled(5, 10), HEIGHT / 2);
        assert_eq!(scaled(1, 1_000_000), 1);
        let svg = bars("Events per minute", &[0, 5, 10], "10").into_string();
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains(r#"height="60""#), "{svg}");
        assert!(svg.contains("last 3 minutes; latest 10"), "{svg}");
        // The newest bar ends at the right edge.
        assert!(
            svg.contains(&format!(r#"x="{}""#, WIDTH - WIDTH / SLOTS)),
            "{svg}"
        );
        let full = bars("x", &[1; 90], "1").into_string();
        assert_eq!(full.matches("<rect").count(), 60);
        // No samples yet: an empty chart, not a division by zero.
        assert_eq!(
            bars("x", &[], "–").into_string().matches("<rect").count(),
            0
        );
    }
}
