//! Errors of the queues — the thread queues here and the cross-process
//! queues of `corun::multiprocessing` alike; a failed put hands the item
//! back.

use std::fmt;

use crate::error::Error;

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
#[derive(Clone)]
#[non_exhaustive]
pub enum PutError<T> {
    /// The queue stayed full (at once for `try_put`, until the time-out for
    /// `put_timeout`). Python: `queue.Full`.
    Full(T),
    /// The queue was shut down. Python: `queue.ShutDown`.
    ShutDown(T),
    /// The item could not be put for another reason, said by the error: a
    /// cross-process queue's item that does not serialise
    /// ([`Serialization`](corun_core::ErrorKind::Serialization); Python
    /// loses such an item in its feeder thread), or no shared memory left
    /// for it ([`Io`](corun_core::ErrorKind::Io)). Thread queues never
    /// fail so.
    Failed(T, Error),
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
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GetError {
    /// The queue stayed empty (at once for `try_get`, until the time-out for
    /// `get_timeout`). Python: `queue.Empty`.
    Empty,
    /// The queue was shut down and has nothing left. Python: `queue.ShutDown`.
    ShutDown,
    /// The item taken could not be handed out, said by the error: a
    /// cross-process queue's item that does not deserialise as the queue's
    /// type ([`Serialization`](corun_core::ErrorKind::Serialization)).
    /// Thread queues never fail so.
    Failed(Error),
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
            Self::Full(item) | Self::ShutDown(item) | Self::Failed(item, _) => item,
        }
    }

    /// The queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// The queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Self::ShutDown(_))
    }

    /// The item did not serialise (cross-process queues).
    pub fn is_serialization(&self) -> bool {
        matches!(self, Self::Failed(_, e) if e.is_serialization())
    }

    /// The error behind a [`Failed`](Self::Failed) put.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Failed(_, e) => Some(e),
            _ => None,
        }
    }
}

impl GetError {
    /// The queue was empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// The queue was shut down and drained.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, Self::ShutDown)
    }

    /// The item taken did not deserialise (cross-process queues).
    pub fn is_serialization(&self) -> bool {
        matches!(self, Self::Failed(e) if e.is_serialization())
    }

    /// The error behind a [`Failed`](Self::Failed) get.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Failures are equal when they are of the same kind and say the same.
fn same(a: &Error, b: &Error) -> bool {
    a.kind() == b.kind() && a.to_string() == b.to_string()
}

impl<T: PartialEq> PartialEq for PutError<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Full(a), Self::Full(b)) | (Self::ShutDown(a), Self::ShutDown(b)) => a == b,
            (Self::Failed(a, e), Self::Failed(b, f)) => a == b && same(e, f),
            _ => false,
        }
    }
}

impl PartialEq for GetError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Empty, Self::Empty) | (Self::ShutDown, Self::ShutDown) => true,
            (Self::Failed(e), Self::Failed(f)) => same(e, f),
            _ => false,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::ShutDown(_) => f.write_str("ShutDown(..)"),
            Self::Failed(_, e) => f.debug_tuple("Failed").field(&"..").field(e).finish(),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("queue is full"),
            Self::ShutDown(_) => f.write_str("queue is shut down"),
            Self::Failed(_, e) => e.fmt(f),
        }
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("queue is empty"),
            Self::ShutDown => f.write_str("queue is shut down"),
            Self::Failed(e) => e.fmt(f),
        }
    }
}

/// A failure shows its error's message, so its source is that error's own
/// (each thing said once).
impl<T> std::error::Error for PutError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().and_then(std::error::Error::source)
    }
}

/// As for [`PutError`].
impl std::error::Error for GetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().and_then(std::error::Error::source)
    }
}
