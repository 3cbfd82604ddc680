//! Turning a timeout into a deadline without overflow.

use std::time::{Duration, Instant};

/// The instant `timeout` from now, or `None` when that is beyond what
/// `Instant` can represent (`Duration::MAX`, say): a wait that long is a wait
/// forever, and must not panic on the addition.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeout_is_forever() {
        assert!(deadline(Duration::MAX).is_none());
        assert!(deadline(Duration::ZERO).is_some());
    }
}
