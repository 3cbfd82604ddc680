//! The builder of [`Pool`](crate::Pool) and
//! [`ProcessPoolExecutor`](crate::ProcessPoolExecutor): the options they
//! share, written once, and their checks.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use corun_concurrent::Error;
use corun_concurrent::Observer;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pools::engine::Config;
use crate::workers::current::cpu_count;
use crate::workers::worker::Call;

/// What a pool builder has been told so far.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) processes: Option<usize>,
    /// The initializer's call, or why it could not be encoded.
    pub(crate) initializer: Option<Result<Call, Error>>,
    pub(crate) max_tasks_per_child: Option<usize>,
    pub(crate) task_timeout: Option<Duration>,
    pub(crate) memory_limit: Option<u64>,
    pub(crate) recorder: Option<Arc<dyn Observer>>,
}

impl Settings {
    /// Encodes `f(arg)` as the call each worker runs first.
    pub(crate) fn initializer<A>(&mut self, f: fn(A), arg: A)
    where
        A: Serialize + DeserializeOwned + 'static,
    {
        self.initializer = Some(Call::new(f, &arg));
    }

    /// Checks the settings and turns them into an engine's configuration;
    /// `size` names the size option as the builder calls it.
    ///
    /// # Errors
    ///
    /// Invalid arguments (Python's `ValueError`): 0 processes, 0 tasks per
    /// child, a zero task time-out or memory limit; a serialisation error
    /// for an initializer argument that does not encode.
    pub(crate) fn into_config(
        self,
        name_prefix: &'static str,
        size: &'static str,
    ) -> Result<Config, Error> {
        let processes = match self.processes {
            Some(0) => {
                return Err(Error::invalid_argument(format!(
                    "{size} must be at least 1"
                )));
            }
            Some(n) => n,
            None => cpu_count(),
        };
        if self.max_tasks_per_child == Some(0) {
            return Err(Error::invalid_argument(
                "max_tasks_per_child must be at least 1",
            ));
        }
        if self.task_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid_argument("task_timeout must be above zero"));
        }
        if self.memory_limit == Some(0) {
            return Err(Error::invalid_argument("memory_limit must be above zero"));
        }
        Ok(Config {
            processes,
            name_prefix,
            initializer: self.initializer.transpose()?,
            max_tasks_per_child: self.max_tasks_per_child,
            task_timeout: self.task_timeout,
            memory_limit: self.memory_limit,
            recorder: self.recorder,
        })
    }
}

/// Configures a pool of worker processes: [`PoolBuilder`](crate::PoolBuilder)
/// builds a [`Pool`](crate::Pool), [`ProcessPoolBuilder`](crate::ProcessPoolBuilder)
/// a [`ProcessPoolExecutor`](crate::ProcessPoolExecutor); `P` is what it
/// builds. The options both take are here; the size (`processes` or
/// `max_workers`, as Python names it for each) and `build` are with each
/// alias.
///
/// ```
/// use corun::multiprocessing::{Pool, ProcessPoolExecutor};
/// use std::time::Duration;
///
/// let pool = Pool::builder().processes(2).task_timeout(Duration::from_secs(60));
/// let executor = ProcessPoolExecutor::builder().max_workers(2).max_tasks_per_child(100);
/// # let _ = (pool, executor);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct WorkerPoolBuilder<P> {
    pub(crate) settings: Settings,
    builds: PhantomData<fn() -> P>,
}

impl<P> WorkerPoolBuilder<P> {
    pub(crate) fn new() -> Self {
        Self {
            settings: Settings::default(),
            builds: PhantomData,
        }
    }

    /// A function each worker runs with `arg` before its first task
    /// (Python's `initializer`, `initargs`). If it panics, `build` fails;
    /// if it panics in a worker started later to replace one, the pool
    /// breaks: queued tasks fail and no worker is started again.
    pub fn initializer<A>(mut self, f: fn(A), arg: A) -> Self
    where
        A: Serialize + DeserializeOwned + 'static,
    {
        self.settings.initializer(f, arg);
        self
    }

    /// Replaces each worker after it has run `n` tasks (Python's
    /// `maxtasksperchild` / `max_tasks_per_child`).
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.settings.max_tasks_per_child = Some(n);
        self
    }

    /// A deadline for each task, counted from when its worker starts it:
    /// past it, the worker is killed and replaced, and the task fails with
    /// a time-out. Other tasks are not affected.
    pub fn task_timeout(mut self, limit: Duration) -> Self {
        self.settings.task_timeout = Some(limit);
        self
    }

    /// Limits each worker's address space to `bytes` (`RLIMIT_AS`): an
    /// allocation past it fails, the worker aborts, its task fails with an
    /// error that says so, and the worker is replaced.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.settings.memory_limit = Some(bytes);
        self
    }

    /// Reports every task to `recorder`, any `corun::concurrent::Observer`
    /// (a `corun::trace::Recorder` draws one timeline lane per worker
    /// process, named by pid).
    pub fn recorder(mut self, recorder: impl Observer) -> Self {
        self.settings.recorder = Some(Arc::new(recorder));
        self
    }
}

impl<P> fmt::Debug for WorkerPoolBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPoolBuilder")
            .field("builds", &std::any::type_name::<P>())
            .field("settings", &self.settings)
            .finish()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("processes", &self.processes)
            .field("has_initializer", &self.initializer.is_some())
            .field("max_tasks_per_child", &self.max_tasks_per_child)
            .field("task_timeout", &self.task_timeout)
            .field("memory_limit", &self.memory_limit)
            .field("recording", &self.recorder.is_some())
            .finish()
    }
}
