//! The one place the blocking cores get their mutex and condition variable.
//!
//! Under `--cfg corun_loom` these are loom's model-checked mocks, so the
//! barrier, semaphore, event and queue accounting can be checked exhaustively;
//! otherwise they are parking_lot's (non-poisoning, small, with deadline waits).
//! The shim presents one shape for both: guards are passed by `&mut` and a
//! timed wait takes an optional deadline, `None` meaning "forever" — which is
//! how a `Duration::MAX` timeout is expressed without overflowing an `Instant`.
//!
//! Loom does not model time: a timed wait there behaves as an untimed one, so
//! models only exercise paths where someone eventually notifies. Timeouts are
//! covered by the ordinary tests.

use std::time::Instant;

#[cfg(corun_loom)]
pub(crate) use loom::sync::atomic;
#[cfg(not(corun_loom))]
pub(crate) use std::sync::atomic;

/// A mutex whose guard can be handed to [`Condvar`] by `&mut`.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(corun_loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(corun_loom)]
    inner: loom::sync::Mutex<T>,
}

/// Guard of a [`Mutex`].
#[cfg(not(corun_loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

/// Guard of a [`Mutex`]; loom's guard is by value, so it is kept in an
/// `Option` that is empty only while a wait holds it.
#[cfg(corun_loom)]
#[derive(Debug)]
pub(crate) struct MutexGuard<'a, T> {
    inner: Option<loom::sync::MutexGuard<'a, T>>,
}

#[cfg(corun_loom)]
impl<T> std::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("guard is held")
    }
}

#[cfg(corun_loom)]
impl<T> std::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("guard is held")
    }
}

impl<T> Mutex<T> {
    #[inline]
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(corun_loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(corun_loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(corun_loom))]
        {
            self.inner.lock()
        }
        #[cfg(corun_loom)]
        {
            MutexGuard {
                inner: Some(self.inner.lock().unwrap_or_else(|e| e.into_inner())),
            }
        }
    }
}

/// A condition variable paired with [`Mutex`].
#[derive(Debug, Default)]
pub(crate) struct Condvar {
    #[cfg(not(corun_loom))]
    inner: parking_lot::Condvar,
    #[cfg(corun_loom)]
    inner: loom::sync::Condvar,
}

impl Condvar {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Blocks until notified (spurious wake-ups possible).
    #[inline]
    pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        #[cfg(not(corun_loom))]
        {
            self.inner.wait(guard);
        }
        #[cfg(corun_loom)]
        {
            let g = guard.inner.take().expect("guard is held");
            guard.inner = Some(self.inner.wait(g).unwrap_or_else(|e| e.into_inner()));
        }
    }

    /// Blocks until notified or until `deadline` passes (never, for `None`).
    /// Returns `true` if the deadline has passed.
    #[inline]
    pub(crate) fn wait_until<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> bool {
        match deadline {
            None => {
                self.wait(guard);
                false
            }
            #[cfg(not(corun_loom))]
            Some(deadline) => self.inner.wait_until(guard, deadline).timed_out(),
            #[cfg(corun_loom)]
            Some(_) => {
                self.wait(guard);
                false
            }
        }
    }

    /// Wakes one waiter; returns whether one was woken (always `true` under loom).
    #[inline]
    pub(crate) fn notify_one(&self) -> bool {
        #[cfg(not(corun_loom))]
        {
            self.inner.notify_one()
        }
        #[cfg(corun_loom)]
        {
            self.inner.notify_one();
            true
        }
    }

    #[inline]
    pub(crate) fn notify_all(&self) {
        #[cfg(not(corun_loom))]
        {
            self.inner.notify_all();
        }
        #[cfg(corun_loom)]
        {
            self.inner.notify_all();
        }
    }
}
