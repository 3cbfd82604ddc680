//! [`BoundedSemaphore`]: Python's `multiprocessing.BoundedSemaphore`, a
//! semaphore that refuses to be released past its initial value.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::semaphore::{self, SemaphorePermit, SemaphoreState};
use crate::shm::shared_object::{Layout, SharedObject};
use corun_core::Error;

/// A semaphore shared by processes whose free permits never exceed the
/// initial value: Python's `multiprocessing.BoundedSemaphore`.
///
/// As in Python, [`release`](Self::release) checks the free permits
/// against the bound. A permit's guard that finds the semaphore full when
/// dropped (someone released while it was out, where Python's release
/// would raise) leaves it full. corun's thread-side `BoundedSemaphore` also
/// counts the permits that guards hold; this one does not, so that the
/// permits of a process that died holding them can be made up for with
/// `release`, as in Python.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::BoundedSemaphore;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let sem = BoundedSemaphore::new(2)?;
///     let permit = sem.acquire();
///     assert_eq!(sem.value(), 1);
///     drop(permit);
///     assert!(sem.release(1).is_err()); // already at the bound
///     assert_eq!(sem.value(), 2);
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BoundedSemaphore {
    object: SharedObject<BoundedState>,
}

/// A semaphore's state, of its own kind so that a bounded semaphore's
/// name cannot be attached as a plain one, nor the reverse.
#[repr(C)]
struct BoundedState {
    inner: SemaphoreState,
}

// SAFETY: `#[repr(C)]`, a semaphore's state only (atomics, valid all zero).
#[allow(unsafe_code)]
unsafe impl Layout for BoundedState {
    const KIND: [u8; 8] = *b"bsem\0\0\0\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        Ok(())
    }
}

impl AsRef<SemaphoreState> for BoundedState {
    fn as_ref(&self) -> &SemaphoreState {
        &self.inner
    }
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` free permits, which is also its
    /// bound, in a shared-memory segment of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(2)?;
    ///     assert_eq!((sem.value(), sem.bound()), (2, 2));
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Semaphore::new`](super::Semaphore::new).
    pub fn new(value: usize) -> Result<Self, Error> {
        Ok(Self {
            object: semaphore::create(value, true)?,
        })
    }

    /// Takes a permit, waiting as long as it takes for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(1)?;
    ///     let _permit = sem.acquire();
    ///     assert!(sem.try_acquire().is_none());
    ///     Ok(())
    /// }
    /// ```
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.state().acquire()
    }

    /// Takes a permit if one is free now.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(1)?;
    ///     assert!(sem.try_acquire().is_some());
    ///     Ok(())
    /// }
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.state().try_take()
    }

    /// Takes a permit, waiting at most `timeout`; `None` when none came.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(0)?;
    ///     assert!(sem.acquire_timeout(Duration::ZERO).is_none());
    ///     Ok(())
    /// }
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.state().acquire_timeout(timeout)
    }

    /// Adds `n` permits and wakes up to `n` waiters (Python's
    /// `release(n)`); any process may call it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(1)?;
    ///     sem.acquire().forget();
    ///     sem.release(1).unwrap();
    ///     assert!(sem.release(1).is_err());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::is_over_release`] when `n` more free permits would pass
    /// the bound (Python: `ValueError("Semaphore released too many
    /// times")`); nothing changes then. `n == 0` is an invalid argument.
    pub fn release(&self, n: usize) -> Result<(), Error> {
        self.state().release(n)
    }

    /// The number of free permits now (Python's `get_value()`, and
    /// `corun::threading::BoundedSemaphore::value`); a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(BoundedSemaphore::new(2)?.value(), 2);
    ///     Ok(())
    /// }
    /// ```
    pub fn value(&self) -> usize {
        self.state().value()
    }

    /// The bound: the initial value.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(2)?;
    ///     sem.acquire().forget();
    ///     assert_eq!((sem.value(), sem.bound()), (1, 2));
    ///     Ok(())
    /// }
    /// ```
    pub fn bound(&self) -> usize {
        self.state()
            .bound()
            .expect("a bounded semaphore has a bound") as usize
    }

    /// The name of the shared-memory segment the semaphore lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::BoundedSemaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = BoundedSemaphore::new(1)?;
    ///     assert!(sem.name().starts_with("corun-"));
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn state(&self) -> &SemaphoreState {
        &self.object.state().inner
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("name", &self.name())
            .field("value", &self.value())
            .field("bound", &self.bound())
            .finish()
    }
}
