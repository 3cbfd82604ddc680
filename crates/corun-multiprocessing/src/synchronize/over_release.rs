//! [`OverRelease`]: a semaphore released once too often.

use std::fmt;

/// A semaphore was released past its limit: a
/// [`BoundedSemaphore`](super::BoundedSemaphore) beyond its initial value
/// (Python's `ValueError("Semaphore released too many times")`), or any
/// semaphore beyond `u32::MAX` permits. Nothing was changed.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::BoundedSemaphore;
///
/// fn main() -> std::io::Result<()> {
///     corun::multiprocessing::init();
///     let sem = BoundedSemaphore::new(1)?;
///     let err = sem.release().unwrap_err();
///     assert!(err.to_string().contains("released too many times"));
///     assert_eq!(sem.get_value(), 1);
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverRelease {
    _private: (),
}

impl OverRelease {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

impl fmt::Display for OverRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore released too many times")
    }
}

impl std::error::Error for OverRelease {}
