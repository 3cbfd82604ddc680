//! `Semaphore`: Python's `threading.Semaphore`, a counter of permits.
//!
//! The state is one mutex-guarded pair: the free permits (`value`, Python's
//! `_value`) and the permits held as live [`SemaphorePermit`] guards. The
//! second number lets a bounded semaphore refuse an explicit `release` that
//! would push `value + held` past the bound, so the bug is reported at the
//! `release` that makes it rather than later, in a guard's `Drop`, which can
//! return no error. `BoundedSemaphore` (in its own file) is this type with a
//! bound set.

use std::fmt;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::loom::{Condvar, Mutex};
use corun_core::deadline::deadline;

/// A counting semaphore (Python's `threading.Semaphore`).
///
/// `acquire` takes one permit, blocking while none is free, and returns a
/// [`SemaphorePermit`] that gives it back on drop. `release(n)` adds permits
/// without a guard, as Python's `release` does; [`SemaphorePermit::forget`]
/// keeps a permit taken for a later explicit `release`. Which waiter gets a
/// released permit is not specified (as in Python).
///
/// # Examples
///
/// At most two of four threads inside at once:
///
/// ```
/// use corun::threading::Semaphore;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let sem = Arc::new(Semaphore::new(2));
/// let inside = Arc::new(AtomicUsize::new(0));
/// let threads: Vec<_> = (0..4)
///     .map(|_| {
///         let (sem, inside) = (Arc::clone(&sem), Arc::clone(&inside));
///         std::thread::spawn(move || {
///             let _permit = sem.acquire();
///             let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
///             assert!(now <= 2);
///             inside.fetch_sub(1, Ordering::SeqCst);
///         })
///     })
///     .collect();
/// for t in threads {
///     t.join().unwrap();
/// }
/// assert_eq!(sem.value(), 2);
/// ```
pub struct Semaphore {
    state: Mutex<Counts>,
    cond: Condvar,
    bound: Option<usize>,
}

/// One permit of a [`Semaphore`] or [`BoundedSemaphore`](super::BoundedSemaphore),
/// given back when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
}

#[derive(Debug, Default)]
struct Counts {
    /// Free permits.
    value: usize,
    /// Permits held by live guards; counted for a bounded semaphore only,
    /// the one user of the number (an unbounded one keeps it at 0 and so
    /// keeps its critical sections as short as the textbook semaphore's).
    held: usize,
}

impl Semaphore {
    /// A semaphore with `value` free permits (Python's `Semaphore(value)`;
    /// Python's default is 1). A negative value, which Python rejects with
    /// `ValueError`, cannot be expressed.
    ///
    /// ```
    /// let sem = corun::threading::Semaphore::new(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    pub fn new(value: usize) -> Self {
        Self::with_bound(value, None)
    }

    pub(crate) fn with_bound(value: usize, bound: Option<usize>) -> Self {
        Self {
            state: Mutex::new(Counts { value, held: 0 }),
            cond: Condvar::new(),
            bound,
        }
    }

    /// Takes a permit, blocking until one is free.
    ///
    /// ```
    /// let sem = corun::threading::Semaphore::new(1);
    /// let p = sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// drop(p);
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.acquire_until(None)
            .expect("an untimed acquire cannot time out")
    }

    /// Takes a permit if one is free, without blocking
    /// (Python's `acquire(blocking=False)`).
    ///
    /// ```
    /// let sem = corun::threading::Semaphore::new(0);
    /// assert!(sem.try_acquire().is_none());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        let mut counts = self.state.lock();
        self.take(&mut counts)
    }

    /// Waits at most `timeout` for a permit; `None` when it timed out.
    /// `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = corun::threading::Semaphore::new(0);
    /// assert!(sem.acquire_timeout(Duration::from_millis(2)).is_none());
    /// sem.release(1).unwrap();
    /// assert!(sem.acquire_timeout(Duration::from_millis(2)).is_some());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        match deadline(Some(timeout)) {
            Some(d) => self.acquire_until(Some(d)),
            None => Some(self.acquire()),
        }
    }

    #[inline]
    fn acquire_until(&self, deadline: Option<Instant>) -> Option<SemaphorePermit<'_>> {
        let mut counts = self.state.lock();
        loop {
            if let Some(permit) = self.take(&mut counts) {
                return Some(permit);
            }
            if self.cond.wait_until(&mut counts, deadline) {
                return self.take(&mut counts);
            }
        }
    }

    #[inline]
    fn take(&self, counts: &mut Counts) -> Option<SemaphorePermit<'_>> {
        if counts.value == 0 {
            return None;
        }
        counts.value -= 1;
        if self.bound.is_some() {
            counts.held += 1;
        }
        Some(SemaphorePermit { sem: self })
    }

    /// Adds `n` permits and wakes up to `n` waiters (Python's `release(n)`).
    ///
    /// # Errors
    ///
    /// `n == 0` is an invalid argument (Python: `ValueError`). On a bounded
    /// semaphore, a release that would make the free plus held permits exceed
    /// the initial value fails with [`Error::is_over_release`] and changes
    /// nothing. A release that would overflow `usize` fails the same way.
    ///
    /// ```
    /// let sem = corun::threading::Semaphore::new(0);
    /// sem.release(2).unwrap();
    /// assert_eq!(sem.value(), 2);
    /// assert!(sem.release(0).unwrap_err().is_invalid_argument());
    /// ```
    pub fn release(&self, n: usize) -> Result<(), Error> {
        if n == 0 {
            return Err(Error::invalid_argument("release count must be one or more"));
        }
        let mut counts = self.state.lock();
        let total = counts
            .value
            .checked_add(counts.held)
            .and_then(|t| t.checked_add(n));
        match (total, self.bound) {
            (None, _) => return Err(Error::from(ErrorKind::OverRelease)),
            (Some(total), Some(bound)) if total > bound => {
                return Err(Error::from(ErrorKind::OverRelease));
            }
            _ => {}
        }
        counts.value += n;
        drop(counts);
        // Notified after unlocking, so a woken waiter does not at once block
        // on the mutex this thread still holds.
        for _ in 0..n {
            if !self.cond.notify_one() {
                break;
            }
        }
        Ok(())
    }

    /// The number of free permits right now (Python's `_value`); a snapshot.
    ///
    /// ```
    /// assert_eq!(corun::threading::Semaphore::new(4).value(), 4);
    /// ```
    pub fn value(&self) -> usize {
        self.state.lock().value
    }

    pub(crate) fn bound(&self) -> Option<usize> {
        self.bound
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without a guard; give it back later with
    /// [`Semaphore::release`], the way Python code pairs `acquire()` and
    /// `release()` by hand.
    ///
    /// ```
    /// let sem = corun::threading::BoundedSemaphore::new(1);
    /// sem.acquire().forget();
    /// assert_eq!(sem.value(), 0);
    /// sem.release(1).unwrap();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn forget(self) {
        if self.sem.bound.is_some() {
            self.sem.state.lock().held -= 1;
        }
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        let mut counts = self.sem.state.lock();
        if self.sem.bound.is_some() {
            counts.held -= 1;
        }
        // Saturating: an unbounded semaphore released up to `usize::MAX`
        // while this permit was out has nowhere to put it back.
        counts.value = counts.value.saturating_add(1);
        drop(counts);
        self.sem.cond.notify_one();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = self.state.lock();
        f.debug_struct("Semaphore")
            .field("value", &counts.value)
            .field("held", &counts.held)
            .field("bound", &self.bound)
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
