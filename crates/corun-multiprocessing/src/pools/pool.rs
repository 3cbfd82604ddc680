//! `Pool`: Python's `multiprocessing.Pool`.

use std::fmt;

use corun_concurrent::{Error, Task};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pools::engine::Engine;
use crate::pools::imap::Imap;
use crate::pools::settings::WorkerPoolBuilder;
use crate::workers::worker::Call;

/// A pool of worker processes that runs plain functions (Python's
/// `multiprocessing.Pool`).
///
/// Functions are `fn` items whose argument and result are serde types;
/// they run in worker processes that re-execute this program (call
/// [`init`](crate::init) first in `main`). Results come back in input
/// order from [`map`](Self::map), [`starmap`](Self::starmap) and
/// [`imap`](Self::imap), in completion order from
/// [`imap_unordered`](Self::imap_unordered), or as a [`Task`] from
/// [`apply_async`](Self::apply_async).
///
/// Beyond Python: a worker that dies (abort, segfault, `exit`, a signal)
/// fails only the task it was running, with an error saying how it died,
/// and is replaced — Python's `Pool` waits forever for that task. A task
/// can be given a deadline ([`PoolBuilder::task_timeout`]) after which its
/// worker is killed and replaced, and workers a memory limit
/// ([`PoolBuilder::memory_limit`]) past which a task's allocation fails it
/// and replaces its worker. A task stays pending, and can be cancelled,
/// until a worker begins it; no task waits behind a running one while a
/// worker is idle.
///
/// Dropping a pool closes it and waits for the queued work (Python's
/// `with Pool()` terminates instead: call [`terminate`](Self::terminate)
/// for that).
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::Pool;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// corun::multiprocessing::init();
/// let pool = Pool::builder().processes(2).build().unwrap();
/// assert_eq!(pool.map(square, 0..5).unwrap(), [0, 1, 4, 9, 16]);
/// assert_eq!(pool.apply(square, 12).unwrap(), 144);
/// ```
pub struct Pool {
    engine: Engine,
}

/// Configures a [`Pool`]: its size ([`processes`](PoolBuilder::processes))
/// here, the options it shares with [`ProcessPoolBuilder`](crate::ProcessPoolBuilder)
/// on [`WorkerPoolBuilder`].
pub type PoolBuilder = WorkerPoolBuilder<Pool>;

impl Pool {
    /// A pool of [`cpu_count`](crate::cpu_count) workers.
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder for the pool's size, initializer and limits.
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    /// The number of worker processes.
    pub fn processes(&self) -> usize {
        self.engine.processes()
    }

    /// The pids of the worker processes alive now.
    pub fn pids(&self) -> Vec<u32> {
        self.engine.pids()
    }

    /// Runs `f(arg)` in a worker and waits for its result (Python's
    /// `apply`).
    ///
    /// # Errors
    ///
    /// [`Error::is_panic`] with the message when `f` panicked;
    /// [`Error::is_worker_died`] when its worker died running it;
    /// [`Error::is_timeout`] past the pool's task time-out;
    /// [`Error::is_serialization`] when the argument or result does not
    /// cross; [`Error::is_shutdown`] after `close` or `terminate`.
    pub fn apply<A, R>(&self, f: fn(A) -> R, arg: A) -> Result<R, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.apply_async(f, arg)?.result()
    }

    /// Queues `f(arg)` and returns its task at once (Python's
    /// `apply_async`); the task can be waited on, awaited, given
    /// callbacks, or cancelled while it waits.
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`] when `arg` does not encode;
    /// [`Error::is_shutdown`] after `close` or `terminate`;
    /// [`Error::is_broken`] when a replacement worker's initializer failed.
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::Pool;
    ///
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let pool = Pool::builder().processes(1).build().unwrap();
    /// let tasks: Vec<_> = (0..3).map(|i| pool.apply_async(double, i).unwrap()).collect();
    /// let results: Vec<i32> = tasks.into_iter().map(|t| t.result().unwrap()).collect();
    /// assert_eq!(results, [0, 2, 4]);
    /// ```
    pub fn apply_async<A, R>(&self, f: fn(A) -> R, arg: A) -> Result<Task<R>, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.engine
            .submit(Call::new(f, &arg)?, || "apply".to_owned())
    }

    /// Applies `f` to every item and returns the results in input order
    /// (Python's `map`), sending the items in chunks of an automatic size:
    /// `len / (16 × processes)`, rounded up — Python's formula has 4 where
    /// this has 16, since a call costs far less here, and smaller chunks
    /// keep every worker busy to the end when items vary in size.
    ///
    /// # Errors
    ///
    /// The first failure in input order (as [`apply`](Self::apply)); the
    /// chunks not started yet are then cancelled.
    pub fn map<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let items: Vec<A> = items.into_iter().collect();
        let chunksize = auto_chunksize(items.len(), self.processes());
        self.map_chunked(f, items, chunksize)
    }

    /// [`map`](Self::map) with chunks of `chunksize` items (Python's
    /// `map(func, iterable, chunksize)`).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map); [`Error::is_invalid_argument`] for a
    /// `chunksize` of 0.
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::Pool;
    ///
    /// fn inc(x: u32) -> u32 {
    ///     x + 1
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let pool = Pool::builder().processes(2).build().unwrap();
    /// assert_eq!(pool.map_chunked(inc, 0..10, 3).unwrap(), (1..11).collect::<Vec<_>>());
    /// assert!(pool.map_chunked(inc, 0..10, 0).unwrap_err().is_invalid_argument());
    /// ```
    pub fn map_chunked<A, R>(
        &self,
        f: fn(A) -> R,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Vec<R>, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        check_chunksize(chunksize)?;
        // Encoded straight from slices of the input: no copy per chunk (and
        // collecting a `Vec` reuses it).
        let items: Vec<A> = items.into_iter().collect();
        let mut tasks = Vec::new();
        for chunk in items.chunks(chunksize) {
            let submitted = Call::batch(f, chunk).and_then(|call| {
                let n = tasks.len();
                self.engine
                    .submit::<Vec<R>>(call, || format!("map chunk {n}"))
            });
            match submitted {
                Ok(task) => tasks.push(task),
                Err(e) => return Err(cancel_all(tasks, e)),
            }
        }
        gather(tasks, items.len())
    }

    /// Applies a two-argument `f` to every pair (Python's `starmap`), in
    /// chunks as [`map`](Self::map).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::Pool;
    ///
    /// fn power(base: u64, exp: u32) -> u64 {
    ///     base.pow(exp)
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let pool = Pool::builder().processes(2).build().unwrap();
    /// assert_eq!(pool.starmap(power, [(2, 3), (3, 2), (10, 0)]).unwrap(), [8, 9, 1]);
    /// ```
    pub fn starmap<A, B, R>(
        &self,
        f: fn(A, B) -> R,
        items: impl IntoIterator<Item = (A, B)>,
    ) -> Result<Vec<R>, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        B: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let items: Vec<(A, B)> = items.into_iter().collect();
        let chunksize = auto_chunksize(items.len(), self.processes());
        let mut tasks = Vec::new();
        for chunk in items.chunks(chunksize) {
            let submitted = Call::star_batch(f, chunk).and_then(|call| {
                let n = tasks.len();
                self.engine
                    .submit::<Vec<R>>(call, || format!("starmap chunk {n}"))
            });
            match submitted {
                Ok(task) => tasks.push(task),
                Err(e) => return Err(cancel_all(tasks, e)),
            }
        }
        gather(tasks, items.len())
    }

    /// Applies `f` to the items lazily, yielding results in input order
    /// (Python's `imap`, chunk size 1): items are read as results are
    /// taken, with a bounded number in flight.
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::Pool;
    ///
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let pool = Pool::builder().processes(2).build().unwrap();
    /// let first: Vec<u64> = pool.imap(square, 0..).take(4).map(Result::unwrap).collect();
    /// assert_eq!(first, [0, 1, 4, 9]);
    /// ```
    pub fn imap<A, R, I>(&self, f: fn(A) -> R, items: I) -> Imap<'_, A, R, I::IntoIter>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        Imap::new(&self.engine, f, items.into_iter(), 1, true)
    }

    /// [`imap`](Self::imap) with chunks of `chunksize` items.
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_argument`] for a `chunksize` of 0.
    pub fn imap_chunked<A, R, I>(
        &self,
        f: fn(A) -> R,
        items: I,
        chunksize: usize,
    ) -> Result<Imap<'_, A, R, I::IntoIter>, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        check_chunksize(chunksize)?;
        Ok(Imap::new(
            &self.engine,
            f,
            items.into_iter(),
            chunksize,
            true,
        ))
    }

    /// As [`imap`](Self::imap), yielding results as they complete (Python's
    /// `imap_unordered`).
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::Pool;
    ///
    /// fn square(x: u64) -> u64 {
    ///     x * x
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let pool = Pool::builder().processes(2).build().unwrap();
    /// let mut all: Vec<u64> = pool.imap_unordered(square, 0..5).map(Result::unwrap).collect();
    /// all.sort();
    /// assert_eq!(all, [0, 1, 4, 9, 16]);
    /// ```
    pub fn imap_unordered<A, R, I>(&self, f: fn(A) -> R, items: I) -> Imap<'_, A, R, I::IntoIter>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        Imap::new(&self.engine, f, items.into_iter(), 1, false)
    }

    /// Takes no more work; the work queued still runs (Python's `close`).
    pub fn close(&self) {
        self.engine.close(false);
    }

    /// Stops at once (Python's `terminate`): every worker is killed, and
    /// every task not finished fails with a shut-down error — none is left
    /// waiting forever.
    pub fn terminate(&self) {
        self.engine.terminate();
    }

    /// Waits for the workers to exit, after [`close`](Self::close) or
    /// [`terminate`](Self::terminate) (Python's `join`).
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_argument`] while the pool is still running
    /// (Python: `ValueError`).
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::Pool;
    ///
    /// fn one(_: ()) -> u8 {
    ///     1
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let pool = Pool::builder().processes(1).build().unwrap();
    /// assert!(pool.join().unwrap_err().is_invalid_argument());
    /// let task = pool.apply_async(one, ()).unwrap();
    /// pool.close();
    /// assert!(pool.apply(one, ()).unwrap_err().is_shutdown());
    /// pool.join().unwrap();
    /// assert_eq!(task.result().unwrap(), 1);
    /// assert!(pool.pids().is_empty());
    /// ```
    pub fn join(&self) -> Result<(), Error> {
        if !self.engine.is_closed() {
            return Err(Error::invalid_argument("the pool is still running"));
        }
        self.engine.join();
        Ok(())
    }
}

impl WorkerPoolBuilder<Pool> {
    /// The number of worker processes (Python's `processes`); default
    /// [`cpu_count`](crate::cpu_count).
    pub fn processes(mut self, n: usize) -> Self {
        self.settings.processes = Some(n);
        self
    }

    /// Starts the workers and waits until each is ready (its initializer
    /// done).
    ///
    /// # Errors
    ///
    /// [`Error::is_invalid_argument`] for 0 processes or another value out
    /// of range; [`Error::is_broken`] when a worker cannot be started or
    /// its initializer panics (every worker started is killed);
    /// [`Error::is_serialization`] for an initializer argument that does
    /// not encode.
    ///
    /// ```
    /// use corun::multiprocessing::Pool;
    /// assert!(Pool::builder().processes(0).build().unwrap_err().is_invalid_argument());
    /// ```
    pub fn build(self) -> Result<Pool, Error> {
        let engine = Engine::start(self.settings.into_config("SpawnPoolWorker", "processes")?)?;
        Ok(Pool { engine })
    }
}

/// Chunks per process that `map` aims for when it picks the chunk size.
/// Python aims for 4, as each of its calls costs tens of microseconds; a
/// call here costs a few, so smaller chunks cost little, and they balance
/// the end of a map whose items vary in size: with 4 chunks per process,
/// 200 items of heavy-tailed sizes took 1.12 × rayon's time, against
/// rayon's own on all other modes.
const CHUNKS_PER_PROCESS: usize = 16;

/// The automatic chunk size: `len / (16 × processes)`, rounded up, at
/// least 1 (Python's formula, with 16 chunks per process for its 4).
pub(crate) fn auto_chunksize(len: usize, processes: usize) -> usize {
    len.div_ceil(processes.saturating_mul(CHUNKS_PER_PROCESS).max(1))
        .max(1)
}

fn check_chunksize(chunksize: usize) -> Result<(), Error> {
    if chunksize == 0 {
        return Err(Error::invalid_argument("chunksize must be at least 1"));
    }
    Ok(())
}

/// Cancels the chunks not started, and hands back `error`.
fn cancel_all<R>(tasks: Vec<Task<R>>, error: Error) -> Error {
    for task in &tasks {
        task.cancel();
    }
    error
}

/// Waits for the chunks in order and concatenates them; at the first
/// failure, cancels the rest.
fn gather<R>(tasks: Vec<Task<Vec<R>>>, total: usize) -> Result<Vec<R>, Error> {
    let mut results = Vec::with_capacity(total);
    let mut tasks = tasks.into_iter();
    while let Some(task) = tasks.next() {
        match task.result() {
            Ok(chunk) => results.extend(chunk),
            Err(e) => return Err(cancel_all(tasks.collect(), e)),
        }
    }
    Ok(results)
}

#[cfg(feature = "__test-hooks")]
impl crate::pools::engine::Pipelines for Pool {
    fn written_ahead(&self) -> Vec<usize> {
        self.engine.written_ahead()
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("closed", &self.engine.is_closed())
            .field("engine", &self.engine)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Python: chunksize, extra = divmod(len, 4 * processes); +1 if extra —
    // with 16 for Python's 4.
    #[test]
    fn chunksize_is_pythons_with_more_chunks() {
        assert_eq!(auto_chunksize(0, 2), 1);
        assert_eq!(auto_chunksize(1, 2), 1);
        assert_eq!(auto_chunksize(32, 2), 1);
        assert_eq!(auto_chunksize(33, 2), 2);
        assert_eq!(auto_chunksize(200, 2), 7);
        assert_eq!(auto_chunksize(2_000_000, 2), 62_500);
        assert_eq!(auto_chunksize(10, 0), 10);
    }
}
