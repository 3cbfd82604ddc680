//! Time units for people: durations in the unit that suits them, and the
//! ticks of a time axis.

use std::fmt;
use std::time::Duration;

/// Nanoseconds per microsecond, millisecond, second.
const MICRO: u64 = 1_000;
const MILLI: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;
/// At most this many intervals between ticks on an axis.
const MAX_INTERVALS: u64 = 10;

/// A duration shown with three significant digits in ns, µs, ms or s.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Human(pub(crate) Duration);

/// A time axis: tick spacing and the unit its labels are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Axis {
    /// Nanoseconds between ticks.
    pub(crate) step: u64,
    /// Nanoseconds per unit of the labels.
    unit: u64,
    /// Decimals the labels need.
    decimals: usize,
}

/// Nanoseconds in `d`, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The suffix of a unit of `unit` nanoseconds.
fn suffix(unit: u64) -> &'static str {
    match unit {
        SECOND => "s",
        MILLI => "ms",
        MICRO => "µs",
        _ => "ns",
    }
}

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = nanos(self.0);
        let unit = match ns {
            n if n >= SECOND => SECOND,
            n if n >= MILLI => MILLI,
            n if n >= MICRO => MICRO,
            _ => return write!(f, "{ns} ns"),
        };
        #[allow(clippy::cast_precision_loss)] // display only
        let value = ns as f64 / unit as f64;
        let decimals = match value {
            v if v >= 100.0 => 0,
            v if v >= 10.0 => 1,
            _ => 2,
        };
        write!(f, "{value:.decimals$} {}", suffix(unit))
    }
}

impl Axis {
    /// An axis for `span` nanoseconds: at most ten intervals of 1, 2 or 5
    /// times a power of ten, labelled in µs below a millisecond, ms below
    /// a second, else s.
    pub(crate) fn for_span(span: u64) -> Self {
        let raw = span.div_ceil(MAX_INTERVALS).max(1);
        let mut magnitude = 1_u64;
        while magnitude.saturating_mul(10) <= raw {
            magnitude *= 10;
        }
        let step = [1, 2, 5, 10]
            .iter()
            .map(|m| magnitude.saturating_mul(*m))
            .find(|&s| s >= raw)
            .unwrap_or(u64::MAX);
        let unit = match span {
            s if s >= SECOND => SECOND,
            s if s >= MILLI => MILLI,
            _ => MICRO,
        };
        let mut decimals = 0;
        let mut scaled = step;
        while scaled % unit != 0 && decimals < 3 {
            scaled = scaled.saturating_mul(10);
            decimals += 1;
        }
        Self {
            step,
            unit,
            decimals,
        }
    }

    /// The ticks from 0 to `span` nanoseconds, inclusive where it lands.
    pub(crate) fn ticks(self, span: u64) -> impl Iterator<Item = u64> {
        (0..)
            .map(move |i: u64| i.saturating_mul(self.step))
            .take_while(move |&t| t <= span)
            .take(usize::try_from(MAX_INTERVALS + 1).unwrap_or(usize::MAX))
    }

    /// The label of the tick at `t` nanoseconds: `"2.5 ms"`.
    pub(crate) fn label(self, t: u64) -> String {
        #[allow(clippy::cast_precision_loss)] // display only
        let value = t as f64 / self.unit as f64;
        format!("{value:.*} {}", self.decimals, suffix(self.unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_picks_unit_and_three_digits() {
        let show = |ns| Human(Duration::from_nanos(ns)).to_string();
        assert_eq!(show(0), "0 ns");
        assert_eq!(show(999), "999 ns");
        assert_eq!(show(1_234), "1.23 µs");
        assert_eq!(show(12_345_678), "12.3 ms");
        assert_eq!(show(123_456_789), "123 ms");
        assert_eq!(show(2 * SECOND), "2.00 s");
    }

    #[test]
    fn axis_steps_are_round() {
        let axis = Axis::for_span(10 * MILLI);
        assert_eq!(axis.step, MILLI);
        assert_eq!(axis.label(3 * MILLI), "3 ms");
        let ticks: Vec<_> = axis.ticks(10 * MILLI).collect();
        assert_eq!(ticks.len(), 11);

        let axis = Axis::for_span(3 * MILLI);
        assert_eq!(axis.step, 500 * MICRO);
        assert_eq!(axis.label(1_500 * MICRO), "1.5 ms");

        let axis = Axis::for_span(700 * MICRO);
        assert_eq!(axis.step, 100 * MICRO);
        assert_eq!(axis.label(200 * MICRO), "200 µs");

        let axis = Axis::for_span(42 * SECOND);
        assert_eq!(axis.step, 5 * SECOND);
        assert_eq!(axis.label(10 * SECOND), "10 s");
    }

    #[test]
    fn tiny_and_huge_spans_do_not_break() {
        let axis = Axis::for_span(1);
        assert_eq!(axis.step, 1);
        assert_eq!(axis.label(1), "0.001 µs");
        assert_eq!(Axis::for_span(0).ticks(0).collect::<Vec<_>>(), [0]);
        let huge = Axis::for_span(u64::MAX);
        assert!(huge.ticks(u64::MAX).count() <= 11);
    }
}
