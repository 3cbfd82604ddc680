//! Bridges between the loop and corun's executors: work handed to threads
//! and processes awaited on the loop ([`to_thread`], [`run_in_executor`],
//! [`wrap_future`]), and loop work handed to other threads as a
//! `corun::concurrent::Task` ([`run_coroutine_threadsafe`],
//! [`LoopHandle::spawn_threadsafe`], [`Task::into_concurrent`]).
//!
//! # Executor → loop
//!
//! A [`concurrent::Task`](corun_concurrent::Task) is already a `Future`
//! whose waker may fire on any thread: the worker that completes it wakes
//! the awaiting asyncio task, whose waker pushes its step onto the loop's
//! thread-safe inbox. The loop thread never blocks on the task; polling
//! takes the task's lock for a moment, as completing it does.
//! [`WrappedTask`] adds what Python's `wrap_future` chains: when the
//! awaiting asyncio task is cancelled (its future dropped), the concurrent
//! task is cancelled too, which stops it if it has not started.
//!
//! # Loop → other threads
//!
//! An asyncio task of a `Send` output is seen from other threads as a
//! `concurrent::Task`, so `wait`, `as_completed`, blocking `result()` and
//! `.await` on other runtimes work on it as on a thread's or a process's
//! task. Its promise is started with
//! [`Promise::start_cancellable`](corun_concurrent::Promise::start_cancellable):
//! cancelling the view from any thread cancels it at once and asks the
//! loop (through `call_soon_threadsafe`) to cancel the asyncio task, which
//! stops at its next await, running its `Drop` cleanup — Python's
//! `run_coroutine_threadsafe` semantics, cancel-while-running included.
//!
//! # The default executor
//!
//! [`to_thread`] runs on a `corun::concurrent::ThreadPoolExecutor` the loop
//! makes on first use and shuts down when it closes, waiting for the calls
//! still running (Python's default executor, `min(32, cpus + 4)` threads
//! named `asyncio_N`), rather than on tokio's blocking pool: its tasks are
//! the same [`concurrent::Task`](corun_concurrent::Task) as every other
//! executor's (cancel while queued, panics as errors, `wait` and
//! `as_completed`); its size is Python's, not tokio's 512 threads; and
//! closing the loop joins its threads, where tokio's
//! `shutdown_background` would leave blocking threads running behind
//! [`run`](crate::run).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use corun_concurrent::{Promise, Submit, ThreadPoolExecutor};
use corun_core::{Error, ErrorKind};

use crate::event_loop::{EventLoop, running_loop};
use crate::remote::LoopHandle;
use crate::task::Task;

/// A [`concurrent::Task`](corun_concurrent::Task) awaited on the loop
/// (Python: the `asyncio.Future` of `wrap_future`): what [`to_thread`],
/// [`run_in_executor`] and [`wrap_future`] return.
///
/// Awaiting it gives the concurrent task's outcome; the loop thread never
/// blocks meanwhile. Dropping it before it is done — which is what
/// cancelling the asyncio task that awaits it does — cancels the
/// concurrent task, which stops it if it has not started (a running
/// thread cannot be stopped; a running asyncio task seen through
/// [`Task::into_concurrent`] can).
#[must_use = "dropping it cancels the work if it has not started"]
pub struct WrappedTask<T> {
    state: Wrapped<T>,
}

enum Wrapped<T> {
    Waiting(corun_concurrent::Task<T>),
    /// The executor refused the work, or there was no loop to run it on.
    Refused(Error),
    Done,
}

impl<T> WrappedTask<T> {
    fn refused(error: Error) -> Self {
        Self {
            state: Wrapped::Refused(error),
        }
    }

    fn from_submitted(submitted: Result<corun_concurrent::Task<T>, Error>) -> Self {
        match submitted {
            Ok(task) => wrap_future(task),
            Err(error) => Self::refused(error),
        }
    }
}

impl<T> Future for WrappedTask<T> {
    type Output = Result<T, Error>;

    /// The concurrent task's outcome once it is done; after that,
    /// [`AlreadyTaken`](ErrorKind::AlreadyTaken).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let outcome = match &mut this.state {
            Wrapped::Waiting(task) => match Pin::new(task).poll(cx) {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => return Poll::Pending,
            },
            Wrapped::Refused(_) => match std::mem::replace(&mut this.state, Wrapped::Done) {
                Wrapped::Refused(error) => Err(error),
                _ => unreachable!("matched above"),
            },
            Wrapped::Done => Err(ErrorKind::AlreadyTaken.into()),
        };
        this.state = Wrapped::Done;
        Poll::Ready(outcome)
    }
}

impl<T> Drop for WrappedTask<T> {
    fn drop(&mut self) {
        if let Wrapped::Waiting(task) = &self.state {
            // Python's `_call_check_cancel`: the awaiting side is gone.
            task.cancel();
        }
    }
}

impl<T> fmt::Debug for WrappedTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("WrappedTask");
        match &self.state {
            Wrapped::Waiting(task) => out.field("task", task),
            Wrapped::Refused(error) => out.field("refused", error),
            Wrapped::Done => out.field("task", &"taken"),
        };
        out.finish()
    }
}

/// Awaits a `corun::concurrent::Task` on the loop (Python:
/// `asyncio.wrap_future(future)`): a task of any executor — threads,
/// processes, another loop — becomes something an asyncio task can await.
/// Dropping the result before it is done cancels `task` (see
/// [`WrappedTask`]).
///
/// ```
/// use corun::asyncio::{run, wrap_future};
/// use corun::concurrent::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let task = pool.spawn(|| 6 * 7).unwrap();
/// assert_eq!(run(async move { wrap_future(task).await.unwrap() }).unwrap(), 42);
/// ```
pub fn wrap_future<T>(task: corun_concurrent::Task<T>) -> WrappedTask<T> {
    WrappedTask {
        state: Wrapped::Waiting(task),
    }
}

/// Runs `f(arg)` on `executor` — a `ThreadPoolExecutor`, a
/// `corun::multiprocessing::ProcessPoolExecutor`, any executor that can run
/// `F` — and awaits it on the loop (Python:
/// `loop.run_in_executor(executor, func, arg)`).
///
/// The work starts now; the await gives its outcome, as the executor's
/// task would (a process that dies fails only this await, with
/// [`WorkerDied`](ErrorKind::WorkerDied)). If the executor refuses the
/// work (shut down, broken), the await gives that error. Cancelling the
/// awaiting asyncio task cancels the work if it has not started.
///
/// ```
/// use corun::asyncio::{run, run_in_executor};
/// use corun::concurrent::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let n = run(async move { run_in_executor(&pool, |x: u64| x * x, 12).await.unwrap() });
/// assert_eq!(n.unwrap(), 144);
/// ```
pub fn run_in_executor<E, F, A, R>(executor: &E, f: F, arg: A) -> WrappedTask<R>
where
    E: Submit<F, A, R>,
{
    WrappedTask::from_submitted(executor.submit(f, arg))
}

/// Runs `f` on the running loop's default thread pool and awaits it
/// (Python: `asyncio.to_thread(func)`), so blocking code does not stop the
/// loop.
///
/// The pool is a `corun::concurrent::ThreadPoolExecutor` of Python's size
/// (`min(32, cpus + 4)` threads), made on first use and shut down when
/// the loop closes, which waits for calls still running. A panic in `f`
/// is the await's [`Panicked`](ErrorKind::Panicked) error.
///
/// ```
/// use corun::asyncio::{run, to_thread};
///
/// let (a, b) = run(async {
///     let a = to_thread(|| std::thread::current().name().map(str::to_owned));
///     let b = to_thread(|| 2 + 2);
///     (a.await.unwrap(), b.await.unwrap())
/// })
/// .unwrap();
/// assert!(a.unwrap().starts_with("asyncio"));
/// assert_eq!(b, 4);
/// ```
///
/// Outside a running loop the await gives
/// [`InvalidState`](ErrorKind::InvalidState) (Python raises
/// `RuntimeError: no running event loop`); [`EventLoop::to_thread`] names
/// the loop instead.
pub fn to_thread<F, R>(f: F) -> WrappedTask<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match running_loop() {
        Some(event_loop) => event_loop.to_thread(f),
        None => WrappedTask::refused(Error::new(
            ErrorKind::InvalidState,
            "corun::asyncio::to_thread needs a running event loop",
        )),
    }
}

/// Schedules `future` on the loop behind `handle`, from any thread, and
/// returns its `corun::concurrent::Task` (Python:
/// `asyncio.run_coroutine_threadsafe(coro, loop)`); see
/// [`LoopHandle::spawn_threadsafe`], which also takes futures that are
/// not `Send`.
///
/// ```
/// use corun::asyncio::{EventLoop, run_coroutine_threadsafe};
///
/// let event_loop = EventLoop::new().unwrap();
/// let handle = event_loop.handle();
/// let other = std::thread::spawn(move || {
///     let task = run_coroutine_threadsafe(async { "from the loop" }, &handle);
///     let answer = task.result(); // blocks this thread, not the loop
///     handle.stop();
///     answer
/// });
/// event_loop.run_forever().unwrap();
/// assert_eq!(other.join().unwrap().unwrap(), "from the loop");
/// ```
///
/// The loop's own futures ([`sleep`](crate::sleep), tasks) belong to its
/// thread and are not `Send`: make them there with `spawn_threadsafe`.
///
/// ```
/// use corun::asyncio::{EventLoop, sleep};
/// use std::time::Duration;
///
/// let event_loop = EventLoop::new().unwrap();
/// let handle = event_loop.handle();
/// let other = std::thread::spawn(move || {
///     let task = handle.spawn_threadsafe(|| async {
///         sleep(Duration::from_millis(1)).await;
///         "slept on the loop"
///     });
///     let answer = task.result();
///     handle.stop();
///     answer
/// });
/// event_loop.run_forever().unwrap();
/// assert_eq!(other.join().unwrap().unwrap(), "slept on the loop");
/// ```
pub fn run_coroutine_threadsafe<F>(
    future: F,
    handle: &LoopHandle,
) -> corun_concurrent::Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    handle.spawn_threadsafe(move || future)
}

impl LoopHandle {
    /// Makes a task of `make()` on the loop, from any thread, and returns
    /// it as a `corun::concurrent::Task` (Python:
    /// `asyncio.run_coroutine_threadsafe`): `make` runs on the loop's
    /// thread, so the future may hold what cannot cross threads (`Rc`,
    /// loop-bound handles); only `make` and the output must be `Send`.
    ///
    /// The concurrent task is the asyncio task's view (see
    /// [`Task::into_concurrent`]): cancelling it, from any thread, cancels
    /// the asyncio task at its next await — or before it starts, and then
    /// it never runs. If the loop is closed, or closes before the task is
    /// done, the concurrent task fails with a
    /// [`ShutDown`](ErrorKind::ShutDown) error that says so (Python's
    /// future would wait forever); if the loop never runs again, it waits.
    /// On the loop's own thread, await it with [`wrap_future`]: blocking
    /// there on its `result()` would wait for the loop it stops.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    /// use std::rc::Rc;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let handle = event_loop.handle();
    /// event_loop.close().unwrap();
    /// let task = handle.spawn_threadsafe(|| async { *Rc::new(1) });
    /// let err = task.result().unwrap_err();
    /// assert!(err.is_shutdown(), "{err}");
    /// ```
    pub fn spawn_threadsafe<M, F>(&self, make: M) -> corun_concurrent::Task<F::Output>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let (view, promise) = corun_concurrent::Task::pending();
        let pledge = Pledge::new(promise);
        // Refused when the loop is closed: the pledge, dropped with the
        // callback, fails the view; the same if the loop closes before
        // the callback runs.
        let _ = self.call_soon_threadsafe(move || {
            if let Some(event_loop) = running_loop() {
                event_loop.create_task(make()).chain(pledge);
            }
        });
        view
    }
}

impl<T: Send + 'static> Task<T> {
    /// This task as a `corun::concurrent::Task`, for other threads and for
    /// `corun::concurrent::wait` / `as_completed` beside the tasks of
    /// thread and process pools (Python: the future
    /// `run_coroutine_threadsafe` returns, chained to the asyncio task).
    ///
    /// The view is running until the asyncio task is done, then has its
    /// outcome: the value moves to the view, so awaiting the asyncio task
    /// afterwards gives [`AlreadyTaken`](ErrorKind::AlreadyTaken).
    /// Cancelling the view — from any thread, while the asyncio task runs
    /// — makes it cancelled at once and cancels the asyncio task on its
    /// loop at its next await, where its `Drop` cleanup runs. An asyncio
    /// task that ends cancelled makes the view cancelled. If the loop
    /// closes before the task is done, the view fails with
    /// [`ShutDown`](ErrorKind::ShutDown).
    ///
    /// ```
    /// use corun::asyncio::{EventLoop, sleep};
    /// use corun::concurrent::{ReturnWhen, wait};
    /// use std::time::Duration;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let fast = event_loop.create_task(async { 1 }).into_concurrent();
    /// let slow = event_loop
    ///     .create_task(async {
    ///         sleep(Duration::from_secs(3600)).await;
    ///         2
    ///     })
    ///     .into_concurrent();
    /// event_loop.run_until_complete(sleep(Duration::ZERO)).unwrap();
    /// let w = wait([fast, slow], Some(Duration::ZERO), ReturnWhen::AllCompleted);
    /// assert_eq!((w.done.len(), w.not_done.len()), (1, 1));
    /// assert!(w.not_done[0].cancel()); // while it runs
    /// event_loop.run_until_complete(sleep(Duration::ZERO)).unwrap();
    /// assert!(event_loop.all_tasks().is_empty()); // the asyncio task was cancelled too
    /// ```
    pub fn into_concurrent(self) -> corun_concurrent::Task<T> {
        let (view, promise) = corun_concurrent::Task::pending();
        self.chain(Pledge::new(promise));
        view
    }

    /// Completes `pledge` with this task's outcome, and makes cancelling
    /// its task cancel this one (Python's `_chain_future`).
    fn chain(self, pledge: Pledge<T>) {
        if self.done() {
            pledge.settle(&self);
            return;
        }
        let any = self.as_any();
        let Some(event_loop) = any.event_loop() else {
            return; // the pledge fails the view: no loop
        };
        let handle = event_loop.handle();
        let key = any.key();
        let stop = move || {
            // Runs on the thread that cancelled the view; the task is
            // cancelled on its own thread, if it is still there.
            let _ = handle.call_soon_threadsafe(move || cancel_task(key));
        };
        if !pledge.start_cancellable(stop) {
            // The view was cancelled before the task could start.
            any.cancel();
            return;
        }
        self.add_done_callback(move |task| pledge.settle(task));
    }
}

/// Cancels the task `(slot, id)` of the loop running here, if it is not
/// done.
fn cancel_task((slot, id): (u32, u64)) {
    let Some(event_loop) = running_loop() else {
        return;
    };
    let task = event_loop
        .core
        .tasks
        .borrow()
        .get(slot, id)
        .map(|pending| pending.task.clone());
    if let Some(task) = task {
        task.cancel();
    }
}

impl EventLoop {
    /// [`run_in_executor`] as a method of the loop (Python:
    /// `loop.run_in_executor(executor, func, arg)`).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    /// use corun::concurrent::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let event_loop = EventLoop::new().unwrap();
    /// let work = event_loop.run_in_executor(&pool, |s: &str| s.len(), "four");
    /// assert_eq!(event_loop.run_until_complete(work).unwrap().unwrap(), 4);
    /// ```
    pub fn run_in_executor<E, F, A, R>(&self, executor: &E, f: F, arg: A) -> WrappedTask<R>
    where
        E: Submit<F, A, R>,
    {
        run_in_executor(executor, f, arg)
    }

    /// [`to_thread`] on this loop's default executor, which works before
    /// the loop runs too (Python: `loop.run_in_executor(None, func)`).
    ///
    /// ```
    /// use corun::asyncio::{EventLoop, run};
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let work = event_loop.to_thread(|| "on a pool thread");
    /// assert_eq!(event_loop.run_until_complete(work).unwrap().unwrap(), "on a pool thread");
    /// event_loop.close().unwrap(); // shuts the default executor down
    /// let refused = event_loop.to_thread(|| ()); // awaited on another loop:
    /// assert!(run(refused).unwrap().unwrap_err().is_shutdown());
    /// ```
    pub fn to_thread<F, R>(&self, f: F) -> WrappedTask<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        WrappedTask::from_submitted(self.default_executor_spawn(f))
    }

    /// Spawns `f` on the default executor, made on first use.
    fn default_executor_spawn<F, R>(&self, f: F) -> Result<corun_concurrent::Task<R>, Error>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        if self.is_closed() {
            return Err(crate::remote::closed());
        }
        let mut executor = self.core.default_executor.borrow_mut();
        let executor = match &mut *executor {
            Some(executor) => executor,
            none => none.insert(
                ThreadPoolExecutor::builder()
                    .thread_name_prefix("asyncio")
                    .build()?,
            ),
        };
        executor.spawn(f)
    }
}

/// A view's promise that cannot be lost: dropped unsettled — the loop
/// closed before the task ran or finished — it fails the view with an
/// error that says so, where a bare promise would say the executor broke.
struct Pledge<T> {
    promise: Option<Promise<T>>,
}

impl<T: 'static> Pledge<T> {
    fn new(promise: Promise<T>) -> Self {
        Self {
            promise: Some(promise),
        }
    }

    fn start_cancellable(&self, stop: impl FnOnce() + Send + 'static) -> bool {
        self.promise
            .as_ref()
            .is_some_and(|promise| promise.start_cancellable(stop))
    }

    /// Completes the view with the outcome of `task`, which is done.
    fn settle(mut self, task: &Task<T>) {
        let Some(promise) = self.promise.take() else {
            return;
        };
        if task.cancelled() {
            promise.cancel();
        } else {
            promise.complete(task.take());
        }
    }
}

impl<T> Drop for Pledge<T> {
    fn drop(&mut self) {
        if let Some(promise) = self.promise.take() {
            promise.complete(Err(Error::new(
                ErrorKind::ShutDown,
                "the event loop closed before the task was done",
            )));
        }
    }
}
