//! `BoundedSemaphore`: a semaphore that refuses to be released past its
//! initial value (Python's `threading.BoundedSemaphore`).

use std::fmt;
use std::time::Duration;

use super::semaphore::{Semaphore, SemaphorePermit};
use crate::error::Error;

/// A semaphore whose permits can never exceed the initial value
/// (Python's `threading.BoundedSemaphore`).
///
/// Python checks only `value + n > initial` at `release`; corun also counts
/// the permits held by live guards, so an extra `release` is refused even
/// while guards are out, and a guard's drop can never overflow the bound.
///
/// # Examples
///
/// ```
/// use corun::threading::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(2);
/// let permit = sem.acquire();
/// assert!(sem.release(1).unwrap_err().is_over_release()); // the guard will give it back
/// drop(permit);
/// assert_eq!(sem.value(), 2);
/// ```
pub struct BoundedSemaphore {
    inner: Semaphore,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` free permits, which is also its bound.
    ///
    /// ```
    /// let sem = corun::threading::BoundedSemaphore::new(1);
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn new(value: usize) -> Self {
        Self {
            inner: Semaphore::with_bound(value, Some(value)),
        }
    }

    /// Takes a permit, blocking until one is free.
    ///
    /// ```
    /// let sem = corun::threading::BoundedSemaphore::new(1);
    /// let _p = sem.acquire();
    /// assert!(sem.try_acquire().is_none());
    /// ```
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.inner.acquire()
    }

    /// Takes a permit if one is free, without blocking.
    ///
    /// ```
    /// let sem = corun::threading::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.inner.try_acquire()
    }

    /// Waits at most `timeout` for a permit; `None` when it timed out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = corun::threading::BoundedSemaphore::new(0);
    /// assert!(sem.acquire_timeout(Duration::ZERO).is_none());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.inner.acquire_timeout(timeout)
    }

    /// Gives back `n` permits taken with [`SemaphorePermit::forget`].
    ///
    /// # Errors
    ///
    /// [`Error::is_over_release`] when the permits would exceed the initial
    /// value (Python: `ValueError("Semaphore released too many times")`);
    /// nothing changes then. `n == 0` is an invalid argument.
    ///
    /// ```
    /// let sem = corun::threading::BoundedSemaphore::new(1);
    /// assert!(sem.release(1).unwrap_err().is_over_release());
    /// ```
    pub fn release(&self, n: usize) -> Result<(), Error> {
        self.inner.release(n)
    }

    /// The number of free permits right now; a snapshot.
    ///
    /// ```
    /// assert_eq!(corun::threading::BoundedSemaphore::new(2).value(), 2);
    /// ```
    pub fn value(&self) -> usize {
        self.inner.value()
    }

    /// The bound: the initial value.
    ///
    /// ```
    /// assert_eq!(corun::threading::BoundedSemaphore::new(2).bound(), 2);
    /// ```
    pub fn bound(&self) -> usize {
        self.inner.bound().expect("a bounded semaphore has a bound")
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BoundedSemaphore")
            .field(&self.inner)
            .finish()
    }
}
