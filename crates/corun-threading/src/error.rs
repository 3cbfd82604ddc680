//! The error type of `corun::threading` (queue errors, which hand the item
//! back, live in [`crate::queue`]).

use std::fmt;

/// What went wrong in a threading primitive.
///
/// The kind is private; ask with the predicates. Each error corresponds to an
/// exception Python raises for the same situation, named in the message.
///
/// # Examples
///
/// ```
/// use corun_threading::threading::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// let err = sem.release(1).unwrap_err();
/// assert!(err.is_over_release());
/// assert!(err.to_string().contains("released too many times"));
/// ```
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug)]
pub(crate) enum ErrorKind {
    /// A wait ran out of time (Python: `TimeoutError`, or a `False` return).
    Timeout,
    /// A barrier was broken by a timeout, `abort` or `reset` elsewhere
    /// (Python: `BrokenBarrierError`).
    BrokenBarrier,
    /// This thread's own wait on a barrier timed out, which broke it.
    BarrierTimeout,
    /// The barrier's action panicked; the barrier is now broken.
    BarrierAction(String),
    /// A thread or timer function panicked; the payload's message.
    Panicked(String),
    /// A bounded semaphore was released past its initial value
    /// (Python: `ValueError("Semaphore released too many times")`).
    OverRelease,
    /// `task_done` called more times than items were put
    /// (Python: `ValueError("task_done() called too many times")`).
    TaskDoneTooMany,
    /// A value Python would reject with `ValueError`.
    InvalidArgument(&'static str),
    /// `start` on something already started (Python: `RuntimeError`).
    AlreadyStarted,
    /// `join` on a thread whose result was already taken.
    AlreadyJoined,
    /// A thread (or timer) joined from its own thread, which would wait for
    /// itself forever (Python: `RuntimeError("cannot join current thread")`).
    JoinCurrentThread,
    /// The operating system refused to start a thread.
    Spawn(std::io::Error),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self { kind }
    }

    pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        Self::new(ErrorKind::Panicked(panic_message(payload)))
    }

    /// A wait ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout | ErrorKind::BarrierTimeout)
    }

    /// A barrier is (or became) broken: by a timeout, `abort`, `reset`, or a
    /// panicking action. This is what Python reports as `BrokenBarrierError`.
    pub fn is_broken_barrier(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::BrokenBarrier | ErrorKind::BarrierTimeout | ErrorKind::BarrierAction(_)
        )
    }

    /// The function run by a thread, a timer or a barrier action panicked.
    pub fn is_panic(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Panicked(_) | ErrorKind::BarrierAction(_)
        )
    }

    /// The panic message, when [`is_panic`](Self::is_panic) is true.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Panicked(m) | ErrorKind::BarrierAction(m) => Some(m),
            _ => None,
        }
    }

    /// A bounded semaphore was released more times than it was acquired.
    pub fn is_over_release(&self) -> bool {
        matches!(self.kind, ErrorKind::OverRelease)
    }

    /// `task_done` was called more times than items were put.
    pub fn is_task_done_too_many(&self) -> bool {
        matches!(self.kind, ErrorKind::TaskDoneTooMany)
    }

    /// A thread or timer was joined from its own thread (Python's
    /// `RuntimeError("cannot join current thread")`); nothing was waited
    /// for, and it can still be joined from another thread.
    pub fn is_join_current_thread(&self) -> bool {
        matches!(self.kind, ErrorKind::JoinCurrentThread)
    }

    /// An argument was out of range (a barrier of 0 parties, say).
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self.kind, ErrorKind::InvalidArgument(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Timeout => f.write_str("timed out"),
            ErrorKind::BrokenBarrier => f.write_str("barrier is broken"),
            ErrorKind::BarrierTimeout => f.write_str("barrier wait timed out, barrier is broken"),
            ErrorKind::BarrierAction(m) => {
                write!(f, "barrier action panicked, barrier is broken: {m}")
            }
            ErrorKind::Panicked(m) => write!(f, "panicked: {m}"),
            ErrorKind::OverRelease => f.write_str("semaphore released too many times"),
            ErrorKind::TaskDoneTooMany => f.write_str("task_done() called too many times"),
            ErrorKind::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            ErrorKind::AlreadyStarted => f.write_str("threads can only be started once"),
            ErrorKind::AlreadyJoined => f.write_str("thread was already joined"),
            ErrorKind::JoinCurrentThread => {
                f.write_str("cannot join current thread: it would wait for itself forever")
            }
            ErrorKind::Spawn(e) => write!(f, "could not start thread: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// The text of a panic payload (`&str` or `String`; anything else is named).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic payload of unknown type".to_owned()
    }
}
