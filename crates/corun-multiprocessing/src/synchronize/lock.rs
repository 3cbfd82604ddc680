//! [`Lock`]: Python's `multiprocessing.Lock`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{AcquireError, OwnerDied};
use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::robust_mutex::{Locked, RobustGuard, RobustMutex};
use corun_core::Error;
use corun_core::deadline::deadline;

/// A lock shared by processes: Python's `multiprocessing.Lock`, robust to a
/// holder that dies.
///
/// It lives in shared memory; clone it or pass it to a worker (as part of
/// an argument) and every copy is the same lock. When a process dies
/// holding it — killed by any signal, even SIGKILL — the next `acquire`
/// gets the lock *and* an [`OwnerDied`] error that carries the guard, so
/// nobody waits forever and the new holder knows to check the data.
///
/// Unlike Python's (a semaphore that any process may release), the lock is
/// released by dropping its guard, in the thread that took it.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Lock;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let lock = Lock::new()?;
///     {
///         let _held = lock.acquire().expect("no holder died");
///         assert!(lock.locked());
///         assert!(lock.try_acquire().unwrap_err().is_timeout());
///     }
///     assert!(!lock.locked());
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Lock {
    object: SharedObject<LockState>,
}

#[repr(C)]
struct LockState {
    mutex: RobustMutex,
}

// SAFETY: `#[repr(C)]`, a robust mutex only, valid all zero until `init`.
#[allow(unsafe_code)]
unsafe impl Layout for LockState {
    const KIND: [u8; 8] = *b"lock\0\0\0\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        self.mutex.init()
    }
}

/// Holds a [`Lock`]; dropping it releases the lock. Not `Send`: the
/// thread that acquired releases.
#[must_use = "the lock is released when the guard is dropped"]
pub struct LockGuard<'a> {
    _guard: RobustGuard<'a>,
}

impl Lock {
    /// A new, unlocked lock in a shared-memory segment of its own.
    ///
    /// # Errors
    ///
    /// When the segment cannot be created (see
    /// [`SharedMemory::create`](crate::SharedMemory::create)).
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            object: SharedObject::create(0)?,
        })
    }

    /// Attaches to the lock in segment `name` (what deserialising does).
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no such segment; `InvalidData` when it
    /// holds something else.
    pub(crate) fn attach(name: &str) -> Result<Self, Error> {
        Ok(Self {
            object: SharedObject::attach(name)?,
        })
    }

    /// Acquires the lock, waiting as long as it takes.
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], carrying the guard, when the previous holder died
    /// holding the lock.
    pub fn acquire(&self) -> Result<LockGuard<'_>, OwnerDied<LockGuard<'_>>> {
        let (guard, locked) = self.mutex().lock();
        wrap(guard, locked)
    }

    /// Acquires the lock if it is free now.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] when it is held;
    /// [`AcquireError::OwnerDied`] as for [`acquire`](Self::acquire).
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, AcquireError<LockGuard<'_>>> {
        AcquireError::attempt(self.mutex().try_lock(), wrap)
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire), once `timeout` has passed.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<LockGuard<'_>, AcquireError<LockGuard<'_>>> {
        AcquireError::attempt(self.mutex().lock_until(deadline(Some(timeout))), wrap)
    }

    /// Whether some process holds the lock now (a snapshot). A process
    /// that died holding it still counts, until the next acquire takes the
    /// lock (and reports [`OwnerDied`]); asking never takes the lock.
    pub fn locked(&self) -> bool {
        self.mutex().is_locked()
    }

    /// Keeps the lock's segment alive with the call being encoded, if one
    /// is (see `shared_memory::keeping`).
    pub(crate) fn keep_alive(&self) {
        self.object.keep_alive();
    }

    /// The name of the shared-memory segment the lock lives in.
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn mutex(&self) -> &RobustMutex {
        &self.object.state().mutex
    }
}

fn wrap(guard: RobustGuard<'_>, locked: Locked) -> Result<LockGuard<'_>, OwnerDied<LockGuard<'_>>> {
    OwnerDied::check(LockGuard { _guard: guard }, locked)
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name())
            .field("locked", &self.locked())
            .finish()
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}
