//! [`BoundedSemaphore`]: a semaphore that refuses to be released past its
//! initial value (Python's `asyncio.BoundedSemaphore`).

use std::fmt;

use corun_core::Error;

use super::semaphore::{Semaphore, SemaphoreAcquire, SemaphorePermit};

/// A semaphore whose permits can never exceed the initial value, for tasks
/// of one event loop (Python's `asyncio.BoundedSemaphore`).
///
/// Python checks only `value >= initial` at `release`; corun also counts
/// the permits held (by guards, or handed to waiters on their way), so an
/// extra `release` is refused even while guards are out, and a guard's
/// drop can never overflow the bound (as `corun::threading::BoundedSemaphore`).
///
/// # Examples
///
/// ```
/// use corun::asyncio::{BoundedSemaphore, run};
///
/// run(async {
///     let sem = BoundedSemaphore::new(2);
///     let permit = sem.acquire().await;
///     // The guard will give its permit back: releasing by hand is one too many.
///     assert!(sem.release(1).unwrap_err().is_over_release());
///     drop(permit);
///     assert_eq!(sem.value(), 2);
/// })
/// .unwrap();
/// ```
pub struct BoundedSemaphore {
    inner: Semaphore,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` free permits, which is also its
    /// bound.
    ///
    /// ```
    /// let sem = corun::asyncio::BoundedSemaphore::new(1);
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn new(value: usize) -> Self {
        Self {
            inner: Semaphore::with_bound(value, Some(value)),
        }
    }

    /// Takes a permit, waiting until one is free and this task's turn has
    /// come; see [`Semaphore::acquire`].
    ///
    /// ```
    /// use corun::asyncio::{BoundedSemaphore, run};
    ///
    /// run(async {
    ///     let sem = BoundedSemaphore::new(1);
    ///     let _permit = sem.acquire().await;
    ///     assert!(sem.locked());
    /// })
    /// .unwrap();
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        self.inner.acquire()
    }

    /// Takes a permit if one is free and nobody waits before, without
    /// waiting.
    ///
    /// ```
    /// let sem = corun::asyncio::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.inner.try_acquire()
    }

    /// Gives back `n` permits taken with [`SemaphorePermit::forget`].
    ///
    /// # Errors
    ///
    /// [`Error::is_over_release`] when the permits would exceed the
    /// initial value (Python: `ValueError('BoundedSemaphore released too
    /// many times')`); nothing changes then. `n == 0` is an invalid
    /// argument.
    ///
    /// ```
    /// let sem = corun::asyncio::BoundedSemaphore::new(1);
    /// assert!(sem.release(1).unwrap_err().is_over_release());
    /// ```
    pub fn release(&self, n: usize) -> Result<(), Error> {
        self.inner.release(n)
    }

    /// The number of free permits now.
    ///
    /// ```
    /// assert_eq!(corun::asyncio::BoundedSemaphore::new(2).value(), 2);
    /// ```
    pub fn value(&self) -> usize {
        self.inner.value()
    }

    /// Whether an `acquire` now would wait (Python's `locked()`).
    ///
    /// ```
    /// assert!(!corun::asyncio::BoundedSemaphore::new(1).locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.inner.locked()
    }

    /// The bound: the initial value.
    ///
    /// ```
    /// assert_eq!(corun::asyncio::BoundedSemaphore::new(2).bound(), 2);
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
