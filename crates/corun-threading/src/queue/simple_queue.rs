//! `SimpleQueue`: Python's `queue.SimpleQueue`, an unbounded FIFO with no
//! task accounting.

use std::fmt;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::error::GetError;
use corun_core::deadline::deadline;

/// An unbounded first-in, first-out queue without `task_done`, `join` or
/// `maxsize` (Python's `queue.SimpleQueue`).
///
/// It is a crossbeam channel holding both of its ends, so it is never
/// disconnected: `put` cannot fail, and `get` only reports
/// [`GetError::Empty`]. It is the fastest queue here; reach for
/// [`Queue`](super::Queue) when you need a bound, `join`, or `shutdown`.
///
/// # Examples
///
/// ```
/// use corun::queue::SimpleQueue;
/// use std::sync::Arc;
///
/// let q = Arc::new(SimpleQueue::new());
/// let q2 = Arc::clone(&q);
/// std::thread::spawn(move || q2.put("hello")).join().unwrap();
/// assert_eq!(q.get(), "hello");
/// assert!(q.is_empty());
/// ```
pub struct SimpleQueue<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
}

impl<T> SimpleQueue<T> {
    /// A new, empty queue.
    ///
    /// ```
    /// assert_eq!(corun::queue::SimpleQueue::<u8>::new().qsize(), 0);
    /// ```
    pub fn new() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Self { tx, rx }
    }

    /// Puts an item; never blocks, never fails.
    ///
    /// ```
    /// let q = corun::queue::SimpleQueue::new();
    /// q.put(1);
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn put(&self, item: T) {
        // Both ends live in `self`, so the channel cannot be disconnected.
        if self.tx.send(item).is_err() {
            unreachable!("a SimpleQueue owns its receiver");
        }
    }

    /// Takes an item, blocking while the queue is empty.
    ///
    /// ```
    /// let q = corun::queue::SimpleQueue::new();
    /// q.put(2);
    /// assert_eq!(q.get(), 2);
    /// ```
    pub fn get(&self) -> T {
        match self.rx.recv() {
            Ok(item) => item,
            Err(_) => unreachable!("a SimpleQueue owns its sender"),
        }
    }

    /// Takes an item if one is there now.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`].
    ///
    /// ```
    /// use corun::queue::{GetError, SimpleQueue};
    /// assert_eq!(SimpleQueue::<u8>::new().try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.rx.try_recv().map_err(|e| match e {
            TryRecvError::Empty | TryRecvError::Disconnected => GetError::Empty,
        })
    }

    /// Takes an item, waiting at most `timeout`; `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] when nothing came in time.
    ///
    /// ```
    /// use corun::queue::{GetError, SimpleQueue};
    /// use std::time::Duration;
    /// let q = SimpleQueue::<u8>::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        let Some(deadline) = deadline(Some(timeout)) else {
            return Ok(self.get());
        };
        self.rx.recv_deadline(deadline).map_err(|e| match e {
            RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected => GetError::Empty,
        })
    }

    /// The number of items now; a snapshot.
    ///
    /// ```
    /// assert_eq!(corun::queue::SimpleQueue::<u8>::new().qsize(), 0);
    /// ```
    pub fn qsize(&self) -> usize {
        self.rx.len()
    }

    /// Whether the queue is empty now.
    ///
    /// ```
    /// assert!(corun::queue::SimpleQueue::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.qsize())
            .finish()
    }
}
