//! `RLock`: Python's `threading.RLock`, a lock its owner may take again.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

/// A reentrant lock (Python's `threading.RLock`).
///
/// The thread that holds it may acquire it again without blocking; it is
/// released when the last of that thread's guards is dropped. Because several
/// guards of one thread can be alive at once, a guard gives shared (`&T`)
/// access only; put a `Cell` or `RefCell` inside for mutation. Built on
/// `parking_lot::ReentrantMutex`.
///
/// Python lets only the owner release an `RLock` (others get `RuntimeError`);
/// here that rule is enforced by the type system, since only the owner holds
/// a guard.
///
/// # Examples
///
/// ```
/// use corun::threading::RLock;
/// use std::cell::Cell;
///
/// let lock = RLock::new(Cell::new(0));
/// let outer = lock.acquire();
/// let inner = lock.acquire(); // the owner may take it again
/// inner.set(inner.get() + 1);
/// drop(inner);
/// assert!(lock.locked()); // still held by `outer`
/// drop(outer);
/// assert!(!lock.locked());
/// ```
pub struct RLock<T: ?Sized = ()> {
    inner: parking_lot::ReentrantMutex<T>,
}

/// Holds an [`RLock`] once; the lock is free when every guard is dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a, T: ?Sized> {
    inner: parking_lot::ReentrantMutexGuard<'a, T>,
}

impl<T> RLock<T> {
    /// A new, unlocked reentrant lock guarding `value`.
    ///
    /// ```
    /// let lock = corun::threading::RLock::new(());
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub const fn new(value: T) -> Self {
        Self {
            inner: parking_lot::ReentrantMutex::new(value),
        }
    }

    /// Consumes the lock and returns the guarded value.
    ///
    /// ```
    /// assert_eq!(corun::threading::RLock::new(3).into_inner(), 3);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RLock<T> {
    /// Blocks until the lock is free or already held by this thread.
    ///
    /// ```
    /// let lock = corun::threading::RLock::new(5);
    /// let a = lock.acquire();
    /// let b = lock.acquire();
    /// assert_eq!(*a + *b, 10);
    /// ```
    #[inline]
    pub fn acquire(&self) -> RLockGuard<'_, T> {
        RLockGuard {
            inner: self.inner.lock(),
        }
    }

    /// Takes the lock without blocking; succeeds when it is free or held by
    /// this thread.
    ///
    /// ```
    /// let lock = corun::threading::RLock::new(());
    /// let _a = lock.acquire();
    /// assert!(lock.try_acquire().is_some()); // reentrant
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<RLockGuard<'_, T>> {
        self.inner.try_lock().map(|inner| RLockGuard { inner })
    }

    /// Waits at most `timeout` for the lock; `None` means it timed out.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = corun::threading::RLock::new(());
    /// assert!(lock.acquire_timeout(Duration::ZERO).is_some());
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_, T>> {
        self.inner
            .try_lock_for(timeout)
            .map(|inner| RLockGuard { inner })
    }

    /// Whether any thread holds the lock right now.
    ///
    /// ```
    /// let lock = corun::threading::RLock::new(());
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the calling thread holds the lock (Python's `_is_owned()`).
    ///
    /// ```
    /// let lock = corun::threading::RLock::new(());
    /// let _g = lock.acquire();
    /// assert!(lock.is_owned());
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.inner.is_owned_by_current_thread()
    }
}

impl<T: ?Sized> Deref for RLockGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: Default> Default for RLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RLockGuard").field(&&*self.inner).finish()
    }
}
