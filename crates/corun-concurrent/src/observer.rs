//! How executors report to a timeline: the [`Observer`] trait, with the
//! [`TaskId`]s it hands out and the [`Outcome`] a task ends with.
//!
//! Every executor — the thread pool, the process pools, and those still to
//! come — tells its observer the same three things about each task: it was
//! submitted, it started (on which worker), it finished (how). The
//! timeline recorder, `corun::trace::Recorder`, is one observer; a test or
//! a metrics exporter can be another.

use std::borrow::Cow;
use std::fmt;

/// What an executor tells about its tasks as they go: submitted, started,
/// finished.
///
/// Executors take one in their builders (`recorder(…)`), call it from any
/// thread, and call it cheaply: an observer should record and return, never
/// block.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{Executor, Observer, Outcome, TaskId, ThreadPoolExecutor};
/// use std::borrow::Cow;
/// use std::sync::Mutex;
/// use std::sync::Arc;
///
/// #[derive(Debug, Default)]
/// struct Log(Mutex<Vec<String>>);
///
/// impl Observer for Log {
///     fn submitted(&self, label: Cow<'static, str>) -> TaskId {
///         let mut log = self.0.lock().unwrap();
///         log.push(format!("submitted {label}"));
///         TaskId::from_u64(log.len() as u64)
///     }
///     fn started(&self, _: TaskId, _: Option<Cow<'static, str>>) {
///         self.0.lock().unwrap().push("started".into());
///     }
///     fn finished(&self, _: TaskId, outcome: Outcome) {
///         self.0.lock().unwrap().push(format!("finished {outcome}"));
///     }
/// }
///
/// let log = Arc::new(Log::default());
/// let pool = ThreadPoolExecutor::builder().max_workers(1).recorder(Arc::clone(&log)).build().unwrap();
/// pool.spawn(|| 1).unwrap().result().unwrap();
/// pool.shutdown(true, false);
/// assert_eq!(*log.0.lock().unwrap(), ["submitted task 0", "started", "finished ok"]);
/// ```
pub trait Observer: Send + Sync + 'static {
    /// A task was submitted under `label`; the id names it in the calls
    /// that follow.
    fn submitted(&self, label: Cow<'static, str>) -> TaskId;

    /// The task started running: on `worker` (a process pool's `"pid
    /// 1234"`), or on the calling thread when `None`.
    fn started(&self, task: TaskId, worker: Option<Cow<'static, str>>);

    /// The task finished with `outcome` (on any thread).
    fn finished(&self, task: TaskId, outcome: Outcome);
}

impl<O: Observer + ?Sized> Observer for std::sync::Arc<O> {
    fn submitted(&self, label: Cow<'static, str>) -> TaskId {
        (**self).submitted(label)
    }

    fn started(&self, task: TaskId, worker: Option<Cow<'static, str>>) {
        (**self).started(task, worker);
    }

    fn finished(&self, task: TaskId, outcome: Outcome) {
        (**self).finished(task, outcome);
    }
}

/// A task's identity within one [`Observer`]: handed out by
/// [`Observer::submitted`]; `corun::trace::Recorder` numbers them from 0, in
/// submission order.
///
/// # Examples
///
/// ```
/// use corun::trace::Recorder;
///
/// let rec = Recorder::new();
/// let a = rec.submitted("a");
/// let b = rec.submitted("b");
/// assert!(a < b);
/// assert_eq!(a.as_u64(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

/// How a task ended: the last thing an executor records about it.
///
/// # Examples
///
/// ```
/// use corun::concurrent::Outcome;
/// use corun::trace::Recorder;
///
/// let rec = Recorder::new();
/// let id = rec.submitted("parse");
/// rec.started(id);
/// rec.finished(id, Outcome::Failed);
/// assert_eq!(rec.timeline().tasks()[0].outcome, Some(Outcome::Failed));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The task returned a value.
    Ok,
    /// The task returned an error.
    Failed,
    /// The task panicked (Python: raised an exception that escaped).
    Panicked,
    /// The task was cancelled before it completed.
    Cancelled,
    /// The task ran past its deadline.
    TimedOut,
    /// The worker running the task died (a process pool's child exited).
    WorkerDied,
}

impl TaskId {
    /// The id with number `n` (for observers that number their tasks, and
    /// for building timelines by hand).
    ///
    /// ```
    /// assert_eq!(corun::concurrent::TaskId::from_u64(7).as_u64(), 7);
    /// ```
    #[must_use]
    pub const fn from_u64(n: u64) -> Self {
        Self(n)
    }

    /// The id's number.
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// assert_eq!(rec.submitted("first").as_u64(), 0);
    /// ```
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl Outcome {
    /// The outcome's name in snake case, as written in exports.
    ///
    /// ```
    /// assert_eq!(corun::concurrent::Outcome::TimedOut.as_str(), "timed_out");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Panicked => "panicked",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
            Self::WorkerDied => "worker_died",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
