//! What an acquire of a process-shared lock can report besides success.

use std::fmt;

use crate::synchronize::robust_mutex::{Locked, RobustGuard};

/// The lock was acquired, but the process that held it before died holding
/// it: the data it guards may be half-updated. Like std's `PoisonError`,
/// it carries the guard, so the caller can repair the data and go on.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::{Lock, OwnerDied};
///
/// fn main() -> Result<(), corun::Error> {
///     corun::multiprocessing::init();
///     let lock = Lock::new()?;
///     // No holder died here; a guard that did would come back through
///     // `unwrap_or_else(OwnerDied::into_guard)` just the same.
///     let guard = lock.acquire().unwrap_or_else(OwnerDied::into_guard);
///     drop(guard);
///     Ok(())
/// }
/// ```
pub struct OwnerDied<G> {
    guard: G,
    pid: u32,
}

impl<G> OwnerDied<G> {
    pub(crate) fn new(guard: G, pid: u32) -> Self {
        Self { guard, pid }
    }

    /// The same report, carrying `f(guard)`: for the types that wrap a
    /// lock's guard in their own.
    pub(crate) fn map<H>(self, f: impl FnOnce(G) -> H) -> OwnerDied<H> {
        OwnerDied::new(f(self.guard), self.pid)
    }

    /// `guard`, as the acquirer gets it: `Ok` when the lock was free or
    /// released normally, `OwnerDied` when its holder died holding it.
    pub(crate) fn check(guard: G, locked: Locked) -> Result<G, Self> {
        match locked {
            Locked::Clean => Ok(guard),
            Locked::OwnerDied(pid) => Err(Self::new(guard, pid)),
        }
    }

    /// The process id of the holder that died (0 if unknown).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The guard: the lock is held, and consistent again for the next
    /// acquirer.
    pub fn into_guard(self) -> G {
        self.guard
    }

    /// The guard, borrowed.
    pub fn get_ref(&self) -> &G {
        &self.guard
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the process that held the lock (pid {}) died holding it; \
             the data it guards may be inconsistent",
            self.pid
        )
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

/// Why a timed or non-blocking acquire did not simply succeed.
pub enum AcquireError<G> {
    /// Acquired, from a holder that died (see [`OwnerDied`]).
    OwnerDied(OwnerDied<G>),
    /// Not acquired: still held when the time-out passed (at once for
    /// `try_acquire`).
    Timeout,
}

impl<G> AcquireError<G> {
    /// The outcome of a non-blocking or timed attempt on a robust mutex
    /// (`None`: still held), with the mutex's guard made into the handle's
    /// own by `wrap`.
    pub(crate) fn attempt<'a>(
        taken: Option<(RobustGuard<'a>, Locked)>,
        wrap: impl FnOnce(RobustGuard<'a>, Locked) -> Result<G, OwnerDied<G>>,
    ) -> Result<G, Self> {
        match taken {
            Some((guard, locked)) => wrap(guard, locked).map_err(Self::OwnerDied),
            None => Err(Self::Timeout),
        }
    }

    /// Whether the lock stayed held.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }

    /// The same outcome, with `f(guard)` for the guard: for the types that
    /// wrap a lock's guard in their own.
    pub(crate) fn map<H>(self, f: impl FnOnce(G) -> H) -> AcquireError<H> {
        match self {
            Self::OwnerDied(died) => AcquireError::OwnerDied(died.map(f)),
            Self::Timeout => AcquireError::Timeout,
        }
    }

    /// The guard, if the lock was acquired from a dead holder.
    pub fn into_guard(self) -> Option<G> {
        match self {
            Self::OwnerDied(died) => Some(died.into_guard()),
            Self::Timeout => None,
        }
    }
}

impl<G> From<OwnerDied<G>> for AcquireError<G> {
    fn from(died: OwnerDied<G>) -> Self {
        Self::OwnerDied(died)
    }
}

impl<G> fmt::Debug for AcquireError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OwnerDied(died) => f.debug_tuple("OwnerDied").field(died).finish(),
            Self::Timeout => f.write_str("Timeout"),
        }
    }
}

impl<G> fmt::Display for AcquireError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OwnerDied(died) => died.fmt(f),
            Self::Timeout => f.write_str("timed out waiting for the lock"),
        }
    }
}

impl<G> std::error::Error for AcquireError<G> {}
