//! `ThreadPoolExecutor`: Python's `concurrent.futures.ThreadPoolExecutor`.
//!
//! Jobs go through one unbounded crossbeam channel, as Python's go through a
//! `SimpleQueue`. What is queued is the task's own allocation, which holds
//! the function and its argument beside the task's state, so a submission
//! costs one allocation (see `Task::with_payload`). Workers start lazily, one per submission that finds no idle
//! worker, up to `max_workers`. A job runs its function under
//! `catch_unwind`, so a panic fails that task and the worker goes on. A
//! failing initializer breaks the pool: it closes the channel, fails every
//! queued task with a broken-executor error, and refuses later submissions;
//! no worker is restarted, so nothing loops.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::thread::{JoinHandle, ThreadId};
use std::time::Instant;

use corun_threading::threading::Condition;
use crossbeam_channel::{Receiver, Select};
use parking_lot::Mutex;

use crate::error::Error;
use crate::executor::{Executor, Submit};
use crate::help::{self, Helped, Helper};
use crate::intake::Intake;
use crate::observer::{Observer, Outcome, TaskId};
use crate::task::{Promise, Shared, Task};

/// How many times an idle worker yields, looking for work, before it
/// sleeps.
const IDLE_YIELDS: usize = 16;

/// Numbers pools for their default thread names, as Python does.
static POOL_COUNTER: AtomicUsize = AtomicUsize::new(0);

type Initializer = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A pool of threads that runs submitted functions (Python's
/// `concurrent.futures.ThreadPoolExecutor`).
///
/// Threads give parallelism for CPU-bound Rust code (there is no GIL) and
/// overlap for blocking I/O. A running task cannot be stopped from outside:
/// use a [`CancelToken`](crate::CancelToken) it polls, or a process pool,
/// which can kill a worker.
///
/// # Waiting inside the pool
///
/// A task may submit sub-tasks to its own pool and wait for them, even on
/// a single worker (Python's pool deadlocks there, and its docs warn of
/// it): a pool thread that blocks on a task — [`Task::result`],
/// [`Task::wait`] and their time-out forms, [`wait`](crate::wait()),
/// [`as_completed`](crate::as_completed()), [`map`](Executor::map) — runs the
/// pool's queued tasks while it waits, as a rayon thread does in `join`.
/// A cancelled task is skipped, and after [`shutdown`](Executor::shutdown)
/// the waiting thread runs what is still queued only if the shutdown left
/// it there.
///
/// Two waits still deadlock: a wait on anything other than a task (a lock,
/// a `corun::threading::Event`, a queue) for something
/// only a queued task will do, since nothing runs meanwhile; and a queued
/// task that needs a lock the waiting task holds, since it runs on the
/// waiting task's thread, under it. A wait with a time-out returns late by
/// the rest of the task it was running when the time ran out.
///
/// ```
/// use corun::concurrent::ThreadPoolExecutor;
/// use std::sync::Arc;
///
/// let pool = Arc::new(ThreadPoolExecutor::builder().max_workers(1).build().unwrap());
/// let inner = Arc::clone(&pool);
/// let outer = pool.spawn(move || {
///     let halves: Vec<_> = [1_u64, 2].map(|x| inner.spawn(move || x * 10).unwrap()).into();
///     halves.into_iter().map(|t| t.result().unwrap()).sum::<u64>()
/// });
/// assert_eq!(outer.unwrap().result().unwrap(), 30);
/// ```
///
/// # Examples
///
/// ```
/// use corun::concurrent::{Executor, Submit, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(4)
///     .thread_name_prefix("squares")
///     .build()
///     .unwrap();
/// let one = pool.submit(|x: u64| x * x, 12).unwrap();
/// assert_eq!(one.result().unwrap(), 144);
/// let all: Vec<u64> = pool.map(|x: u64| x * x, 1..=5).map(Result::unwrap).collect();
/// assert_eq!(all, [1, 4, 9, 16, 25]);
/// pool.shutdown(true, false);
/// ```
pub struct ThreadPoolExecutor {
    inner: Arc<Inner>,
}

/// Configures a [`ThreadPoolExecutor`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
    recorder: Option<Arc<dyn Observer>>,
}

struct Inner {
    max_workers: usize,
    prefix: String,
    initializer: Option<Initializer>,
    /// Off unless the builder was given one; then every task's submission,
    /// start (on its worker's lane) and outcome are recorded.
    recorder: Option<Arc<dyn Observer>>,
    /// The queue of jobs, open until shut down or broken.
    intake: Intake<Job>,
    /// Workers not yet joined.
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// Workers whose loop has not ended yet: what `shutdown(wait)` waits
    /// for when another shutdown took the handles to join. Pushed while
    /// held across the spawn, so a worker never leaves before it is in.
    live: Condition<Vec<ThreadId>>,
    spawned: AtomicUsize,
    /// Workers waiting for a job (or about to) minus jobs queued for them:
    /// each worker adds one before it takes a job, each submission takes
    /// one away, so a submission that finds it at zero or below has no
    /// worker waiting for its job.
    idle: AtomicIsize,
    /// Numbers recorded tasks' labels.
    submissions: AtomicUsize,
}

/// One queued submission: the task's own allocation, which also holds the
/// work (see [`Task::with_payload`]), so a submission allocates once. A job
/// dropped without being run fails its task rather than leave it pending.
struct Job(Option<Arc<dyn Runnable>>);

/// A task with its work beside it, told at dequeue time what to do.
trait Runnable: Send + Sync {
    fn run(self: Arc<Self>, fate: Fate);
}

/// The work of one submission; taken out exactly once, by [`Runnable::run`].
struct Work<F, A> {
    f: F,
    arg: A,
    trace: Option<(Arc<dyn Observer>, TaskId)>,
}

type WorkCell<F, A> = Mutex<Option<Work<F, A>>>;

enum Fate {
    Run,
    Cancel,
    Fail(Error),
}

impl ThreadPoolExecutor {
    /// A pool with Python's defaults: `min(32, cpus + 4)` workers.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder for the pool's size, thread names and initializer.
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder {
            max_workers: None,
            prefix: None,
            initializer: None,
            recorder: None,
        }
    }

    /// Runs a closure on the pool: [`Submit::submit`] for work that takes
    /// no argument.
    ///
    /// # Errors
    ///
    /// As [`Submit::submit`].
    ///
    /// ```
    /// let pool = corun::concurrent::ThreadPoolExecutor::new();
    /// assert_eq!(pool.spawn(|| "hi").unwrap().result().unwrap(), "hi");
    /// ```
    pub fn spawn<R, F>(&self, f: F) -> Result<Task<R>, Error>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(move |()| f(), ())
    }

    /// The number of worker threads started so far.
    pub fn workers(&self) -> usize {
        self.inner.spawned.load(Ordering::Acquire)
    }
}

impl Inner {
    /// Counts one more job and starts a worker for it unless a waiting
    /// worker will take it or the pool is full. Each waiting worker is
    /// counted against one job only (as Python's idle semaphore is acquired
    /// once per submission), so jobs submitted back to back while one
    /// worker waits get workers of their own.
    fn maybe_spawn(self: &Arc<Self>) -> Result<(), Error> {
        if self.idle.fetch_sub(1, Ordering::AcqRel) > 0
            || self.spawned.load(Ordering::Acquire) >= self.max_workers
        {
            return Ok(());
        }
        let mut workers = self.workers.lock();
        let index = self.spawned.load(Ordering::Acquire);
        if index >= self.max_workers {
            return Ok(());
        }
        let inner = Arc::clone(self);
        let mut live = self.live.acquire();
        let spawned = std::thread::Builder::new()
            .name(format!("{}_{index}", self.prefix))
            .spawn(move || inner.work());
        match spawned {
            Ok(handle) => {
                live.push(handle.thread().id());
                workers.push(handle);
                self.spawned.store(index + 1, Ordering::Release);
                Ok(())
            }
            // With other workers alive the job will still run.
            Err(_) if index > 0 => Ok(()),
            Err(e) => Err(Error::broken(format!(
                "could not start a worker thread: {e}"
            ))),
        }
    }

    /// A worker's life: the initializer, then jobs until the channel closes.
    fn work(self: Arc<Self>) {
        let _leaving = Leaving(&self);
        if let Some(init) = &self.initializer {
            let outcome = catch_unwind(AssertUnwindSafe(|| init()))
                .unwrap_or_else(|payload| Err(Error::from_panic(&*payload).to_string()));
            if let Err(why) = outcome {
                self.break_pool(Error::broken(format!("initializer failed: {why}")));
                return;
            }
        }
        // While this thread waits on a task, it runs the pool's queued
        // tasks (see `help.rs`).
        let _helping = help::register(Arc::clone(&self) as Arc<dyn Helper>);
        loop {
            self.idle.fetch_add(1, Ordering::AcqRel);
            let Some(job) = self.next_job() else {
                return; // shut down and drained
            };
            self.run_job(job);
        }
    }

    /// Runs a job taken from the queue, or fails it if the pool broke.
    fn run_job(&self, job: Job) {
        if let Some(error) = self.intake.broken() {
            job.run(Fate::Fail(error.clone()));
        } else {
            job.run(Fate::Run);
        }
    }

    /// The next job; `None` once the pool is shut down and drained. An
    /// idle worker yields the CPU a few times, looking for work between
    /// yields, before it sleeps, as rayon's workers do: jobs that come in a
    /// stream then find it awake, and the submitter pays no wake-up call.
    fn next_job(&self) -> Option<Job> {
        for _ in 0..IDLE_YIELDS {
            match self.intake.try_recv() {
                Ok(Some(job)) => return Some(job),
                Ok(None) => std::thread::yield_now(),
                Err(()) => return None,
            }
        }
        self.intake.recv()
    }

    /// Marks the pool broken, closes it, and fails everything queued.
    fn break_pool(&self, error: Error) {
        let (error, queued) = self.intake.break_with(error);
        for job in queued {
            job.run(Fate::Fail(error.clone()));
        }
    }
}

impl Helper for Inner {
    /// Runs the next queued job, as the worker loop would, in a worker that
    /// waits on a task.
    fn help_once(&self, bell: &Receiver<()>, deadline: Option<Instant>) -> Helped {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Helped::Stop;
        }
        let job = match self.intake.try_recv() {
            Ok(Some(job)) => job,
            Err(()) => return Helped::Stop, // shut down and drained
            Ok(None) => {
                let jobs = self.intake.receiver();
                let mut select = Select::new();
                let job_ready = select.recv(jobs);
                select.recv(bell);
                let ready = match deadline {
                    Some(deadline) => match select.select_deadline(deadline) {
                        Ok(ready) => ready,
                        Err(_) => return Helped::Stop,
                    },
                    None => select.select(),
                };
                if ready.index() != job_ready {
                    let _ = ready.recv(bell);
                    return Helped::Rang;
                }
                match ready.recv(jobs) {
                    Ok(job) => job,
                    Err(_) => return Helped::Stop,
                }
            }
        };
        // The submission counted the job against an idle worker (see
        // `idle`); none took it, so that worker is still idle.
        self.idle.fetch_add(1, Ordering::AcqRel);
        self.run_job(job);
        Helped::Ran
    }
}

/// Takes a worker out of [`Inner::live`] when its loop ends, however it
/// ends.
struct Leaving<'a>(&'a Inner);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let me = std::thread::current().id();
        let mut live = self.0.live.acquire();
        live.retain(|id| *id != me);
        live.notify_all();
    }
}

impl Default for ThreadPoolExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl Executor for ThreadPoolExecutor {
    fn max_workers(&self) -> usize {
        self.inner.max_workers
    }

    fn shutdown(&self, wait: bool, cancel_pending: bool) {
        // Closing the intake lets each worker exit once it is drained.
        for job in self.inner.intake.close(cancel_pending) {
            job.run(Fate::Cancel);
        }
        if wait {
            let handles = std::mem::take(&mut *self.inner.workers.lock());
            let me = std::thread::current().id();
            for handle in handles {
                // A task that shuts down its own pool must not join itself.
                if handle.thread().id() != me {
                    let _ = handle.join();
                }
            }
            // A shutdown in another thread may have taken (some of) the
            // handles: wait, as it does, until every worker but this thread
            // has ended.
            self.inner
                .live
                .acquire()
                .wait_for(|live| live.iter().all(|id| *id == me));
        }
    }
}

impl<F, A, R> Submit<F, A, R> for ThreadPoolExecutor
where
    F: FnOnce(A) -> R + Send + 'static,
    A: Send + 'static,
    R: Send + 'static,
{
    fn submit(&self, f: F, arg: A) -> Result<Task<R>, Error> {
        self.inner.intake.check_open()?;
        self.inner.maybe_spawn()?;
        let trace = self.inner.recorder.as_ref().map(|recorder| {
            let n = self.inner.submissions.fetch_add(1, Ordering::Relaxed);
            let label = format!("task {n}");
            (Arc::clone(recorder), recorder.submitted(label.into()))
        });
        let work: WorkCell<F, A> = Mutex::new(Some(Work { f, arg, trace }));
        let (task, shared) = Task::with_payload(work);
        self.inner.intake.submit(Job(Some(shared)))?;
        Ok(task)
    }
}

impl Job {
    fn run(mut self, fate: Fate) {
        if let Some(runnable) = self.0.take() {
            runnable.run(fate);
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(runnable) = self.0.take() {
            runnable.run(Fate::Fail(Error::broken(
                "the executor dropped a queued task",
            )));
        }
    }
}

impl<F, A, R> Runnable for Shared<R, WorkCell<F, A>>
where
    F: FnOnce(A) -> R + Send + 'static,
    A: Send + 'static,
    R: Send + 'static,
{
    fn run(self: Arc<Self>, fate: Fate) {
        let Some(Work { f, arg, trace }) = self.payload.lock().take() else {
            return; // already run
        };
        let promise = Promise::new(self);
        match fate {
            Fate::Run => {
                if promise.start() {
                    if let Some((recorder, id)) = &trace {
                        recorder.started(*id, None);
                    }
                    let result = catch_unwind(AssertUnwindSafe(|| f(arg)))
                        .map_err(|payload| Error::from_panic(&*payload));
                    if let Some((recorder, id)) = &trace {
                        let outcome = match &result {
                            Ok(_) => Outcome::Ok,
                            Err(_) => Outcome::Panicked,
                        };
                        recorder.finished(*id, outcome);
                    }
                    promise.complete(result);
                } else if let Some((recorder, id)) = &trace {
                    recorder.finished(*id, Outcome::Cancelled);
                }
            }
            Fate::Cancel => {
                promise.cancel();
                if let Some((recorder, id)) = &trace {
                    recorder.finished(*id, Outcome::Cancelled);
                }
            }
            Fate::Fail(error) => {
                if promise.start() {
                    promise.complete(Err(error));
                }
                if let Some((recorder, id)) = &trace {
                    recorder.finished(*id, Outcome::Failed);
                }
            }
        }
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl ThreadPoolBuilder {
    /// The most threads the pool starts (Python's `max_workers`); default
    /// `min(32, cpus + 4)`.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Names the threads `{prefix}_{i}` (default, and for an empty
    /// prefix as in Python, `ThreadPoolExecutor-N`).
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into()).filter(|p: &String| !p.is_empty());
        self
    }

    /// A function each worker runs before its first task (Python's
    /// `initializer`). If it returns an error or panics, the pool is
    /// broken: queued tasks fail, and later submissions are refused.
    ///
    /// ```
    /// use corun::concurrent::ThreadPoolExecutor;
    /// let pool = ThreadPoolExecutor::builder()
    ///     .initializer(|| Err("no database".to_owned()))
    ///     .build()
    ///     .unwrap();
    /// // The first submission starts a worker, whose initializer fails: the
    /// // task fails, or the submission itself if the pool broke first.
    /// let err = match pool.spawn(|| 1) {
    ///     Ok(task) => task.result().unwrap_err(),
    ///     Err(e) => e,
    /// };
    /// assert!(err.is_broken() && err.to_string().contains("no database"));
    /// # while pool.spawn(|| 0).is_ok() {} // the break lands
    /// assert!(pool.spawn(|| 2).unwrap_err().is_broken());
    /// ```
    pub fn initializer<E: fmt::Display>(
        mut self,
        init: impl Fn() -> Result<(), E> + Send + Sync + 'static,
    ) -> Self {
        self.initializer = Some(Arc::new(move || init().map_err(|e| e.to_string())));
        self
    }

    /// Reports every task to `recorder` (off by default), any
    /// [`Observer`]: with `corun::trace::Recorder`, export the timeline as
    /// Chrome trace JSON or an SVG timing diagram, one lane per worker
    /// thread.
    ///
    /// ```
    /// use corun::concurrent::ThreadPoolExecutor;
    /// use corun::trace::Recorder;
    /// let recorder = Recorder::new();
    /// let pool = ThreadPoolExecutor::builder().max_workers(2).recorder(recorder.clone()).build().unwrap();
    /// for i in 0..4 {
    ///     pool.spawn(move || i).unwrap().result().unwrap();
    /// }
    /// let timeline = recorder.timeline();
    /// assert_eq!(timeline.tasks().len(), 4);
    /// assert!(timeline.to_svg("pool").starts_with("<svg"));
    /// ```
    pub fn recorder(mut self, recorder: impl Observer) -> Self {
        self.recorder = Some(Arc::new(recorder));
        self
    }

    /// Builds the pool; no thread starts until the first submission.
    ///
    /// # Errors
    ///
    /// `max_workers(0)` is an invalid argument (Python: `ValueError`).
    ///
    /// ```
    /// let err = corun::concurrent::ThreadPoolExecutor::builder().max_workers(0).build();
    /// assert!(err.unwrap_err().is_invalid_argument());
    /// ```
    pub fn build(self) -> Result<ThreadPoolExecutor, Error> {
        let max_workers = match self.max_workers {
            Some(0) => {
                return Err(Error::invalid_argument(
                    "max_workers must be greater than 0",
                ));
            }
            Some(n) => n,
            None => default_max_workers(),
        };
        let prefix = self.prefix.unwrap_or_else(|| {
            format!(
                "ThreadPoolExecutor-{}",
                POOL_COUNTER.fetch_add(1, Ordering::Relaxed)
            )
        });
        Ok(ThreadPoolExecutor {
            inner: Arc::new(Inner {
                max_workers,
                prefix,
                initializer: self.initializer,
                recorder: self.recorder,
                intake: Intake::new(),
                workers: Mutex::new(Vec::new()),
                live: Condition::new(Vec::new()),
                spawned: AtomicUsize::new(0),
                idle: AtomicIsize::new(0),
                submissions: AtomicUsize::new(0),
            }),
        })
    }
}

/// Python 3.13's default: `min(32, cpus + 4)`.
fn default_max_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    (cpus + 4).min(32)
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolExecutor")
            .field("prefix", &self.inner.prefix)
            .field("max_workers", &self.inner.max_workers)
            .field("workers", &self.workers())
            .field("queued", &self.inner.intake.len())
            .field("shut_down", &self.inner.intake.is_closed())
            .field("broken", &self.inner.intake.broken())
            .finish()
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("prefix", &self.prefix)
            .field("has_initializer", &self.initializer.is_some())
            .field("recording", &self.recorder.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(arg: u8) -> (Task<u8>, Job) {
        let work: WorkCell<fn(u8) -> u8, u8> = Mutex::new(Some(Work {
            f: |x| x + 1,
            arg,
            trace: None,
        }));
        let (task, shared) = Task::with_payload(work);
        (task, Job(Some(shared)))
    }

    #[test]
    fn a_job_dropped_unrun_fails_its_task() {
        let (task, job) = job(1);
        drop(job);
        let err = task.result().unwrap_err();
        assert!(err.is_broken(), "{err}");
    }

    #[test]
    fn a_job_runs_its_work_once() {
        let (task, job) = job(1);
        let Job(Some(runnable)) = &job else {
            unreachable!()
        };
        let again = Arc::clone(runnable);
        job.run(Fate::Run);
        again.run(Fate::Fail(Error::broken("too late")));
        assert_eq!(task.result().unwrap(), 2);
    }

    #[test]
    fn a_cancelled_job_never_runs() {
        let (task, job) = job(1);
        assert!(task.cancel());
        job.run(Fate::Run);
        assert!(task.result().unwrap_err().is_cancelled());
    }
}
