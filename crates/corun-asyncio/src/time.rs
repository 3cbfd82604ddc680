//! The loop's clock: monotonic seconds as `f64`, as Python's `loop.time()`,
//! counted from one epoch per process so every loop reads the same clock.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Far enough ahead to stand for "never" without overflowing `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Seconds from the epoch to `instant`.
pub(crate) fn seconds_since_epoch(instant: Instant) -> f64 {
    instant.saturating_duration_since(epoch()).as_secs_f64()
}

/// The instant `seconds` after the epoch; a time before it is the epoch.
///
/// # Panics
///
/// If `seconds` is NaN.
pub(crate) fn instant_at(seconds: f64) -> Instant {
    assert!(!seconds.is_nan(), "corun::asyncio: a time of NaN seconds");
    let offset = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(FAR_FUTURE);
    epoch()
        .checked_add(offset)
        .unwrap_or_else(|| epoch() + FAR_FUTURE)
}

/// `delay` from now, or far ahead where that overflows.
pub(crate) fn after(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay).unwrap_or_else(|| now + FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_clamps() {
        let t = seconds_since_epoch(Instant::now()) + 1.5;
        assert!((seconds_since_epoch(instant_at(t)) - t).abs() < 1e-6);
        assert_eq!(instant_at(-3.0), epoch());
        assert!(instant_at(f64::INFINITY) > Instant::now());
        assert!(after(Duration::MAX) > Instant::now());
    }
}
