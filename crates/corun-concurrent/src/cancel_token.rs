//! `CancelToken`: cooperative cancellation for work that is already running.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use corun_threading::threading::Event;

use crate::error::Error;

/// A flag a long-running task polls to stop early.
///
/// Threads cannot be killed — not in Python, not in Rust — so
/// [`Task::cancel`](crate::Task::cancel) only stops a task that has not
/// started. Work that is already running stops when it notices its token was
/// cancelled. For work that must be stoppable by force, run it in a process
/// pool, whose per-task deadline kills the worker.
///
/// Clones share one flag.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{CancelToken, ThreadPoolExecutor};
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::new();
/// let token = CancelToken::new();
/// let theirs = token.clone();
/// let task = pool.spawn(move || {
///     let mut rounds = 0;
///     while !theirs.wait_timeout(Duration::from_millis(1)) {
///         rounds += 1; // a slice of work
///     }
///     rounds
/// }).unwrap();
/// token.cancel();
/// assert!(task.result().is_ok()); // it stopped by itself
/// ```
#[derive(Clone, Default)]
pub struct CancelToken {
    flag: Arc<Event>,
}

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the work to stop; every clone sees it.
    pub fn cancel(&self) {
        self.flag.set();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.is_set()
    }

    /// `Err(cancelled)` once cancelled: `token.check()?` in a loop.
    ///
    /// # Errors
    ///
    /// [`Error::is_cancelled`] after [`cancel`](Self::cancel).
    ///
    /// ```
    /// let token = corun::concurrent::CancelToken::new();
    /// assert!(token.check().is_ok());
    /// token.cancel();
    /// assert!(token.check().unwrap_err().is_cancelled());
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        if self.is_cancelled() {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }

    /// Sleeps up to `timeout`, waking early on cancellation; returns whether
    /// the token is cancelled. A cancellable `sleep`.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.flag.wait_timeout(timeout)
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
