//! `Lock`: Python's `threading.Lock`, as a mutex that owns what it guards.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// A mutual-exclusion lock (Python's `threading.Lock`).
///
/// Unlike Python's lock, a `Lock` owns the data it protects (`Lock<()>` is the
/// plain Python lock) and `acquire` returns a guard that releases on drop, so
/// a lock can neither be forgotten nor released by a thread that does not hold
/// it. It is not reentrant: acquiring it twice in one thread deadlocks, as in
/// Python; use [`RLock`](super::RLock) for that.
///
/// The lock is a thin layer over `parking_lot::Mutex` (small, fair under
/// contention, no poisoning: a panic while holding the guard simply releases
/// it); every method is `#[inline]` so the layer costs nothing.
///
/// # Examples
///
/// ```
/// use corun::threading::Lock;
/// use std::sync::Arc;
///
/// let balance = Arc::new(Lock::new(100_i64));
/// let t = {
///     let balance = Arc::clone(&balance);
///     std::thread::spawn(move || *balance.acquire() += 10)
/// };
/// *balance.acquire() -= 10;
/// t.join().unwrap();
/// assert_eq!(*balance.acquire(), 100);
/// ```
pub struct Lock<T: ?Sized = ()> {
    inner: parking_lot::Mutex<T>,
}

/// Holds a [`Lock`]; the lock is released when this is dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    inner: parking_lot::MutexGuard<'a, T>,
}

impl<T> Lock<T> {
    /// A new, unlocked lock guarding `value`.
    ///
    /// ```
    /// let lock = corun::threading::Lock::new(());
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub const fn new(value: T) -> Self {
        Self {
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// Consumes the lock and returns the guarded value.
    ///
    /// ```
    /// let lock = corun::threading::Lock::new(7);
    /// assert_eq!(lock.into_inner(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Blocks until the lock is free, then takes it (Python's `acquire()`).
    ///
    /// ```
    /// let lock = corun::threading::Lock::new(1);
    /// let guard = lock.acquire();
    /// assert_eq!(*guard, 1);
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn acquire(&self) -> LockGuard<'_, T> {
        LockGuard {
            inner: self.inner.lock(),
        }
    }

    /// Takes the lock if it is free, without blocking
    /// (Python's `acquire(blocking=False)`).
    ///
    /// ```
    /// let lock = corun::threading::Lock::new(());
    /// let held = lock.acquire();
    /// assert!(lock.try_acquire().is_none());
    /// drop(held);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        self.inner.try_lock().map(|inner| LockGuard { inner })
    }

    /// Waits at most `timeout` for the lock (Python's `acquire(timeout=…)`).
    /// `None` means it timed out. A zero timeout is a single try and
    /// `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = corun::threading::Lock::new(());
    /// let held = lock.acquire();
    /// assert!(lock.acquire_timeout(Duration::from_millis(5)).is_none());
    /// drop(held);
    /// assert!(lock.acquire_timeout(Duration::from_millis(5)).is_some());
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, T>> {
        self.inner
            .try_lock_for(timeout)
            .map(|inner| LockGuard { inner })
    }

    /// Whether some thread holds the lock right now (Python's `locked()`);
    /// only a snapshot.
    ///
    /// ```
    /// let lock = corun::threading::Lock::new(());
    /// let _g = lock.acquire();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// The guarded value, through exclusive access (no locking needed).
    ///
    /// ```
    /// let mut lock = corun::threading::Lock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.acquire(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LockGuard").field(&&*self.inner).finish()
    }
}
