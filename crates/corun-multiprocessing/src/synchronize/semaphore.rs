//! [`Semaphore`]: Python's `multiprocessing.Semaphore`, a counter of
//! permits in shared memory.
//!
//! The count of free permits is one 32-bit word, changed only by
//! compare-and-swap (so it is right at every instant a process could die),
//! and it is also the futex word waiters sleep on while it is 0. A waiter
//! counts itself in `sleepers`, tries once more for a permit, and sleeps
//! while the count is 0; a releaser adds its permit, then wakes one waiter
//! if `sleepers` says someone sleeps or is about to. Both sides' middle
//! steps are sequentially consistent, so either the waiter sees the permit
//! or the releaser sees the sleeper (whose sleep the new count prevents or
//! the wake-up ends).

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::futex;
use corun_core::Error;
use corun_core::ErrorKind;
use corun_core::deadline::deadline;

/// How many times a waiter looks for a permit before it sleeps.
const SPINS: u32 = 32;

/// A counting semaphore shared by processes: Python's
/// `multiprocessing.Semaphore`.
///
/// [`acquire`](Self::acquire) takes a permit, waiting while none is free,
/// and returns a [`SemaphorePermit`] that gives it back when dropped;
/// [`release`](Self::release) adds a permit without a guard, and any
/// process may call it, as in Python ([`SemaphorePermit::forget`] keeps a
/// permit taken for such a release). Which waiter gets a released permit
/// is not specified.
///
/// The semaphore lives in shared memory: clone it or pass it to a worker
/// and every copy counts the same permits. A process that dies holding
/// permits loses them, as in Python: nobody can tell a permit that a dead
/// process held from one it meant to keep, so they are not given back by
/// themselves (a [`release`](Self::release) can make up for them). A
/// waiter is never kept waiting past its time-out.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{Process, Semaphore};
///
/// fn take_one(sem: Semaphore) -> bool {
///     sem.try_acquire().map(|permit| permit.forget()).is_some()
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let sem = Semaphore::new(1)?;
///     let taken = Process::start(take_one, sem.clone()).unwrap().join().unwrap();
///     assert!(taken);
///     assert_eq!(sem.value(), 0); // the worker kept its permit
///     sem.release(1).unwrap();
///     assert_eq!(sem.value(), 1);
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Semaphore {
    object: SharedObject<SemaphoreState>,
}

/// The state of a semaphore, bounded or not.
#[repr(C)]
pub(super) struct SemaphoreState {
    /// Free permits; waiters sleep on it while it is 0.
    value: AtomicU32,
    /// Waiters asleep or about to sleep (one that died asleep stays
    /// counted, which only costs releases a futex call).
    sleepers: AtomicU32,
    /// 1 for a bounded semaphore.
    bounded: AtomicU32,
    /// The bound of a bounded semaphore.
    bound: AtomicU32,
}

// SAFETY: `#[repr(C)]`, atomics only, valid all zero (no permits, not
// bounded).
#[allow(unsafe_code)]
unsafe impl Layout for SemaphoreState {
    const KIND: [u8; 8] = *b"sem\0\0\0\0\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        Ok(())
    }
}

/// One permit of a [`Semaphore`] or a
/// [`BoundedSemaphore`](super::BoundedSemaphore), given back when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    state: &'a SemaphoreState,
}

impl Semaphore {
    /// A semaphore with `value` free permits, in a shared-memory segment of
    /// its own (Python's `Semaphore(value)`; Python's default is 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = Semaphore::new(3)?;
    ///     assert_eq!(sem.value(), 3);
    ///     assert!(Semaphore::new(usize::MAX).is_err());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `value` exceeds `u32::MAX`; as
    /// [`SharedMemory::create`](crate::SharedMemory::create) when the
    /// segment cannot be created.
    pub fn new(value: usize) -> Result<Self, Error> {
        Ok(Self {
            object: create(value, false)?,
        })
    }

    /// Takes a permit, waiting as long as it takes for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = Semaphore::new(1)?;
    ///     let permit = sem.acquire();
    ///     assert_eq!(sem.value(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.value(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.state().acquire()
    }

    /// Takes a permit if one is free now (Python's
    /// `acquire(block=False)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = Semaphore::new(1)?;
    ///     let _permit = sem.try_acquire().expect("one is free");
    ///     assert!(sem.try_acquire().is_none());
    ///     Ok(())
    /// }
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.state().try_take()
    }

    /// Takes a permit, waiting at most `timeout`; `None` when none came
    /// (Python's `acquire(timeout=t)` returning `False`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = Semaphore::new(0)?;
    ///     assert!(sem.acquire_timeout(Duration::from_millis(1)).is_none());
    ///     sem.release(1).unwrap();
    ///     assert!(sem.acquire_timeout(Duration::from_millis(1)).is_some());
    ///     Ok(())
    /// }
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.state().acquire_timeout(timeout)
    }

    /// Adds `n` permits and wakes up to `n` waiters (Python's `release(n)`);
    /// any process may call it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = Semaphore::new(0)?;
    ///     sem.release(1).unwrap();
    ///     sem.release(2).unwrap();
    ///     assert_eq!(sem.value(), 3);
    ///     assert!(sem.release(0).unwrap_err().is_invalid_argument());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// `n == 0` is an invalid argument (Python: `ValueError`); a release
    /// past `u32::MAX` free permits fails with
    /// [`Error::is_over_release`], and changes nothing.
    pub fn release(&self, n: usize) -> Result<(), Error> {
        self.state().release(n)
    }

    /// The number of free permits now (Python's `get_value()`, and
    /// `corun::threading::Semaphore::value`); a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert_eq!(Semaphore::new(4)?.value(), 4);
    ///     Ok(())
    /// }
    /// ```
    pub fn value(&self) -> usize {
        self.state().value()
    }

    /// The name of the shared-memory segment the semaphore lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Semaphore;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let sem = Semaphore::new(1)?;
    ///     assert!(sem.name().starts_with("corun-"));
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn state(&self) -> &SemaphoreState {
        self.object.state()
    }
}

/// Creates a semaphore's segment, of kind `S` (which holds the common
/// state), with `value` permits; a `bounded` one is bound to that value.
pub(super) fn create<S>(value: usize, bounded: bool) -> Result<SharedObject<S>, Error>
where
    S: Layout + AsRef<SemaphoreState>,
{
    let value = u32::try_from(value).map_err(|_| {
        Error::invalid_argument(format!("a semaphore holds at most {} permits", u32::MAX))
    })?;
    let object = SharedObject::<S>::create(0)?;
    // No other process knows the segment's name yet.
    let state = object.state().as_ref();
    state.value.store(value, Ordering::Relaxed);
    if bounded {
        state.bound.store(value, Ordering::Relaxed);
        state.bounded.store(1, Ordering::Relaxed);
    }
    Ok(object)
}

impl SemaphoreState {
    /// The bound, for a bounded semaphore.
    pub(super) fn bound(&self) -> Option<u32> {
        (self.bounded.load(Ordering::Relaxed) != 0).then(|| self.bound.load(Ordering::Relaxed))
    }

    pub(super) fn value(&self) -> usize {
        self.value.load(Ordering::Relaxed) as usize
    }

    pub(super) fn acquire(&self) -> SemaphorePermit<'_> {
        self.acquire_until(None)
            .expect("a wait without a deadline ends with a permit")
    }

    pub(super) fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.acquire_until(deadline(Some(timeout)))
    }

    /// Takes a permit if one is free.
    pub(super) fn try_take(&self) -> Option<SemaphorePermit<'_>> {
        self.value
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |value| {
                value.checked_sub(1)
            })
            .ok()
            .map(|_| SemaphorePermit { state: self })
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> Option<SemaphorePermit<'_>> {
        for _ in 0..SPINS {
            if let Some(permit) = self.try_take() {
                return Some(permit);
            }
            std::hint::spin_loop();
        }
        loop {
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            if let Some(permit) = self.try_take() {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return Some(permit);
            }
            let timed_out = futex::wait(&self.value, 0, deadline);
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            // A wake-up meant for this waiter is never wasted: even when
            // its time is up it takes the permit that came.
            if let Some(permit) = self.try_take() {
                return Some(permit);
            }
            if timed_out {
                return None;
            }
        }
    }

    /// Adds `n` permits, if that keeps the count within the bound (Python's
    /// check: the free permits only), all or none.
    pub(super) fn release(&self, n: usize) -> Result<(), Error> {
        if n == 0 {
            return Err(Error::invalid_argument("release count must be one or more"));
        }
        let over = || Error::from(ErrorKind::OverRelease);
        let n = u32::try_from(n).map_err(|_| over())?;
        let limit = self.bound().unwrap_or(u32::MAX);
        self.value
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |value| {
                value.checked_add(n).filter(|&v| v <= limit)
            })
            .map_err(|_| over())?;
        self.wake(n);
        Ok(())
    }

    /// Wakes up to `n` waiters, if any sleeps (see the module docs).
    fn wake(&self, n: u32) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake(&self.value, n);
        }
    }
}

impl AsRef<SemaphoreState> for SemaphoreState {
    fn as_ref(&self) -> &SemaphoreState {
        self
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without a guard; give it back later with
    /// `release`, the way Python code pairs `acquire()` and `release()`
    /// by hand, perhaps in another process.
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
    ///     assert_eq!(sem.value(), 0);
    ///     sem.release(1).unwrap();
    ///     assert_eq!(sem.value(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        // At the limit only when someone released while this permit was
        // out (a bounded semaphore's bound, where Python's release would
        // raise `ValueError`): the count stays at the limit.
        let _ = self.state.release(1);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("name", &self.name())
            .field("value", &self.value())
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
