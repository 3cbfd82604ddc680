//! Errors of the cross-process queues; a failed put hands the item back.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a `put` failed; carries the item back to the caller, so nothing is
/// lost (Python's `multiprocessing.Queue` drops an item that cannot be
/// pickled, in its feeder thread, and returns as if all went well).
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Queue;
/// use corun::multiprocessing::queue::PutError;
///
/// fn main() -> std::io::Result<()> {
///     corun::multiprocessing::init(); // the cleanup tracker is a re-run of this program
///     let q = Queue::with_maxsize(1)?;
///     q.put(1).unwrap();
///     match q.try_put(2) {
///         Err(PutError::Full(item)) => assert_eq!(item, 2),
///         other => panic!("unexpected {other:?}"),
///     }
///     Ok(())
/// }
/// ```
#[derive(PartialEq, Eq, Clone)]
pub enum PutError<T> {
    /// The queue stayed full — `maxsize` items in it — at once for
    /// `try_put`, until the time-out for `put_timeout`. Python:
    /// `queue.Full`.
    Full(T),
    /// The queue was shut down. Python: `queue.ShutDown`.
    ShutDown(T),
    /// The item could not be serialised; nothing was put.
    Serialization {
        /// The item.
        item: T,
        /// What the serialiser said.
        reason: String,
    },
    /// The queue's ring had no room for the item and could not grow for
    /// it: the system's shared memory (`/dev/shm`) is full. Nothing was
    /// put. (An unbounded queue takes items of any size otherwise.)
    TooLarge {
        /// The item.
        item: T,
        /// Its size, serialised, in bytes.
        size: usize,
        /// Why the ring could not grow, as the system said.
        reason: String,
    },
}

/// Why a `get` failed. It can cross to another process (serde), as a
/// worker's result for instance.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::Queue;
/// use corun::multiprocessing::queue::GetError;
///
/// fn main() -> std::io::Result<()> {
///     corun::multiprocessing::init();
///     let q: Queue<i32> = Queue::new()?;
///     assert_eq!(q.try_get(), Err(GetError::Empty));
///     q.shutdown(false);
///     assert_eq!(q.get(), Err(GetError::ShutDown));
///     Ok(())
/// }
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Serialize, Deserialize)]
pub enum GetError {
    /// The queue stayed empty (at once for `try_get`, until the time-out for
    /// `get_timeout`). Python: `queue.Empty`.
    Empty,
    /// The queue was shut down and has nothing left. Python: `queue.ShutDown`.
    ShutDown,
    /// The next item did not deserialise as the queue's item type. It was
    /// taken off the queue (and counted as done in a `JoinableQueue`), so
    /// the next `get` goes on with the item after it.
    Serialization(String),
}

/// `task_done` was called more times than items were put: Python's
/// `ValueError('task_done() called too many times')`.
///
/// # Examples
///
/// ```
/// use corun::multiprocessing::JoinableQueue;
///
/// fn main() -> std::io::Result<()> {
///     corun::multiprocessing::init();
///     let q: JoinableQueue<u8> = JoinableQueue::new()?;
///     let e = q.task_done().unwrap_err();
///     assert_eq!(e.to_string(), "task_done() called too many times");
///     Ok(())
/// }
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy, Serialize, Deserialize)]
pub struct TaskDoneError;

impl<T> PutError<T> {
    /// The item that could not be put.
    ///
    /// ```
    /// let e = corun::multiprocessing::queue::PutError::Full("x");
    /// assert_eq!(e.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item)
            | Self::ShutDown(item)
            | Self::Serialization { item, .. }
            | Self::TooLarge { item, .. } => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// ```
    /// assert!(corun::multiprocessing::queue::PutError::Full(1).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the queue was shut down.
    ///
    /// ```
    /// assert!(corun::multiprocessing::queue::PutError::ShutDown(1).is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Self::ShutDown(_))
    }

    /// Whether the item could not be serialised.
    ///
    /// ```
    /// use corun::multiprocessing::queue::PutError;
    /// let e = PutError::Serialization { item: 1, reason: "no".into() };
    /// assert!(e.is_serialization());
    /// ```
    pub fn is_serialization(&self) -> bool {
        matches!(self, Self::Serialization { .. })
    }

    /// Whether the item found no room: the system's shared memory is full.
    ///
    /// ```
    /// use corun::multiprocessing::queue::PutError;
    /// let e = PutError::TooLarge { item: 1, size: 10, reason: "no space left on device".into() };
    /// assert!(e.is_too_large());
    /// ```
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge { .. })
    }
}

impl GetError {
    /// Whether the queue was empty.
    ///
    /// ```
    /// assert!(corun::multiprocessing::queue::GetError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// Whether the queue was shut down.
    ///
    /// ```
    /// assert!(corun::multiprocessing::queue::GetError::ShutDown.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Self::ShutDown)
    }

    /// Whether the item taken did not deserialise.
    ///
    /// ```
    /// use corun::multiprocessing::queue::GetError;
    /// assert!(GetError::Serialization("bad".into()).is_serialization());
    /// ```
    pub fn is_serialization(&self) -> bool {
        matches!(self, Self::Serialization(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::ShutDown(_) => f.write_str("ShutDown(..)"),
            Self::Serialization { reason, .. } => f
                .debug_struct("Serialization")
                .field("reason", reason)
                .finish_non_exhaustive(),
            Self::TooLarge { size, reason, .. } => f
                .debug_struct("TooLarge")
                .field("size", size)
                .field("reason", reason)
                .finish_non_exhaustive(),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("queue is full"),
            Self::ShutDown(_) => f.write_str("queue is shut down"),
            Self::Serialization { reason, .. } => {
                write!(f, "the item could not be serialised: {reason}")
            }
            Self::TooLarge { size, reason, .. } => write!(
                f,
                "no room for the item ({size} bytes serialised) in the queue: {reason}"
            ),
        }
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("queue is empty"),
            Self::ShutDown => f.write_str("queue is shut down"),
            Self::Serialization(reason) => {
                write!(f, "the item taken could not be deserialised: {reason}")
            }
        }
    }
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl<T> std::error::Error for PutError<T> {}
impl std::error::Error for GetError {}
impl std::error::Error for TaskDoneError {}
