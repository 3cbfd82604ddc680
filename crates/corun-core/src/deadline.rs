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
///
/// ```
/// use corun_core::deadline::deadline;
/// use std::time::Duration;
///
/// assert!(deadline(None).is_none());
/// assert!(deadline(Some(Duration::MAX)).is_none());
/// assert!(deadline(Some(Duration::ZERO)).is_some());
/// ```
pub fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// The time left before `deadline` (zero once it has passed); `None` is
/// forever.
///
/// ```
/// use corun_core::deadline::{deadline, remaining};
/// use std::time::Duration;
///
/// assert_eq!(remaining(None), None);
/// let left = remaining(deadline(Some(Duration::from_secs(60)))).unwrap();
/// assert!(left <= Duration::from_secs(60));
/// ```
pub fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}
