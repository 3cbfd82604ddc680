//! [`JoinableQueue`]: Python's `multiprocessing.JoinableQueue`, a
//! [`Queue`](super::Queue) with `task_done` and `join` across processes.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::generic_queue::GenericQueue;
use super::kind::Joinable;
use corun_core::Error;
use corun_core::deadline::deadline;

/// A [`Queue`](super::Queue) that counts unfinished items across processes
/// (Python's `multiprocessing.JoinableQueue`): every put adds one,
/// [`task_done`](Self::task_done) takes one away, and
/// [`join`](Self::join) waits, in any process, until none is left.
///
/// Everything [`Queue`](super::Queue) says holds here too; the count is
/// part of the same shared state, so a process killed in the middle of a
/// put or `task_done` leaves it exact. The methods are documented on
/// [`GenericQueue`], the type behind both queues; the ones only this
/// queue has are in its `impl` for [`Joinable`].
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{JoinableQueue, Process};
///
/// fn work((tasks, results): (JoinableQueue<u64>, JoinableQueue<u64>)) {
///     while let Ok(n) = tasks.get() {
///         results.put(n * 10).unwrap();
///         tasks.task_done().unwrap();
///     }
/// }
///
/// corun::multiprocessing::init();
/// let tasks = JoinableQueue::new().unwrap();
/// let results = JoinableQueue::new().unwrap();
/// let worker = Process::start(work, (tasks.clone(), results.clone())).unwrap();
/// for n in 1..=3 {
///     tasks.put(n).unwrap();
/// }
/// tasks.join(); // every task done, in the worker
/// assert_eq!(results.qsize(), 3);
/// tasks.shutdown(false);
/// worker.join().unwrap();
/// ```
pub type JoinableQueue<T> = GenericQueue<T, Joinable>;

impl<T: Serialize + DeserializeOwned> GenericQueue<T, Joinable> {
    /// Marks one item taken with `get` as processed (Python's
    /// `task_done`), in whichever process took it; [`join`](Self::join)
    /// returns when every item put is.
    ///
    /// # Errors
    ///
    /// An error of kind [`TaskDoneTooMany`](crate::ErrorKind::TaskDoneTooMany)
    /// ([`Error::is_task_done_too_many`]) when called more times than items were put
    /// (Python: `ValueError`); the count is left unchanged.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::JoinableQueue::new()?;
    ///     q.put(1).unwrap();
    ///     q.get().unwrap();
    ///     assert_eq!(q.unfinished_tasks(), 1);
    ///     q.task_done().unwrap();
    ///     assert!(q.task_done().is_err());
    ///     Ok(())
    /// }
    /// ```
    pub fn task_done(&self) -> Result<(), Error> {
        self.core.task_done()
    }

    /// Waits until every item put, by any process, has been marked done
    /// with [`task_done`](Self::task_done) (Python's `join`). An immediate
    /// [`shutdown`](Self::shutdown) counts the items it drops as done.
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::JoinableQueue::new()?;
    ///     q.put(1).unwrap();
    ///     q.put(2).unwrap();
    ///     q.get().unwrap();
    ///     q.task_done().unwrap();
    ///     q.shutdown(true); // drops 2, counted as done
    ///     q.join(); // nothing is left unfinished: returns at once
    ///     assert_eq!(q.unfinished_tasks(), 0);
    ///     Ok(())
    /// }
    /// ```
    pub fn join(&self) {
        self.core.join_until(None);
    }

    /// [`join`](Self::join) for at most `timeout`; returns whether every
    /// item was done in time (Python has no such method).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::JoinableQueue::new()?;
    ///     q.put(1).unwrap();
    ///     assert!(!q.join_timeout(Duration::from_millis(1)));
    ///     q.get().unwrap();
    ///     q.task_done().unwrap();
    ///     assert!(q.join_timeout(Duration::from_millis(1)));
    ///     Ok(())
    /// }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.core.join_until(deadline(Some(timeout)))
    }

    /// Items put and not yet marked done (Python's `_unfinished_tasks`).
    ///
    /// ```
    /// fn main() -> Result<(), corun::Error> {
    ///     corun::multiprocessing::init();
    ///     let q = corun::multiprocessing::JoinableQueue::new()?;
    ///     q.put('a').unwrap();
    ///     q.put('b').unwrap();
    ///     q.get().unwrap(); // taken, not yet done
    ///     assert_eq!(q.unfinished_tasks(), 2);
    ///     q.task_done().unwrap();
    ///     assert_eq!(q.unfinished_tasks(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.core.unfinished_tasks()
    }
}
