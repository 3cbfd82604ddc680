//! [`Condition`]: Python's `multiprocessing.Condition`, a process-shared
//! lock with a wait queue.
//!
//! The state, beside the robust mutex, is a futex word `seq` and one
//! 64-bit word of counts, both changed only while the mutex is held, the
//! counts with a single store:
//!
//! - `waiting`: waiters that registered and have not left;
//! - `signals`: wake-ups granted by `notify` and not yet taken.
//!
//! A waiter registers, reads `seq`, unlocks and sleeps while `seq` is
//! unchanged; then it locks again and leaves, taking a signal if there is
//! one (notified), or else because its time is up (timed out); with neither
//! it reads `seq` again and goes back to sleep. `notify(n)` grants
//! `min(n, waiting - signals)` signals, bumps `seq` and wakes that many
//! sleepers (none when nobody waits). So exactly as many waiters return
//! notified as `notify` granted, whichever of them runs first.
//!
//! A waiter killed in its sleep stays counted: a later `notify` may grant
//! it a signal nobody takes until some waiter times out (that waiter then
//! reports itself notified). No live waiter is kept asleep by it: the
//! kernel wakes only live sleepers.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{AcquireError, OwnerDied};
use crate::shm::shared_object::{Layout, SharedObject};
use crate::synchronize::futex;
use crate::synchronize::robust_mutex::{Locked, RobustGuard, RobustMutex};
use corun_core::Error;
use corun_core::deadline::deadline;

/// A condition variable shared by processes, with its own lock: Python's
/// `multiprocessing.Condition`, robust to a holder that dies.
///
/// [`acquire`](Self::acquire) takes the lock and returns a
/// [`ConditionGuard`]; waiting and notifying are methods of the guard, so
/// calling them without the lock (Python's `RuntimeError`) does not
/// compile. The data the condition is about lives elsewhere in shared
/// memory (a [`SharedMemory`](crate::SharedMemory) block, say). The lock is
/// not re-entrant (Python's default is an `RLock`).
///
/// When a process dies holding the lock, the next acquirer — or a waiter
/// taking the lock back — gets it with an [`OwnerDied`] error, so it knows
/// the data may be half-updated. A process killed while it waits leaves
/// the others be.
///
/// # Examples
///
/// A worker waits until the main process says go:
///
/// ```standalone_crate
/// use corun::multiprocessing::{Condition, Process, SharedMemory};
///
/// fn wait_for_go((cond, flag): (Condition, SharedMemory)) -> u8 {
///     let mut guard = cond.acquire().expect("no holder died");
///     let go = || {
///         let mut byte = [0];
///         flag.read_at(0, &mut byte).unwrap();
///         byte[0] != 0
///     };
///     guard.wait_for(go).expect("no holder died");
///     1
/// }
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let cond = Condition::new()?;
///     let flag = SharedMemory::create(1)?;
///     let worker = Process::start(wait_for_go, (cond.clone(), flag.clone())).unwrap();
///     {
///         let guard = cond.acquire().expect("no holder died");
///         flag.write_at(0, &[1])?;
///         guard.notify_all();
///     }
///     assert_eq!(worker.join().unwrap(), 1);
///     Ok(())
/// }
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Condition {
    object: SharedObject<ConditionState>,
}

#[repr(C)]
struct ConditionState {
    mutex: RobustMutex,
    /// The word waiters sleep on; bumped by a `notify` that grants signals.
    seq: AtomicU32,
    /// `waiting` in the low half, `signals` in the high half.
    counts: AtomicU64,
}

// SAFETY: `#[repr(C)]`, a robust mutex and atomics only, valid all zero
// until `init`.
#[allow(unsafe_code)]
unsafe impl Layout for ConditionState {
    const KIND: [u8; 8] = *b"cond\0\0\0\0";

    fn init(&self, _tail: *mut u8, _tail_len: usize) -> std::io::Result<()> {
        self.mutex.init()
    }
}

/// Holds a [`Condition`]'s lock; waits and notifications go through it.
/// Dropping it releases the lock. Not `Send`: the thread that acquired
/// releases.
#[must_use = "the lock is released when the guard is dropped"]
pub struct ConditionGuard<'a> {
    state: &'a ConditionState,
    /// `None` only while a wait has the lock released.
    guard: Option<RobustGuard<'a>>,
}

/// Waiters and signals, as stored in `counts`.
#[derive(Clone, Copy)]
struct Counts {
    waiting: u32,
    signals: u32,
}

impl Counts {
    fn load(word: &AtomicU64) -> Self {
        let word = word.load(Ordering::Relaxed);
        Self {
            waiting: word as u32,
            signals: (word >> 32) as u32,
        }
    }

    /// Publishes the counts: one store, so they are whole at every instant
    /// the holder could die.
    fn store(self, word: &AtomicU64) {
        word.store(
            u64::from(self.waiting) | (u64::from(self.signals) << 32),
            Ordering::Relaxed,
        );
    }
}

impl Condition {
    /// A new condition, its lock free, in a shared-memory segment of its
    /// own.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     assert!(cond.try_acquire().is_ok());
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

    /// Acquires the lock, waiting as long as it takes.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let guard = cond.acquire().expect("no holder died");
    ///     assert!(cond.try_acquire().unwrap_err().is_timeout());
    ///     drop(guard);
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`OwnerDied`], carrying the guard, when the previous holder died
    /// holding the lock.
    pub fn acquire(&self) -> Result<ConditionGuard<'_>, OwnerDied<ConditionGuard<'_>>> {
        let (guard, locked) = self.state().mutex.lock();
        self.wrap(guard, locked)
    }

    /// Acquires the lock if it is free now.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let _guard = cond.try_acquire().expect("free");
    ///     assert!(cond.try_acquire().unwrap_err().is_timeout());
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`AcquireError::Timeout`] when it is held;
    /// [`AcquireError::OwnerDied`] as for [`acquire`](Self::acquire).
    pub fn try_acquire(&self) -> Result<ConditionGuard<'_>, AcquireError<ConditionGuard<'_>>> {
        AcquireError::attempt(self.state().mutex.try_lock(), |guard, locked| {
            self.wrap(guard, locked)
        })
    }

    /// Acquires the lock, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let _guard = cond.acquire().expect("no holder died");
    ///     let err = cond.acquire_timeout(Duration::from_millis(1)).unwrap_err();
    ///     assert!(err.is_timeout());
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
    ) -> Result<ConditionGuard<'_>, AcquireError<ConditionGuard<'_>>> {
        let taken = self.state().mutex.lock_until(deadline(Some(timeout)));
        AcquireError::attempt(taken, |guard, locked| self.wrap(guard, locked))
    }

    /// The name of the shared-memory segment the condition lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     assert!(Condition::new()?.name().starts_with("corun-"));
    ///     Ok(())
    /// }
    /// ```
    pub fn name(&self) -> &str {
        self.object.name()
    }

    fn state(&self) -> &ConditionState {
        self.object.state()
    }

    fn wrap<'a>(
        &'a self,
        guard: RobustGuard<'a>,
        locked: Locked,
    ) -> Result<ConditionGuard<'a>, OwnerDied<ConditionGuard<'a>>> {
        let guard = ConditionGuard {
            state: self.state(),
            guard: Some(guard),
        };
        OwnerDied::check(guard, locked)
    }
}

impl ConditionGuard<'_> {
    /// Releases the lock, sleeps until notified, and takes the lock again
    /// (Python's `wait()`). It returns only when a `notify` chose it: no
    /// spurious wake-ups.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let ready = AtomicBool::new(false); // shared memory, between processes
    ///     std::thread::scope(|s| {
    ///         let mut guard = cond.acquire().expect("no holder died");
    ///         s.spawn(|| {
    ///             let guard = cond.acquire().expect("no holder died");
    ///             ready.store(true, Ordering::Relaxed);
    ///             guard.notify(1);
    ///         });
    ///         while !ready.load(Ordering::Relaxed) {
    ///             guard.wait().expect("no holder died");
    ///         }
    ///     });
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`OwnerDied`] when, taking the lock back, the waiter found that its
    /// holder had died holding it: the guard holds the lock again all the
    /// same, and the data it guards may be half-updated.
    pub fn wait(&mut self) -> Result<(), OwnerDied<()>> {
        let (_, died) = self.wait_until(None);
        match died {
            None => Ok(()),
            Some(pid) => Err(OwnerDied::new((), pid)),
        }
    }

    /// Like [`wait`](Self::wait) but for at most `timeout`; returns whether
    /// it was notified (Python's `wait(timeout)`: `false` when the time ran
    /// out).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let mut guard = cond.acquire().expect("no holder died");
    ///     let notified = guard.wait_timeout(Duration::from_millis(1));
    ///     assert!(!notified.expect("no holder died"));
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait); the error carries what the wait returns.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<bool, OwnerDied<bool>> {
        let (notified, died) = self.wait_until(deadline(Some(timeout)));
        match died {
            None => Ok(notified),
            Some(pid) => Err(OwnerDied::new(notified, pid)),
        }
    }

    /// Waits until `predicate` holds (Python's `wait_for(predicate)`);
    /// returns at once if it already does. The predicate runs with the
    /// lock held.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let mut guard = cond.acquire().expect("no holder died");
    ///     guard.wait_for(|| true).expect("already true: no wait");
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait): the wait ends at the first time the waiter
    /// takes the lock back from a dead holder, whatever the predicate says.
    pub fn wait_for(&mut self, mut predicate: impl FnMut() -> bool) -> Result<(), OwnerDied<()>> {
        while !predicate() {
            self.wait()?;
        }
        Ok(())
    }

    /// Waits until `predicate` holds or `timeout` passes; returns the
    /// predicate's last value, as Python's `wait_for(predicate, timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     let mut guard = cond.acquire().expect("no holder died");
    ///     let held = guard.wait_for_timeout(|| false, Duration::from_millis(1));
    ///     assert!(!held.expect("no holder died"));
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`wait_for`](Self::wait_for); the error carries the predicate's
    /// value then.
    pub fn wait_for_timeout(
        &mut self,
        mut predicate: impl FnMut() -> bool,
        timeout: Duration,
    ) -> Result<bool, OwnerDied<bool>> {
        let deadline = deadline(Some(timeout));
        loop {
            if predicate() {
                return Ok(true);
            }
            let (notified, died) = self.wait_until(deadline);
            if let Some(pid) = died {
                return Err(OwnerDied::new(predicate(), pid));
            }
            if !notified {
                return Ok(predicate());
            }
        }
    }

    /// Wakes up to `n` waiters (Python's `notify(n)`). They run once this
    /// guard is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     cond.acquire().expect("no holder died").notify(1); // nobody waits: nothing to do
    ///     Ok(())
    /// }
    /// ```
    pub fn notify(&self, n: usize) {
        let mut counts = Counts::load(&self.state.counts);
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let granted = n.min(counts.waiting.saturating_sub(counts.signals));
        if granted == 0 {
            return;
        }
        counts.signals += granted;
        counts.store(&self.state.counts);
        self.state.seq.fetch_add(1, Ordering::Release);
        futex::wake(&self.state.seq, granted);
    }

    /// Wakes every waiter (Python's `notify_all()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use corun::multiprocessing::Condition;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let cond = Condition::new()?;
    ///     cond.acquire().expect("no holder died").notify_all();
    ///     Ok(())
    /// }
    /// ```
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }

    /// Registers, sleeps until notified or past `deadline`, and leaves;
    /// returns whether notified, and the pid of a holder found dead on the
    /// way back.
    fn wait_until(&mut self, deadline: Option<Instant>) -> (bool, Option<u32>) {
        let state = self.state;
        let mut counts = Counts::load(&state.counts);
        counts.waiting = counts.waiting.saturating_add(1);
        counts.store(&state.counts);
        let mut died = None;
        loop {
            let seq = state.seq.load(Ordering::Relaxed);
            drop(self.guard.take());
            let timed_out = futex::wait(&state.seq, seq, deadline);
            let (guard, locked) = state.mutex.lock();
            self.guard = Some(guard);
            if let Locked::OwnerDied(pid) = locked {
                died = Some(pid);
            }
            let mut counts = Counts::load(&state.counts);
            let notified = counts.signals > 0;
            if notified || timed_out || died.is_some() {
                counts.waiting = counts.waiting.saturating_sub(1);
                if notified {
                    counts.signals -= 1;
                }
                counts.store(&state.counts);
                return (notified, died);
            }
        }
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConditionGuard")
    }
}
