//! `LifoQueue`: Python's `queue.LifoQueue`, last in, first out (a stack).

use std::fmt;

use super::core::{Core, Wait, queue_methods};
use super::error::{GetError, PutError};
use super::storage::Lifo;
use crate::error::Error;

/// A last-in, first-out queue (Python's `queue.LifoQueue`): the same
/// methods and guarantees as [`Queue`](super::Queue), but `get` returns the
/// most recently put item.
///
/// # Examples
///
/// ```
/// use corun::queue::LifoQueue;
///
/// let q = LifoQueue::new();
/// for i in 0..3 {
///     q.put(i).unwrap();
/// }
/// assert_eq!([q.get(), q.get(), q.get()], [Ok(2), Ok(1), Ok(0)]);
/// ```
pub struct LifoQueue<T> {
    core: Core<T, Lifo<T>>,
}

impl<T> LifoQueue<T> {
    /// A LIFO queue holding at most `maxsize` items; 0 means unbounded.
    ///
    /// ```
    /// let q = corun::queue::LifoQueue::<u8>::with_maxsize(3);
    /// assert_eq!(q.maxsize(), 3);
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Self {
        Self {
            core: Core::new(maxsize, Lifo::new()),
        }
    }

    queue_methods!(LifoQueue);
}

impl<T> Default for LifoQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for LifoQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}
