//! [`RLock`]: Python's `multiprocessing.RLock`.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{AcquireError, OwnerDied};
use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::robust_mutex::{Locked, RobustGuard, RobustMutex};
use corun_core::Error;
use corun_core::deadline::deadline;

/// A re-entrant lock shared by processes: Python's
/// `multiprocessing.RLock`, robust to a holder that dies.
///
/// The thread that holds it — one thread of one process — may acquire it
/// again without blocking; it is free once every guard that thread took is
/// dropped. Like [`Lock`](super::Lock) it lives in shared memory, every
/// clone (or copy passed to a worker) is the same lock, and when a process
/// dies holding it, however many times, the next acquirer gets it with an
/// [`OwnerDied`] error that carries the guard.
///
/// Python lets only the owner release an `RLock`; here only the owner has
/// guards to drop, and they are not `Send`.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::RLock;
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let lock = RLock::new()?;
///     let outer = lock.acquire().expect("no holder died");
///     let inner = lock.acquire().expect("the owner takes it again");
///     assert!(lock.is_owned());
///     drop(outer);
///     assert!(lock.locked(), "still held through `inner`");
///     drop(inner);
///     assert!(!lock.locked());
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RLock {
    object: SharedObject<RLockState>,
}

/// The lock's state. `mutex` (recursive) decides who holds it; the other
/// fields are written only by the holding thread and say who that is.
#[repr(C)]
struct RLockState {
    mutex: RobustMutex,
    /// The holding thread's token (0 when free): see [`thread_token`].
    owner: AtomicU64,
    /// How many guards the holder has.
    depth: AtomicU32,
    /// The holder's process id, reported to the next holder if it dies.
    pid: AtomicU32,
}

// SAFETY: `#[repr(C)]`, a robust mutex and atomics only, valid all zero
// until `init`.
#[allow(unsafe_code)]
unsafe impl Layout for RLockState {
    const KIND: [u8; 8] = *b"rlock\0\0\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        self.mutex.init_recursive()
    }
}

/// Holds an [`RLock`] once; the lock is free when the holder's last guard
/// is dropped. Not `Send`: the thread that acquired releases.
#[must_use = "the lock is released when the guard is dropped"]
pub struct RLockGuard<'a> {
    state: &'a RLockState,
    _guard: RobustGuard<'a>,
}

impl RLock {
    /// A new, unlocked re-entrant lock in a shared-memory segment of its
    /// own.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let lock = RLock::new()?;
    ///     assert!(!lock.locked());
    ///     Ok(())
    /// }
    /// ```
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

    /// Acquires the lock, waiting as long as another thread or process
    /// holds it; at once if this thread does.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let lock = RLock::new()?;
    ///     let outer = lock.acquire().expect("no holder died");
    ///     let inner = lock.acquire().expect("no holder died");
    ///     drop((outer, inner));
    ///     assert!(!lock.locked());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], carrying the guard, when the previous holder died
    /// holding the lock.
    pub fn acquire(&self) -> Result<RLockGuard<'_>, OwnerDied<RLockGuard<'_>>> {
        let (guard, locked) = self.state().mutex.lock();
        self.wrap(guard, locked)
    }

    /// Acquires the lock if it is free or held by this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let lock = RLock::new()?;
    ///     let _held = lock.try_acquire().expect("free");
    ///     assert!(lock.try_acquire().is_ok(), "re-entrant");
    ///     let other = std::thread::scope(|s| s.spawn(|| lock.try_acquire().is_err()).join().unwrap());
    ///     assert!(other, "another thread finds it held");
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] when another thread holds it;
    /// [`AcquireError::OwnerDied`] as for [`acquire`](Self::acquire).
    pub fn try_acquire(&self) -> Result<RLockGuard<'_>, AcquireError<RLockGuard<'_>>> {
        AcquireError::attempt(self.state().mutex.try_lock(), |guard, locked| {
            self.wrap(guard, locked)
        })
    }

    /// Acquires the lock, waiting at most `timeout` for another holder to
    /// release it.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     use std::time::Duration;
    ///     let lock = RLock::new()?;
    ///     let _held = lock.acquire().expect("no holder died");
    ///     let other = std::thread::scope(|s| {
    ///         s.spawn(|| lock.acquire_timeout(Duration::from_millis(1)).is_err())
    ///             .join()
    ///             .unwrap()
    ///     });
    ///     assert!(other);
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire), once `timeout` has passed.
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<RLockGuard<'_>, AcquireError<RLockGuard<'_>>> {
        let taken = self.state().mutex.lock_until(deadline(Some(timeout)));
        AcquireError::attempt(taken, |guard, locked| self.wrap(guard, locked))
    }

    /// Whether some thread holds the lock now (a snapshot). A lock whose
    /// holder died counts as held until the next acquire takes it over.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let lock = RLock::new()?;
    ///     let held = lock.acquire().expect("no holder died");
    ///     assert!(lock.locked());
    ///     drop(held);
    ///     assert!(!lock.locked());
    ///     Ok(())
    /// }
    /// ```
    pub fn locked(&self) -> bool {
        self.state().owner.load(Ordering::Relaxed) != 0
    }

    /// Whether the calling thread holds the lock (Python's `_is_owned()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let lock = RLock::new()?;
    ///     let _held = lock.acquire().expect("no holder died");
    ///     assert!(lock.is_owned());
    ///     assert!(!std::thread::scope(|s| s.spawn(|| lock.is_owned()).join().unwrap()));
    ///     Ok(())
    /// }
    /// ```
    pub fn is_owned(&self) -> bool {
        self.state().owner.load(Ordering::Relaxed) == thread_token()
    }

    /// The name of the shared-memory segment the lock lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::RLock;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let lock = RLock::new()?;
    ///     assert!(lock.name().starts_with("corun-"));
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn state(&self) -> &RLockState {
        self.object.state()
    }

    /// Records the new level: this thread holds the mutex now.
    fn wrap<'a>(
        &'a self,
        guard: RobustGuard<'a>,
        locked: Locked,
    ) -> Result<RLockGuard<'a>, OwnerDied<RLockGuard<'a>>> {
        let state = self.state();
        let died = match locked {
            Locked::Clean => None,
            Locked::OwnerDied(pid) => {
                // The dead holder's levels are gone (glibc counts this one
                // as the first); its own record of its pid is the better
                // one, as its inner guards cleared the mutex's.
                let recorded = state.pid.load(Ordering::Relaxed);
                state.depth.store(0, Ordering::Relaxed);
                Some(if recorded != 0 { recorded } else { pid })
            }
        };
        let depth = state.depth.load(Ordering::Relaxed);
        if depth == 0 {
            state.pid.store(
                crate::synchronize::robust_mutex::this_pid(),
                Ordering::Relaxed,
            );
            state.owner.store(thread_token(), Ordering::Relaxed);
        }
        state.depth.store(depth + 1, Ordering::Relaxed);
        let guard = RLockGuard {
            state,
            _guard: guard,
        };
        match died {
            None => Ok(guard),
            Some(pid) => Err(OwnerDied::new(guard, pid)),
        }
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // This thread holds the mutex (the guard's field is dropped, and
        // one level unlocked, after this body).
        let depth = self.state.depth.load(Ordering::Relaxed).saturating_sub(1);
        self.state.depth.store(depth, Ordering::Relaxed);
        if depth == 0 {
            self.state.owner.store(0, Ordering::Relaxed);
            self.state.pid.store(0, Ordering::Relaxed);
        }
    }
}

/// A number that tells this thread from every other thread of every
/// process, now and later (random, so that a reused thread or process id
/// never passes for a dead holder); never 0.
fn thread_token() -> u64 {
    thread_local! {
        static TOKEN: u64 = random_token();
    }
    TOKEN.with(|token| *token)
}

fn random_token() -> u64 {
    // std seeds each `RandomState` from the system's random source.
    let state = RandomState::new();
    let mut salt = 0_u64;
    loop {
        let token = state.hash_one((std::process::id(), salt));
        if token != 0 {
            return token;
        }
        salt += 1;
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("name", &self.name())
            .field("locked", &self.locked())
            .field("owned", &self.is_owned())
            .finish()
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RLockGuard")
    }
}
