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

    /// Limits the memory each worker may allocate to `bytes` more than
    /// it holds when it is set up: an allocation past it fails, the
    /// worker aborts, its task fails with [`Error::is_worker_died`](corun_core::Error::is_worker_died)
    /// saying that the worker ran out of memory under this limit, and
    /// the worker is replaced; other tasks go on.
    ///
    /// Counted (Linux's `RLIMIT_DATA`, set to the worker's `VmData`
    /// after the handshake plus `bytes`): every private writable
    /// mapping the worker makes — small and large allocations alike,
    /// when the allocator maps them, so a `Vec::with_capacity` counts
    /// in full before it is written; what the initializer and earlier
    /// tasks keep (freed memory is reused, not counted again); each
    /// thread a task starts, its whole stack (2 MiB by default). Not
    /// counted: shared memory ([`SharedMemory`](crate::SharedMemory),
    /// queues, values, locks), files mapped read-only, the main
    /// thread's stack, and what the kernel holds for the worker. The
    /// allocator may hand out, beyond `bytes`, what it had mapped but
    /// not used at setup (about 100 KiB).
    ///
    /// The worker tells the pool that it ran out of memory when `errno`
    /// says `ENOMEM` as it aborts. A worker that prints a backtrace
    /// first (`RUST_BACKTRACE`) may lose that when printing it succeeds
    /// (a single large allocation past the limit leaves room to print):
    /// the error then says the worker aborted under its memory limit.
    /// Needs Linux 4.7 or later (on older kernels, `build` fails).
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
