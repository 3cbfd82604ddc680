//! `Queue`: Python's `queue.Queue`, first in, first out.

use std::fmt;

use super::core::{Core, Wait, queue_methods};
use super::error::{GetError, PutError};
use super::storage::Fifo;
use crate::error::Error;

/// A first-in, first-out queue for passing items between threads (Python's
/// `queue.Queue`), optionally bounded, with `task_done` / `join` accounting
/// and Python 3.13's `shutdown`.
///
/// Share it with an `Arc`. Every blocking method has a `try_` (never blocks)
/// and a `_timeout` variant; a put that fails hands the item back.
///
/// # Examples
///
/// ```
/// use corun::queue::Queue;
/// use std::sync::Arc;
///
/// let q = Arc::new(Queue::with_maxsize(2));
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || {
///         for i in 0..5 {
///             q.put(i).unwrap(); // blocks while two items wait
///         }
///         q.shutdown(false);
///     })
/// };
/// let mut got = Vec::new();
/// while let Ok(item) = q.get() {
///     got.push(item);
///     q.task_done().unwrap();
/// }
/// producer.join().unwrap();
/// assert_eq!(got, [0, 1, 2, 3, 4]);
/// ```
pub struct Queue<T> {
    core: Core<T, Fifo<T>>,
}

impl<T> Queue<T> {
    /// A queue holding at most `maxsize` items; 0 means unbounded
    /// (Python's `Queue(maxsize)`).
    ///
    /// ```
    /// let q = corun::queue::Queue::<u8>::with_maxsize(3);
    /// assert_eq!(q.maxsize(), 3);
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Self {
        Self {
            core: Core::new(maxsize, Fifo::new()),
        }
    }

    queue_methods!(Queue);
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}
