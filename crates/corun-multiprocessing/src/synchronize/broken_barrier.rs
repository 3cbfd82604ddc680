//! [`BrokenBarrier`]: Python's `BrokenBarrierError`.

use std::fmt;

/// A [`Barrier`](super::Barrier) is broken, or broke while this party
/// waited: by a party's time-out, by [`abort`](super::Barrier::abort), or
/// by a [`reset`](super::Barrier::reset) while parties waited. Python's
/// `threading.BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Barrier;
/// use std::time::Duration;
///
/// fn main() -> std::io::Result<()> {
///     corun::multiprocessing::init();
///     let barrier = Barrier::new(2)?;
///     // Nobody else comes: the time-out breaks the barrier.
///     let err = barrier.wait_timeout(Duration::from_millis(1)).unwrap_err();
///     assert!(err.is_timeout());
///     // Later parties find it broken until it is reset.
///     assert!(!barrier.wait().unwrap_err().is_timeout());
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrier {
    timed_out: bool,
}

impl BrokenBarrier {
    pub(crate) fn new(timed_out: bool) -> Self {
        Self { timed_out }
    }

    /// Whether this party's own time-out broke the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Barrier;
    /// use std::time::Duration;
    ///
    /// fn main() -> std::io::Result<()> {
    ///     corun::multiprocessing::init();
    ///     let barrier = Barrier::new(2)?;
    ///     assert!(barrier.wait_timeout(Duration::ZERO).unwrap_err().is_timeout());
    ///     barrier.abort();
    ///     assert!(!barrier.wait().unwrap_err().is_timeout());
    ///     Ok(())
    /// }
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.timed_out
    }
}

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.timed_out {
            f.write_str("barrier wait timed out, barrier is broken")
        } else {
            f.write_str("barrier is broken")
        }
    }
}

impl std::error::Error for BrokenBarrier {}
