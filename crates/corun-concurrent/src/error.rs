//! The error type of `corun::concurrent`: what happened to a task.

use std::fmt;

/// Why a task produced no value, or why an executor refused one.
///
/// The kind is private; ask with the predicates. The process-pool kinds
/// ([`is_worker_died`](Self::is_worker_died), [`is_remote`](Self::is_remote),
/// [`is_serialization`](Self::is_serialization)) are produced by executors
/// that run tasks in other processes.
///
/// # Examples
///
/// ```
/// use corun_concurrent::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let err = pool.spawn(|| -> () { panic!("boom") }).unwrap().result().unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("boom"));
/// ```
#[derive(Debug, Clone)]
pub struct Error {
    /// Boxed: errors are rare, and a small `Error` keeps every task's
    /// `Result<T, Error>` slot small.
    kind: Box<ErrorKind>,
}

#[derive(Debug, Clone)]
pub(crate) enum ErrorKind {
    /// The task was cancelled before it started (Python: `CancelledError`).
    Cancelled,
    /// A wait ran out of time (Python: `TimeoutError`); the task goes on.
    Timeout,
    /// A task ran past its executor's per-task deadline and was stopped;
    /// how.
    TaskTimeout(String),
    /// The task's function panicked; the panic's message.
    Panicked(String),
    /// The executor was shut down (Python: `RuntimeError('cannot schedule
    /// new futures after shutdown')`).
    ShutDown,
    /// The executor is broken, e.g. its initializer failed (Python:
    /// `BrokenExecutor`); why.
    Broken(String),
    /// The result was already taken from this task.
    AlreadyTaken,
    /// The result was asked for inside one of the task's own
    /// done-callbacks, which holds a reference to it.
    TakenInCallback,
    /// A configuration value Python would reject with `ValueError`.
    InvalidArgument(&'static str),
    /// The worker process running the task died; how.
    WorkerDied(String),
    /// The task failed in another process; its message.
    Remote(String),
    /// An argument or result could not be serialised or deserialised.
    Serialization(String),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind: Box::new(kind),
        }
    }

    /// A broken-executor error with a reason; for executors built outside
    /// this crate.
    ///
    /// ```
    /// let e = corun_concurrent::Error::broken("initializer failed");
    /// assert!(e.is_broken());
    /// ```
    pub fn broken(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Broken(reason.into()))
    }

    /// The worker process running the task died (signal or exit code in
    /// `how`); for process executors.
    ///
    /// ```
    /// let e = corun_concurrent::Error::worker_died("killed by signal 9 (SIGKILL)");
    /// assert!(e.is_worker_died());
    /// ```
    pub fn worker_died(how: impl Into<String>) -> Self {
        Self::new(ErrorKind::WorkerDied(how.into()))
    }

    /// The task failed in another process; for process executors.
    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Remote(message.into()))
    }

    /// An argument or result could not be (de)serialised.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Serialization(message.into()))
    }

    /// A time-out; for executors that enforce per-task deadlines.
    pub fn timeout() -> Self {
        Self::new(ErrorKind::Timeout)
    }

    /// A task that ran past its executor's per-task deadline and was
    /// stopped (`how`: e.g. its worker process was killed).
    ///
    /// ```
    /// let e = corun_concurrent::Error::task_timeout("ran past 2s; its worker was killed");
    /// assert!(e.is_timeout());
    /// assert!(e.to_string().contains("worker was killed"));
    /// ```
    pub fn task_timeout(how: impl Into<String>) -> Self {
        Self::new(ErrorKind::TaskTimeout(how.into()))
    }

    /// A task whose function panicked with `message`, for executors that
    /// catch the panic elsewhere (in a worker process, say).
    ///
    /// ```
    /// let e = corun_concurrent::Error::panic("boom");
    /// assert!(e.is_panic());
    /// assert_eq!(e.panic_message(), Some("boom"));
    /// ```
    pub fn panic(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Panicked(message.into()))
    }

    /// The executor was shut down; for executors built outside this crate.
    ///
    /// ```
    /// assert!(corun_concurrent::Error::shut_down().is_shutdown());
    /// ```
    pub fn shut_down() -> Self {
        Self::new(ErrorKind::ShutDown)
    }

    /// A configuration value out of range (Python: `ValueError`).
    ///
    /// ```
    /// let e = corun_concurrent::Error::invalid_argument("chunksize must be at least 1");
    /// assert!(e.is_invalid_argument());
    /// ```
    pub fn invalid_argument(what: &'static str) -> Self {
        Self::new(ErrorKind::InvalidArgument(what))
    }

    pub(crate) fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled)
    }

    pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic payload of unknown type".to_owned()
        };
        Self::new(ErrorKind::Panicked(message))
    }

    /// The task was cancelled before it ran.
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.kind, ErrorKind::Cancelled)
    }

    /// A wait (or a per-task deadline) ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(*self.kind, ErrorKind::Timeout | ErrorKind::TaskTimeout(_))
    }

    /// The task's function panicked.
    pub fn is_panic(&self) -> bool {
        matches!(*self.kind, ErrorKind::Panicked(_))
    }

    /// The panic message, when [`is_panic`](Self::is_panic).
    pub fn panic_message(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::Panicked(m) => Some(m),
            _ => None,
        }
    }

    /// The executor was shut down.
    pub fn is_shutdown(&self) -> bool {
        matches!(*self.kind, ErrorKind::ShutDown)
    }

    /// The executor is broken (its initializer failed, say).
    pub fn is_broken(&self) -> bool {
        matches!(*self.kind, ErrorKind::Broken(_))
    }

    /// A configuration value was out of range (0 workers, say).
    pub fn is_invalid_argument(&self) -> bool {
        matches!(*self.kind, ErrorKind::InvalidArgument(_))
    }

    /// The result had already been taken.
    pub fn is_already_taken(&self) -> bool {
        matches!(*self.kind, ErrorKind::AlreadyTaken)
    }

    /// The result was asked for inside one of the task's own
    /// done-callbacks, which holds a reference to it (Python's `result()`
    /// works there, as it does not move the value out); take it after the
    /// callback returns.
    pub fn is_taken_in_callback(&self) -> bool {
        matches!(*self.kind, ErrorKind::TakenInCallback)
    }

    /// The worker process died while running the task.
    pub fn is_worker_died(&self) -> bool {
        matches!(*self.kind, ErrorKind::WorkerDied(_))
    }

    /// The task failed in another process.
    pub fn is_remote(&self) -> bool {
        matches!(*self.kind, ErrorKind::Remote(_))
    }

    /// An argument or result could not be (de)serialised.
    pub fn is_serialization(&self) -> bool {
        matches!(*self.kind, ErrorKind::Serialization(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
            ErrorKind::Cancelled => f.write_str("task was cancelled"),
            ErrorKind::Timeout => f.write_str("timed out"),
            ErrorKind::TaskTimeout(how) => write!(f, "task timed out: {how}"),
            ErrorKind::Panicked(m) => write!(f, "task panicked: {m}"),
            ErrorKind::ShutDown => f.write_str("cannot schedule new tasks after shutdown"),
            ErrorKind::Broken(why) => write!(f, "executor is broken: {why}"),
            ErrorKind::AlreadyTaken => f.write_str("the task's result was already taken"),
            ErrorKind::TakenInCallback => f.write_str(
                "a task's result cannot be taken inside its own done-callback, which borrows it",
            ),
            ErrorKind::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            ErrorKind::WorkerDied(how) => write!(f, "worker died: {how}"),
            ErrorKind::Remote(m) => write!(f, "task failed in worker: {m}"),
            ErrorKind::Serialization(m) => write!(f, "serialisation failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}
