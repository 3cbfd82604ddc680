//! `Condition`: Python's `threading.Condition`, a lock with a wait queue.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use crate::loom::{Condvar, Mutex, MutexGuard};
use corun_core::deadline::deadline;

/// A condition variable bundled with the lock and the state it guards
/// (Python's `threading.Condition`).
///
/// `acquire` returns a [`ConditionGuard`]; waiting and notifying are methods
/// of the guard. Python raises `RuntimeError` when `wait` or `notify` is
/// called without holding the lock; here that mistake does not compile.
///
/// # Not re-entrant
///
/// Python's default `Condition()` is built on an `RLock`, so the thread
/// holding it may acquire it again. This one is built on a plain lock, as
/// Python's `Condition(Lock())`: a second [`acquire`](Self::acquire) in the
/// thread that holds it deadlocks. Hand the guard (or `&mut T`) down to the
/// code that needs the state instead of acquiring again. There is no
/// re-entrant form because the guard gives `&mut T`: two guards in one
/// thread would alias it, and a `wait` that released every level, as
/// Python's does, would leave the outer guards' borrows alive while other
/// threads change the state.
///
/// # Examples
///
/// A consumer waits until a producer has put something:
///
/// ```
/// use corun::threading::Condition;
/// use std::sync::Arc;
///
/// let items = Arc::new(Condition::new(Vec::new()));
/// let consumer = {
///     let items = Arc::clone(&items);
///     std::thread::spawn(move || {
///         let mut guard = items.acquire();
///         guard.wait_for(|v: &Vec<i32>| !v.is_empty());
///         guard.pop()
///     })
/// };
/// let mut guard = items.acquire();
/// guard.push(42);
/// guard.notify(1);
/// drop(guard);
/// assert_eq!(consumer.join().unwrap(), Some(42));
/// ```
pub struct Condition<T = ()> {
    state: Mutex<T>,
    cond: Condvar,
}

/// The lock of a [`Condition`], held; waits and notifications go through it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    cond: &'a Condvar,
}

impl<T> Condition<T> {
    /// A new condition guarding `value`.
    ///
    /// ```
    /// let c = corun::threading::Condition::new(0_u32);
    /// assert_eq!(*c.acquire(), 0);
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            state: Mutex::new(value),
            cond: Condvar::new(),
        }
    }

    /// Blocks until the lock is free, then takes it.
    ///
    /// ```
    /// let c = corun::threading::Condition::new(1);
    /// *c.acquire() += 1;
    /// assert_eq!(*c.acquire(), 2);
    /// ```
    pub fn acquire(&self) -> ConditionGuard<'_, T> {
        ConditionGuard {
            guard: self.state.lock(),
            cond: &self.cond,
        }
    }
}

impl<'a, T> ConditionGuard<'a, T> {
    /// Releases the lock, sleeps until notified, and takes the lock again
    /// (Python's `wait()`). Spurious wake-ups can happen: wait in a loop, or
    /// use [`wait_for`](Self::wait_for).
    ///
    /// ```
    /// use corun::threading::Condition;
    /// use std::sync::Arc;
    /// let c = Arc::new(Condition::new(false));
    /// let c2 = Arc::clone(&c);
    /// let t = std::thread::spawn(move || {
    ///     let mut g = c2.acquire();
    ///     *g = true;
    ///     g.notify_all();
    /// });
    /// let mut g = c.acquire();
    /// while !*g {
    ///     g.wait();
    /// }
    /// drop(g);
    /// t.join().unwrap();
    /// ```
    pub fn wait(&mut self) {
        self.cond.wait(&mut self.guard);
    }

    /// Like [`wait`](Self::wait) but for at most `timeout`; `false` when the
    /// time ran out (Python's `wait(timeout)` return value).
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = corun::threading::Condition::new(());
    /// let mut g = c.acquire();
    /// assert!(!g.wait_timeout(Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> bool {
        !self
            .cond
            .wait_until(&mut self.guard, deadline(Some(timeout)))
    }

    /// Waits until `predicate` holds for the guarded value (Python's
    /// `wait_for(predicate)`); returns at once if it already does.
    ///
    /// ```
    /// let c = corun::threading::Condition::new(3);
    /// let mut g = c.acquire();
    /// g.wait_for(|v| *v == 3); // already true: no wait
    /// ```
    pub fn wait_for(&mut self, mut predicate: impl FnMut(&T) -> bool) {
        while !predicate(&self.guard) {
            self.cond.wait(&mut self.guard);
        }
    }

    /// Waits until `predicate` holds or `timeout` passes; returns the
    /// predicate's last value, as Python's `wait_for(predicate, timeout)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = corun::threading::Condition::new(0);
    /// let mut g = c.acquire();
    /// assert!(!g.wait_for_timeout(|v| *v > 0, Duration::from_millis(2)));
    /// ```
    pub fn wait_for_timeout(
        &mut self,
        mut predicate: impl FnMut(&T) -> bool,
        timeout: Duration,
    ) -> bool {
        let deadline = deadline(Some(timeout));
        loop {
            if predicate(&self.guard) {
                return true;
            }
            if self.cond.wait_until(&mut self.guard, deadline) {
                return predicate(&self.guard);
            }
        }
    }

    /// Wakes up to `n` waiting threads (Python's `notify(n)`). They run once
    /// this guard is dropped.
    ///
    /// ```
    /// let c = corun::threading::Condition::new(());
    /// c.acquire().notify(1); // nobody waits: a no-op
    /// ```
    pub fn notify(&self, n: usize) {
        for _ in 0..n {
            if !self.cond.notify_one() {
                break;
            }
        }
    }

    /// Wakes every waiting thread (Python's `notify_all()`).
    ///
    /// ```
    /// let c = corun::threading::Condition::new(());
    /// c.acquire().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.cond.notify_all();
    }
}

impl<T> Deref for ConditionGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for ConditionGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for ConditionGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConditionGuard").field(&*self.guard).finish()
    }
}
