//! Errors of the queues; a failed put hands the item back.

use std::fmt;

/// Why a `put` failed; carries the item back to the caller.
///
/// # Examples
///
/// ```
/// use corun::queue::{PutError, Queue};
///
/// let q = Queue::with_maxsize(1);
/// q.put(1).unwrap();
/// match q.try_put(2) {
///     Err(PutError::Full(item)) => assert_eq!(item, 2),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum PutError<T> {
    /// The queue stayed full (at once for `try_put`, until the time-out for
    /// `put_timeout`). Python: `queue.Full`.
    Full(T),
    /// The queue was shut down. Python: `queue.ShutDown`.
    ShutDown(T),
}

/// Why a `get` failed.
///
/// # Examples
///
/// ```
/// use corun::queue::{GetError, Queue};
///
/// let q: Queue<i32> = Queue::new();
/// assert_eq!(q.try_get(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get(), Err(GetError::ShutDown));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum GetError {
    /// The queue stayed empty (at once for `try_get`, until the time-out for
    /// `get_timeout`). Python: `queue.Empty`.
    Empty,
    /// The queue was shut down and has nothing left. Python: `queue.ShutDown`.
    ShutDown,
}

impl<T> PutError<T> {
    /// The item that could not be put.
    ///
    /// ```
    /// let e = corun::queue::PutError::Full("x");
    /// assert_eq!(e.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Self::ShutDown(_))
    }
}

impl GetError {
    /// Whether the queue was empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// Whether the queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Self::ShutDown)
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("queue is full"),
            Self::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("queue is empty"),
            Self::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}
impl std::error::Error for GetError {}
