//! The one error type of corun, in the shape of `std::io::Error`.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A `Result` whose error is corun's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in corun: one type for every module and executor.
///
/// Ask what happened with [`kind`](Self::kind), or with the predicates
/// where they read better ([`is_timeout`](Self::is_timeout),
/// [`is_panic`](Self::is_panic), …); [`source`](StdError::source) gives
/// the underlying cause where there is one (the operating system's error,
/// say). The message says each thing once. Errors that hand a value back
/// (a queue's `PutError::Full(item)`, a lock's `OwnerDied` carrying the
/// guard) are types of their own, as in std and crossbeam.
///
/// # Examples
///
/// ```
/// use corun::ErrorKind;
/// use corun::concurrent::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let err = pool.spawn(|| -> () { panic!("boom") }).unwrap().result().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Panicked);
/// assert_eq!(err.panic_message(), Some("boom"));
/// ```
#[derive(Clone)]
pub struct Error {
    /// Boxed: errors are rare, and a one-word `Error` keeps every task's
    /// `Result<T, Error>` slot small.
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    /// The whole message when set; else the kind's description (or the
    /// source's message) is shown.
    message: Option<Cow<'static, str>>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
    /// The kind of the event that led to this error, where it is not the
    /// error's own kind: a barrier broken by a time-out or by a panicking
    /// action.
    cause: Option<ErrorKind>,
    /// A panic's own text, for [`Error::panic_message`].
    panic: Option<Box<str>>,
    /// The errors of a [`Group`](ErrorKind::Group), for [`Error::errors`].
    group: Option<Arc<[Error]>>,
}

/// The kinds of [`Error`], each standing for the exception Python raises in
/// the same situation.
///
/// The list is `#[non_exhaustive]`: executors and modules still to come add
/// their kinds here without breaking a `match` written today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A wait ran out of time; what was waited for goes on (Python:
    /// `TimeoutError`).
    Timeout,
    /// A task ran past its executor's per-task deadline and was stopped
    /// (its worker process killed, say).
    TaskTimeout,
    /// The task was cancelled before it ran (Python: `CancelledError`).
    Cancelled,
    /// The function run by a task, thread, timer or barrier action
    /// panicked; [`Error::panic_message`] has its text.
    Panicked,
    /// The task failed in another process and only its message came back.
    Remote,
    /// The executor was shut down before it was handed the task (Python:
    /// `RuntimeError('cannot schedule new futures after shutdown')`).
    ShutDown,
    /// The executor cannot run tasks any more: its initializer failed, say
    /// (Python: `BrokenExecutor`).
    Broken,
    /// The worker process running the task died: a signal, an exit, an
    /// abort (Python's `BrokenProcessPool`, for that one task only).
    WorkerDied,
    /// A process could not be started: the system refused, or it is not a
    /// corun worker (its program does not call
    /// `corun::multiprocessing::init()` first), or it died before it was
    /// ready. A pool that cannot start its workers is
    /// [`Broken`](ErrorKind::Broken), with this error as its source.
    ProcessStart,
    /// A barrier is broken: by a time-out, `abort`, `reset`, or a panicking
    /// action (Python: `BrokenBarrierError`).
    BrokenBarrier,
    /// An argument out of range (Python: `ValueError`).
    InvalidArgument,
    /// A bounded semaphore was released more times than it was acquired
    /// (Python: `ValueError('Semaphore released too many times')`).
    OverRelease,
    /// `task_done` was called more times than items were put (Python:
    /// `ValueError('task_done() called too many times')`).
    TaskDoneTooMany,
    /// A result (or a thread's return value) was already taken.
    AlreadyTaken,
    /// Something that runs once was started twice (Python: `RuntimeError`).
    AlreadyStarted,
    /// The call would wait for itself forever, as a thread joining itself
    /// (Python: `RuntimeError('cannot join current thread')`).
    Deadlock,
    /// The operation does not fit the object's present state, as taking a
    /// task's result inside its own done-callback (Python:
    /// `InvalidStateError`).
    InvalidState,
    /// An argument or a result could not be serialised or deserialised to
    /// cross a process boundary (Python: `PicklingError`).
    Serialization,
    /// A named object (a shared-memory segment, say) does not exist
    /// (Python: `FileNotFoundError`).
    NotFound,
    /// The name is taken already (Python: `FileExistsError`).
    AlreadyExists,
    /// An index past the end (Python: `IndexError`).
    IndexOutOfRange,
    /// The other end of a connection is gone (Python: `EOFError`).
    Closed,
    /// The operating system refused; [`source`](StdError::source) or the
    /// message has its error (Python: `OSError`).
    Io,
    /// Several errors at once, each kept whole: the tasks of an asyncio
    /// `TaskGroup` that failed (Python: `ExceptionGroup`);
    /// [`Error::errors`] lists them.
    Group,
    /// A sequence that had to hold an element held none: the `first` or
    /// `last` of an empty observable (RxPY:
    /// `SequenceContainsNoElementsError`).
    Empty,
    /// A bounded buffer was full and its policy is to fail: a reactive
    /// stream whose reader fell behind (Python: `queue.Full`).
    Full,
    /// No device can run the work: no OpenCL runtime on the machine, or
    /// none of its devices fits (PyOpenCL: `cl.LogicError` from
    /// `get_platforms`).
    NoDevice,
    /// The device or its driver failed a call or a command (an OpenCL
    /// error code, a command that ended abnormally; PyOpenCL:
    /// `cl.RuntimeError`); the message names the OpenCL error.
    Device,
    /// A device program did not compile; the message carries the
    /// compiler's log (PyOpenCL: `cl.RuntimeError` with the build log).
    Build,
}

impl ErrorKind {
    /// The kind's own description, shown when an error has no message.
    fn description(self) -> &'static str {
        match self {
            Self::Timeout => "timed out",
            Self::TaskTimeout => "task ran past its time-out",
            Self::Cancelled => "task was cancelled",
            Self::Panicked => "panicked",
            Self::Remote => "task failed in worker",
            Self::ShutDown => "cannot schedule new tasks after shutdown",
            Self::Broken => "executor is broken",
            Self::WorkerDied => "worker died",
            Self::ProcessStart => "cannot start the process",
            Self::BrokenBarrier => "barrier is broken",
            Self::InvalidArgument => "invalid argument",
            Self::OverRelease => "semaphore released too many times",
            Self::TaskDoneTooMany => "task_done() called too many times",
            Self::AlreadyTaken => "result was already taken",
            Self::AlreadyStarted => "can only be started once",
            Self::Deadlock => "would wait for itself forever",
            Self::InvalidState => "not possible in the present state",
            Self::Serialization => "serialisation failed",
            Self::NotFound => "not found",
            Self::AlreadyExists => "already exists",
            Self::IndexOutOfRange => "index out of range",
            Self::Closed => "the other end is closed",
            Self::Io => "operating system error",
            Self::Group => "several errors",
            Self::Empty => "sequence contains no elements",
            Self::Full => "buffer is full",
            Self::NoDevice => "no device to run on",
            Self::Device => "the device failed",
            Self::Build => "the device program did not build",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl Error {
    /// An error of `kind` whose message is `message` (the whole message:
    /// it says what happened, kind and all).
    ///
    /// ```
    /// use corun::{Error, ErrorKind};
    ///
    /// let e = Error::new(ErrorKind::Broken, "executor is broken: initializer failed");
    /// assert!(e.is_broken());
    /// assert_eq!(e.to_string(), "executor is broken: initializer failed");
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::build(kind, Some(message.into()))
    }

    /// An error of `kind` caused by `source`; its message is the source's
    /// unless [`new`](Self::new)'s message is given through
    /// [`with_source`](Self::with_source).
    ///
    /// ```
    /// use corun::{Error, ErrorKind};
    /// use std::io;
    ///
    /// let e = Error::from_source(ErrorKind::Io, io::Error::other("disk on fire"));
    /// assert_eq!(e.kind(), ErrorKind::Io);
    /// assert_eq!(e.to_string(), "disk on fire");
    /// ```
    pub fn from_source(kind: ErrorKind, source: impl StdError + Send + Sync + 'static) -> Self {
        let mut error = Self::build(kind, None);
        error.inner.source = Some(Arc::new(source));
        error
    }

    /// This error, with `source` as its cause.
    ///
    /// ```
    /// use corun::{Error, ErrorKind};
    /// use std::error::Error as _;
    /// use std::io;
    ///
    /// let e = Error::new(ErrorKind::Broken, "worker process 7 failed to start")
    ///     .with_source(io::Error::other("no memory"));
    /// assert_eq!(e.source().unwrap().to_string(), "no memory");
    /// ```
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    fn build(kind: ErrorKind, message: Option<Cow<'static, str>>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message,
                source: None,
                cause: None,
                panic: None,
                group: None,
            }),
        }
    }

    /// This error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Several errors at once (Python: `ExceptionGroup(message, errors)`):
    /// the message says what gathered them, and [`errors`](Self::errors)
    /// gives them back in the order they happened.
    ///
    /// ```
    /// use corun::{Error, ErrorKind};
    ///
    /// let e = Error::group(
    ///     "unhandled errors in a TaskGroup",
    ///     vec![Error::panic("boom"), Error::timeout()],
    /// );
    /// assert_eq!(e.kind(), ErrorKind::Group);
    /// assert_eq!(e.errors().len(), 2);
    /// assert_eq!(e.errors()[0].panic_message(), Some("boom"));
    /// assert_eq!(e.to_string(), "unhandled errors in a TaskGroup (2 sub-errors)");
    /// ```
    pub fn group(message: impl fmt::Display, errors: Vec<Error>) -> Self {
        let n = errors.len();
        let plural = if n == 1 { "" } else { "s" };
        let mut error = Self::new(
            ErrorKind::Group,
            format!("{message} ({n} sub-error{plural})"),
        );
        error.inner.group = Some(errors.into());
        error
    }

    /// The errors of a [`Group`](ErrorKind::Group), in the order they
    /// happened; none for any other error.
    pub fn errors(&self) -> &[Error] {
        self.inner.group.as_deref().unwrap_or(&[])
    }

    /// Several errors at once: see [`group`](Self::group).
    pub fn is_group(&self) -> bool {
        self.kind() == ErrorKind::Group
    }

    /// A time-out of a wait: what was waited for goes on.
    pub fn timeout() -> Self {
        ErrorKind::Timeout.into()
    }

    /// A task that ran past its executor's per-task deadline and was
    /// stopped; `how` says how (its worker process was killed, say).
    ///
    /// ```
    /// let e = corun::Error::task_timeout("ran past 2s; its worker was killed");
    /// assert!(e.is_timeout());
    /// assert_eq!(e.to_string(), "task timed out: ran past 2s; its worker was killed");
    /// ```
    pub fn task_timeout(how: impl fmt::Display) -> Self {
        Self::new(ErrorKind::TaskTimeout, format!("task timed out: {how}"))
    }

    /// A task cancelled before it ran.
    pub fn cancelled() -> Self {
        ErrorKind::Cancelled.into()
    }

    /// A function that panicked with `message`, for code that caught the
    /// panic elsewhere (in a worker process, say).
    ///
    /// ```
    /// let e = corun::Error::panic("boom");
    /// assert!(e.is_panic());
    /// assert_eq!(e.panic_message(), Some("boom"));
    /// assert_eq!(e.to_string(), "panicked: boom");
    /// ```
    pub fn panic(message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::new(ErrorKind::Panicked, format!("panicked: {message}"));
        error.inner.panic = Some(message.into());
        error
    }

    /// A function that panicked with `payload`, as `catch_unwind` returns
    /// it.
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
    /// assert_eq!(corun::Error::from_panic(&*payload).panic_message(), Some("boom"));
    /// ```
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        Self::panic(crate::panic::message(payload))
    }

    /// The executor was shut down.
    ///
    /// ```
    /// assert!(corun::Error::shut_down().is_shutdown());
    /// ```
    pub fn shut_down() -> Self {
        ErrorKind::ShutDown.into()
    }

    /// A broken executor, and why.
    ///
    /// ```
    /// let e = corun::Error::broken("initializer failed");
    /// assert!(e.is_broken());
    /// assert_eq!(e.to_string(), "executor is broken: initializer failed");
    /// ```
    pub fn broken(why: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Broken, format!("executor is broken: {why}"))
    }

    /// The worker process running the task died; `how` (a signal, an exit
    /// code).
    ///
    /// ```
    /// let e = corun::Error::worker_died("killed by signal 9 (SIGKILL)");
    /// assert!(e.is_worker_died());
    /// assert_eq!(e.to_string(), "worker died: killed by signal 9 (SIGKILL)");
    /// ```
    pub fn worker_died(how: impl fmt::Display) -> Self {
        Self::new(ErrorKind::WorkerDied, format!("worker died: {how}"))
    }

    /// The task failed in another process; its message.
    pub fn remote(message: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::Remote,
            format!("task failed in worker: {message}"),
        )
    }

    /// An argument or result could not be (de)serialised; why.
    pub fn serialization(why: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::Serialization,
            format!("serialisation failed: {why}"),
        )
    }

    /// An argument out of range; `what` says which and why.
    ///
    /// ```
    /// let e = corun::Error::invalid_argument("max_workers must be at least 1");
    /// assert!(e.is_invalid_argument());
    /// assert_eq!(e.to_string(), "invalid argument: max_workers must be at least 1");
    /// ```
    pub fn invalid_argument(what: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            format!("invalid argument: {what}"),
        )
    }

    /// A barrier broken by `cause` (a [`Timeout`](ErrorKind::Timeout) of
    /// this caller's wait, or a [`Panicked`](ErrorKind::Panicked) action,
    /// whose message is `panic`), or by `abort`/`reset` elsewhere (`None`).
    pub fn broken_barrier(cause: Option<ErrorKind>, panic: Option<String>) -> Self {
        let message = match (cause, &panic) {
            (_, Some(m)) => format!("barrier action panicked, barrier is broken: {m}"),
            (Some(ErrorKind::Timeout), None) => {
                "barrier wait timed out, barrier is broken".to_owned()
            }
            _ => "barrier is broken".to_owned(),
        };
        let mut error = Self::new(ErrorKind::BrokenBarrier, message);
        error.inner.cause = if panic.is_some() {
            Some(ErrorKind::Panicked)
        } else {
            cause
        };
        error.inner.panic = panic.map(Into::into);
        error
    }

    /// A wait ran out of time: a time-out of this call, a task's own
    /// time-out, or a barrier that this wait's time-out broke.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind(), ErrorKind::Timeout | ErrorKind::TaskTimeout)
            || self.inner.cause == Some(ErrorKind::Timeout)
    }

    /// The task was cancelled before it ran.
    pub fn is_cancelled(&self) -> bool {
        self.kind() == ErrorKind::Cancelled
    }

    /// A function panicked: a task's, a thread's, a timer's, or a barrier's
    /// action.
    pub fn is_panic(&self) -> bool {
        self.inner.panic.is_some()
    }

    /// The panic's message, when [`is_panic`](Self::is_panic).
    pub fn panic_message(&self) -> Option<&str> {
        self.inner.panic.as_deref()
    }

    /// The executor was shut down.
    pub fn is_shutdown(&self) -> bool {
        self.kind() == ErrorKind::ShutDown
    }

    /// The executor is broken (its initializer failed, say).
    pub fn is_broken(&self) -> bool {
        self.kind() == ErrorKind::Broken
    }

    /// The worker process died while running the task.
    pub fn is_worker_died(&self) -> bool {
        self.kind() == ErrorKind::WorkerDied
    }

    /// The task failed in another process.
    pub fn is_remote(&self) -> bool {
        self.kind() == ErrorKind::Remote
    }

    /// An argument or result could not be (de)serialised.
    pub fn is_serialization(&self) -> bool {
        self.kind() == ErrorKind::Serialization
    }

    /// A barrier is (or became) broken: what Python reports as
    /// `BrokenBarrierError`.
    pub fn is_broken_barrier(&self) -> bool {
        self.kind() == ErrorKind::BrokenBarrier
    }

    /// An argument was out of range.
    pub fn is_invalid_argument(&self) -> bool {
        self.kind() == ErrorKind::InvalidArgument
    }

    /// A bounded semaphore was released too many times.
    pub fn is_over_release(&self) -> bool {
        self.kind() == ErrorKind::OverRelease
    }

    /// `task_done` was called more times than items were put.
    pub fn is_task_done_too_many(&self) -> bool {
        self.kind() == ErrorKind::TaskDoneTooMany
    }

    /// The call would have waited for itself forever (a thread joining
    /// itself); nothing was waited for.
    pub fn is_deadlock(&self) -> bool {
        self.kind() == ErrorKind::Deadlock
    }

    /// The result had already been taken.
    pub fn is_already_taken(&self) -> bool {
        self.kind() == ErrorKind::AlreadyTaken
    }

    /// The operating system's error behind this one, if any.
    ///
    /// ```
    /// use std::io;
    ///
    /// let e = corun::Error::from(io::Error::from(io::ErrorKind::PermissionDenied));
    /// assert_eq!(e.io_error().unwrap().kind(), io::ErrorKind::PermissionDenied);
    /// ```
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.inner.source.as_deref()?.downcast_ref()
    }
}

impl From<ErrorKind> for Error {
    /// An error of `kind` with the kind's own description as its message.
    fn from(kind: ErrorKind) -> Self {
        Self::build(kind, None)
    }
}

impl From<std::io::ErrorKind> for ErrorKind {
    /// The kind an operating-system error of `kind` is:
    /// [`NotFound`](ErrorKind::NotFound) for `NotFound`,
    /// [`AlreadyExists`](ErrorKind::AlreadyExists) for `AlreadyExists`,
    /// [`InvalidArgument`](ErrorKind::InvalidArgument) for `InvalidInput`,
    /// [`Timeout`](ErrorKind::Timeout) for `TimedOut`, else
    /// [`Io`](ErrorKind::Io).
    fn from(kind: std::io::ErrorKind) -> Self {
        match kind {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            std::io::ErrorKind::InvalidInput => ErrorKind::InvalidArgument,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        }
    }
}

impl From<std::io::Error> for Error {
    /// An operating-system error, of the kind its `io::ErrorKind` maps to
    /// (see `From<io::ErrorKind> for ErrorKind`); the `io::Error` is the
    /// source, and [`io_error`](Error::io_error) returns it.
    fn from(error: std::io::Error) -> Self {
        Self::from_source(error.kind().into(), error)
    }
}

impl From<Error> for std::io::Error {
    /// The error as an `io::Error`: the operating system's own error where
    /// there is one, else one of the closest `io::ErrorKind` carrying this
    /// error.
    fn from(error: Error) -> Self {
        if let Some(io) = error.io_error() {
            if error.inner.message.is_none() {
                return std::io::Error::new(io.kind(), io.to_string());
            }
        }
        let kind = match error.kind() {
            ErrorKind::NotFound => std::io::ErrorKind::NotFound,
            ErrorKind::AlreadyExists => std::io::ErrorKind::AlreadyExists,
            ErrorKind::InvalidArgument => std::io::ErrorKind::InvalidInput,
            ErrorKind::Timeout => std::io::ErrorKind::TimedOut,
            _ => error
                .io_error()
                .map_or(std::io::ErrorKind::Other, std::io::Error::kind),
        };
        std::io::Error::new(kind, error)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(message) = &self.inner.message {
            d.field("message", message);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        if let Some(group) = &self.inner.group {
            d.field("errors", group);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.inner.message, &self.inner.source) {
            (Some(message), _) => f.write_str(message),
            (None, Some(source)) => source.fmt(f),
            (None, None) => f.write_str(self.inner.kind.description()),
        }
    }
}

impl StdError for Error {
    /// With a message of its own, the error's source is its cause; without
    /// one, the message is the cause's, and the source is the cause's own
    /// (as `std::io::Error` does), so a chain says each thing once.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source = self.inner.source.as_deref()?;
        if self.inner.message.is_some() {
            Some(source)
        } else {
            source.source()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_one_word() {
        assert_eq!(size_of::<Error>(), size_of::<usize>());
    }

    #[test]
    fn send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Error>();
        check::<ErrorKind>();
    }

    #[test]
    fn kind_description_without_message() {
        let e = Error::from(ErrorKind::OverRelease);
        assert_eq!(e.to_string(), "semaphore released too many times");
        assert!(e.is_over_release());
        assert!(StdError::source(&e).is_none());
    }

    #[test]
    fn broken_barrier_causes() {
        let timed_out = Error::broken_barrier(Some(ErrorKind::Timeout), None);
        assert!(timed_out.is_broken_barrier() && timed_out.is_timeout());
        assert!(!timed_out.is_panic());
        let action = Error::broken_barrier(None, Some("bad".into()));
        assert!(action.is_broken_barrier() && action.is_panic());
        assert_eq!(action.panic_message(), Some("bad"));
        let plain = Error::broken_barrier(None, None);
        assert!(plain.is_broken_barrier() && !plain.is_timeout() && !plain.is_panic());
    }

    #[test]
    fn io_errors_map_kinds_and_keep_the_source() {
        let e = Error::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.io_error().unwrap().kind(), std::io::ErrorKind::NotFound);
        let e = Error::new(ErrorKind::Broken, "executor is broken: start failed")
            .with_source(std::io::Error::other("no memory"));
        assert_eq!(e.to_string(), "executor is broken: start failed");
        assert_eq!(StdError::source(&e).unwrap().to_string(), "no memory");
    }
}
