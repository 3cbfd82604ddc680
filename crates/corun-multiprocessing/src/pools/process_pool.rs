//! `ProcessPoolExecutor`: Python's `concurrent.futures.ProcessPoolExecutor`,
//! the [`Executor`] face of the engine behind [`Pool`](crate::Pool).

use std::fmt;

use corun_concurrent::{Error, Executor, Submit, Task};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::crossing::call::Reply;
use crate::pools::engine::Engine;
use crate::pools::settings::WorkerPoolBuilder;
use crate::workers::worker::Call;

/// An [`Executor`] that runs plain functions in worker processes (Python's
/// `concurrent.futures.ProcessPoolExecutor`).
///
/// It implements [`Submit`] for `fn(A) -> R` with serde `A` and `R`, so
/// code written against `E: Executor + Submit<fn(A) -> R, A, R>` moves from
/// a `ThreadPoolExecutor` to processes by changing the line that builds
/// the executor.
///
/// Beyond Python: a worker that dies fails only the task it was running
/// (Python breaks the whole pool with `BrokenProcessPool`), and is
/// replaced; a task stays pending, and can be cancelled, until a worker
/// begins it (Python marks a task running once it is queued for a worker);
/// see [`Pool`](crate::Pool) for the per-task deadline and the memory
/// limit, which this builder offers too.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::concurrent::{Executor, Submit};
/// use corun::multiprocessing::ProcessPoolExecutor;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// corun::multiprocessing::init();
/// let pool = ProcessPoolExecutor::builder().max_workers(2).build().unwrap();
/// assert_eq!(pool.submit(square, 7).unwrap().result().unwrap(), 49);
/// let all: Vec<u64> = pool.map(square as fn(u64) -> u64, 1..=3).map(Result::unwrap).collect();
/// assert_eq!(all, [1, 4, 9]);
/// pool.shutdown(true, false);
/// ```
pub struct ProcessPoolExecutor {
    engine: Engine,
}

/// Configures a [`ProcessPoolExecutor`]: its size
/// ([`max_workers`](ProcessPoolBuilder::max_workers)) here, the options it
/// shares with [`PoolBuilder`](crate::PoolBuilder) on [`WorkerPoolBuilder`].
pub type ProcessPoolBuilder = WorkerPoolBuilder<ProcessPoolExecutor>;

impl ProcessPoolExecutor {
    /// An executor of [`cpu_count`](crate::cpu_count) workers.
    ///
    /// # Errors
    ///
    /// As [`ProcessPoolBuilder::build`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder for the executor's size, initializer and limits.
    pub fn builder() -> ProcessPoolBuilder {
        ProcessPoolBuilder::new()
    }

    /// The pids of the worker processes alive now.
    pub fn pids(&self) -> Vec<u32> {
        self.engine.pids()
    }

    /// Queues a call already encoded — typically one that came from
    /// another machine as bytes
    /// ([`Call::from_bytes`](crate::remote::Call::from_bytes)) — and
    /// returns a task of the worker's raw [`Reply`]: `Returned` (with the
    /// encoded result), `Panicked`, `Serialization` or `Rejected`, with
    /// the id the call was submitted with. Turn it into bytes to send back
    /// with [`Reply::to_bytes`], or into a value with [`Reply::decode`].
    ///
    /// The call is queued, run and supervised as one from
    /// [`submit`](Submit::submit): a worker that dies while running it, a
    /// `task_timeout`, `cancel` and shutdown fail the task with the same
    /// errors, and its timeline entry is labelled `call`.
    ///
    /// # Errors
    ///
    /// As [`submit`](Submit::submit): a shut-down error after
    /// [`shutdown`](Executor::shutdown), a broken-executor error after an
    /// initializer failed.
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::ProcessPoolExecutor;
    /// use corun::multiprocessing::remote::{Call, Reply};
    ///
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// corun::multiprocessing::init();
    /// // The sending side: a call as bytes.
    /// let sent = Call::new(square, &7).unwrap().with_id(1).to_bytes().unwrap();
    /// // The side that runs it (the same binary): a reply as bytes.
    /// let pool = ProcessPoolExecutor::builder().max_workers(1).build().unwrap();
    /// let reply = pool.submit_call(Call::from_bytes(sent).unwrap()).unwrap();
    /// let back = reply.result().unwrap().to_bytes();
    /// // The sending side again.
    /// let reply = Reply::from_bytes(&back).unwrap();
    /// assert_eq!(reply.id(), 1);
    /// assert_eq!(reply.decode::<u64>().unwrap(), 49);
    /// ```
    pub fn submit_call(&self, call: Call) -> Result<Task<Reply>, Error> {
        self.engine.submit_call(call, || "call".to_owned())
    }
}

impl Executor for ProcessPoolExecutor {
    fn max_workers(&self) -> usize {
        self.engine.processes()
    }

    fn shutdown(&self, wait: bool, cancel_pending: bool) {
        self.engine.close(cancel_pending);
        if wait {
            self.engine.join();
        }
    }
}

impl<A, R> Submit<fn(A) -> R, A, R> for ProcessPoolExecutor
where
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    fn submit(&self, f: fn(A) -> R, arg: A) -> Result<Task<R>, Error> {
        self.engine
            .submit(Call::new(f, &arg)?, || "submit".to_owned())
    }
}

impl WorkerPoolBuilder<ProcessPoolExecutor> {
    /// The number of worker processes (Python's `max_workers`); default
    /// [`cpu_count`](crate::cpu_count).
    pub fn max_workers(mut self, n: usize) -> Self {
        self.settings.processes = Some(n);
        self
    }

    /// Starts the workers and waits until each is ready.
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`](crate::PoolBuilder::build).
    ///
    /// ```
    /// use corun::multiprocessing::ProcessPoolExecutor;
    /// let err = ProcessPoolExecutor::builder().max_workers(0).build().unwrap_err();
    /// assert!(err.is_invalid_argument());
    /// assert_eq!(err.to_string(), "invalid argument: max_workers must be at least 1");
    /// ```
    pub fn build(self) -> Result<ProcessPoolExecutor, Error> {
        Ok(ProcessPoolExecutor {
            engine: Engine::start(self.settings.into_config("SpawnProcess", "max_workers")?)?,
        })
    }
}

#[cfg(feature = "__test-hooks")]
impl crate::pools::engine::Pipelines for ProcessPoolExecutor {
    fn written_ahead(&self) -> Vec<usize> {
        self.engine.written_ahead()
    }
}

impl fmt::Debug for ProcessPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPoolExecutor")
            .field("engine", &self.engine)
            .finish()
    }
}
