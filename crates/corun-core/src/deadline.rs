//! Time-outs as deadlines, counted one way in every corun crate.
//!
//! Python measures an operation's `timeout` from the call, once, however
//! many waits the operation makes (`map`, `wait`, `as_completed`, a
//! queue's `put`): each crate turns the time-out into an instant with
//! [`deadline`] and asks [`remaining`] before each wait.

use std::time::{Duration, Instant};

/// The instant `timeout` from now; `None` for no time-out, or for one too
/// long for an `Instant` (`Duration::MAX`, say), both meaning "forever".
/// The addition never panics.
pub fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// The time left before `deadline` (zero once it has passed); `None` is
/// forever.
pub fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_or_huge_timeout_is_forever() {
        assert!(deadline(None).is_none());
        assert!(deadline(Some(Duration::MAX)).is_none());
        assert!(deadline(Some(Duration::ZERO)).is_some());
    }

    #[test]
    fn remaining_counts_down_from_the_timeout() {
        assert_eq!(remaining(None), None);
        let left = remaining(deadline(Some(Duration::from_secs(60)))).unwrap();
        assert!(left <= Duration::from_secs(60));
        let past = remaining(deadline(Some(Duration::ZERO))).unwrap();
        assert_eq!(past, Duration::ZERO);
    }
}
