//! `GenericQueue`: the one public type behind `Queue`, `LifoQueue` and
//! `PriorityQueue`, generic over the order its storage keeps items in, as
//! Python's `LifoQueue` and `PriorityQueue` subclass `Queue` and override
//! only its storage hooks.

use std::fmt;
use std::time::Duration;

use super::core::{Core, Wait};
use super::error::{GetError, PutError};
use super::storage::Storage;
use crate::error::Error;
use corun_core::deadline::deadline;

/// A queue for passing items between threads whose storage `S` decides the
/// order items come out in: the type behind [`Queue`](super::Queue) (first
/// in, first out), [`LifoQueue`](super::LifoQueue) (last in, first out) and
/// [`PriorityQueue`](super::PriorityQueue) (smallest first). Optionally
/// bounded, with `task_done` / `join` accounting and Python 3.13's
/// `shutdown`.
///
/// Name a queue by one of those aliases; write `GenericQueue` with a
/// [`Storage`] bound for code that works with every order. Its methods,
/// documented here once, are the same for all three.
///
/// Share it with an `Arc`. Every blocking method has a `try_` (never blocks)
/// and a `_timeout` variant; a put that fails hands the item back.
///
/// # Examples
///
/// ```
/// use corun::queue::storage::Storage;
/// use corun::queue::{GenericQueue, LifoQueue, PriorityQueue, Queue};
///
/// /// Takes the items there are now, in the order the queue hands them out.
/// fn drain<T, S: Storage<T>>(q: &GenericQueue<T, S>) -> Vec<T> {
///     std::iter::from_fn(|| q.try_get().ok()).collect()
/// }
///
/// let (fifo, lifo, priority) = (Queue::new(), LifoQueue::new(), PriorityQueue::new());
/// for i in [2, 3, 1] {
///     fifo.put(i).unwrap();
///     lifo.put(i).unwrap();
///     priority.put(i).unwrap();
/// }
/// assert_eq!(drain(&fifo), [2, 3, 1]);
/// assert_eq!(drain(&lifo), [1, 3, 2]);
/// assert_eq!(drain(&priority), [1, 2, 3]);
/// ```
pub struct GenericQueue<T, S> {
    core: Core<T, S>,
}

impl<T, S: Storage<T>> GenericQueue<T, S> {
    /// A queue holding at most `maxsize` items; 0 means unbounded (Python's
    /// `Queue(maxsize)`, `LifoQueue(maxsize)`, `PriorityQueue(maxsize)`).
    ///
    /// ```
    /// use corun::queue::{LifoQueue, PriorityQueue, Queue};
    ///
    /// assert_eq!(Queue::<u8>::with_maxsize(3).maxsize(), 3);
    /// assert_eq!(LifoQueue::<u8>::with_maxsize(3).maxsize(), 3);
    /// assert_eq!(PriorityQueue::<u8>::with_maxsize(3).maxsize(), 3);
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Self {
        Self {
            core: Core::new(maxsize, S::new()),
        }
    }

    /// A new unbounded queue (Python's `maxsize=0`).
    ///
    /// ```
    /// use corun::queue::{LifoQueue, PriorityQueue, Queue};
    ///
    /// assert_eq!(Queue::<u8>::new().maxsize(), 0);
    /// assert_eq!(LifoQueue::<u8>::new().maxsize(), 0);
    /// assert_eq!(PriorityQueue::<u8>::new().maxsize(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_maxsize(0)
    }

    /// Puts an item, blocking while the queue is full (Python's `put`).
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item once the queue is shut down;
    /// a blocked caller wakes up with it.
    ///
    /// ```
    /// let q = corun::queue::Queue::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::forever())
    }

    /// Puts an item if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
    ///
    /// ```
    /// let q = corun::queue::Queue::with_maxsize(1);
    /// q.try_put(1).unwrap();
    /// assert!(q.try_put(2).unwrap_err().is_full());
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::No)
    }

    /// Puts an item, waiting at most `timeout` for room
    /// (Python's `put(item, timeout=…)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] when no room came in time, or
    /// [`PutError::ShutDown`]; both hand the item back.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = corun::queue::Queue::with_maxsize(1);
    /// q.put_timeout(1, Duration::from_millis(1)).unwrap();
    /// let err = q.put_timeout(2, Duration::from_millis(1)).unwrap_err();
    /// assert_eq!(err.into_inner(), 2);
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.core.put(item, Wait::timeout(timeout))
    }

    /// Takes an item, blocking while the queue is empty (Python's `get`).
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and has no
    /// items left (at once after an immediate shutdown).
    ///
    /// ```
    /// let q = corun::queue::Queue::new();
    /// q.put(5).unwrap();
    /// assert_eq!(q.get(), Ok(5));
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get(Wait::forever())
    }

    /// Takes an item if one is there now (Python's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] or [`GetError::ShutDown`].
    ///
    /// ```
    /// use corun::queue::GetError;
    /// let q = corun::queue::Queue::<u8>::new();
    /// assert_eq!(q.try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.core.get(Wait::No)
    }

    /// Takes an item, waiting at most `timeout` (Python's
    /// `get(timeout=…)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when nothing came in time, or
    /// [`GetError::ShutDown`].
    ///
    /// ```
    /// use corun::queue::GetError;
    /// use std::time::Duration;
    /// let q = corun::queue::Queue::<u8>::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.core.get(Wait::timeout(timeout))
    }

    /// Marks one item taken with `get` as processed (Python's
    /// `task_done`); [`join`](Self::join) returns when every put item is.
    ///
    /// # Errors
    ///
    /// [`Error::is_task_done_too_many`] when called more times than items
    /// were put (Python: `ValueError`); the count is left unchanged.
    ///
    /// ```
    /// let q = corun::queue::Queue::new();
    /// q.put(1).unwrap();
    /// q.get().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.task_done().unwrap_err().is_task_done_too_many());
    /// ```
    pub fn task_done(&self) -> Result<(), Error> {
        self.core.task_done()
    }

    /// Blocks until every item put has been marked done with
    /// [`task_done`](Self::task_done) (Python's `join`). An immediate
    /// shutdown counts the items it drops as done.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let q = Arc::new(corun::queue::Queue::new());
    /// for i in 0..3 { q.put(i).unwrap(); }
    /// let worker = {
    ///     let q = Arc::clone(&q);
    ///     std::thread::spawn(move || while let Ok(_) = q.get() { q.task_done().unwrap(); })
    /// };
    /// q.join();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// q.shutdown(false);
    /// worker.join().unwrap();
    /// ```
    pub fn join(&self) {
        self.core.join_until(None);
    }

    /// [`join`](Self::join) for at most `timeout`; returns whether every
    /// item was done in time (Python has no such method).
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = corun::queue::Queue::new();
    /// q.put(1).unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(1)));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.core.join_until(deadline(Some(timeout)))
    }

    /// Shuts the queue down (Python 3.13's `shutdown`). Afterwards `put`
    /// fails, handing its item back, and `get` drains what is left and
    /// then fails. With `immediate`, the remaining items are dropped at
    /// once, counted as done (which releases `join`), and `get` fails
    /// right away. Every blocked caller wakes up.
    ///
    /// ```
    /// use corun::queue::GetError;
    /// let q = corun::queue::Queue::new();
    /// q.put(1).unwrap();
    /// q.shutdown(false);
    /// assert!(q.put(2).unwrap_err().is_shutdown());
    /// assert_eq!(q.get(), Ok(1));
    /// assert_eq!(q.get(), Err(GetError::ShutDown));
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        self.core.shutdown(immediate);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    ///
    /// ```
    /// let q = corun::queue::Queue::<u8>::new();
    /// q.shutdown(true);
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.core.is_shutdown()
    }

    /// The number of items in the queue now (a snapshot, as in Python).
    ///
    /// ```
    /// let q = corun::queue::Queue::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue is empty now (Python's `empty()`).
    ///
    /// ```
    /// assert!(corun::queue::Queue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.core.qsize() == 0
    }

    /// Whether the queue is full now (Python's `full()`); never for an
    /// unbounded queue.
    ///
    /// ```
    /// let q = corun::queue::Queue::with_maxsize(1);
    /// q.put(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.core.is_full()
    }

    /// The bound given at construction; 0 means unbounded.
    ///
    /// ```
    /// assert_eq!(corun::queue::Queue::<u8>::with_maxsize(8).maxsize(), 8);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.core.maxsize()
    }

    /// Items put and not yet marked done (Python's `unfinished_tasks`).
    ///
    /// ```
    /// let q = corun::queue::Queue::new();
    /// q.put('a').unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.core.unfinished_tasks()
    }
}

impl<T, S: Storage<T>> Default for GenericQueue<T, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, S: Storage<T>> fmt::Debug for GenericQueue<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}
