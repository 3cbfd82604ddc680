//! Time-outs as deadlines, as the other corun crates count them.

use std::time::{Duration, Instant};

/// The instant `timeout` from now; `None` for no time-out, or one too long
/// for an `Instant` (`Duration::MAX`), both meaning "forever".
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// The time left before `deadline` (zero once passed); `None` is forever.
pub(crate) fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}
