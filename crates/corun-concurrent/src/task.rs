//! `Task<T>`: Python's `concurrent.futures.Future`, the handle every corun
//! executor returns — and `Promise<T>`, the executor's side of it.
//!
//! # The state machine
//!
//! | phase      | entered by                         | `cancel()` | leaves to                 |
//! |------------|------------------------------------|------------|---------------------------|
//! | `Pending`  | creation                           | succeeds   | `Running`, `Cancelled`    |
//! | `Running`  | [`Promise::start`] returning true  | fails      | `Finished`                |
//! |            | a `cancel()` the executor refused  |            |                           |
//! |            | [`Promise::start_cancellable`]     | succeeds   | `Finished`, `Cancelled`   |
//! | `Finished` | [`Promise::complete`]              | fails      | `Taken` (result taken)    |
//! | `Cancelled`| `cancel()` while pending           | succeeds   | —                         |
//!
//! Completion records the outcome, runs the done-callbacks in registration
//! order in the completing thread, and only then publishes `Finished`: wakes
//! blocked waiters, the async waker and the `wait`/`as_completed` watchers.
//! Until then the task is finished to the completing thread (a callback may
//! inspect its own task: `done()` is true) and still running to every
//! other. A callback added while that happens joins the queue; one added
//! after runs at once in the caller (or, if another thread is running the
//! task's callbacks then, in that thread after them). Each callback runs
//! exactly once, and never under the task's lock. Cancellation runs the callbacks in the
//! cancelling thread. A callback that panics is caught and reported on
//! stderr; it never unwinds into an executor's worker.
//!
//! A callback reads the outcome without the lock: while callbacks run, the
//! outcome is lent to the thread running them (`Lent`, which counts as
//! `Finished` above), so it is only ever in one thread's hands (a `T` need
//! not be `Sync`). A callback added meanwhile, from any thread, joins that
//! thread's queue. Taking the value waits until the outcome is back — or
//! fails at once in the thread that holds it, inside one of the callbacks,
//! which could never give it back first.
//!
//! An executor that hands a pending task on to where it may start without
//! the executor's say (a call sent ahead to a worker process) gives a
//! revoker with [`Promise::hand_off`]: `cancel()` then asks it first, under
//! the task's lock, and a task the executor could not take back becomes
//! running instead of cancelled.
//!
//! An executor whose running work can be asked to stop — an asyncio task
//! on its event loop, which drops its future at the next await — starts
//! the task with [`Promise::start_cancellable`] and a stopper: `cancel()`
//! of the running task then succeeds, makes it cancelled at once (its
//! waiters and callbacks see it so, as Python's future from
//! `run_coroutine_threadsafe` does), and calls the stopper, outside the
//! lock, to tell the work; whatever the work returns after that is
//! dropped. Without it a running task could only refuse the cancel, so
//! the one handle every executor returns could not say what an event loop
//! can do. `hand_off` does not fit there: its task stays pending while it
//! runs, and `running()` would lie.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
#[cfg(not(corun_loom))]
use std::thread::ThreadId;
use std::time::{Duration, Instant};

#[cfg(corun_loom)]
use loom::thread::ThreadId;

use corun_threading::threading::{Condition, ConditionGuard};

use corun_core::deadline::{deadline, remaining};

use crate::error::{Error, ErrorKind};
use crate::help;
use crate::signal::Signal;

type Callback<T> = Box<dyn FnOnce(Result<&T, &Error>) + Send>;

/// What [`Promise::hand_off`] keeps: takes a handed-off task back.
type Revoker = Box<dyn FnOnce() -> bool + Send>;

/// What [`Promise::start_cancellable`] keeps: asks running work to stop.
type Stopper = Box<dyn FnOnce() + Send>;

/// The eventual result of work handed to an executor (Python's
/// `concurrent.futures.Future`; named `Task` because `Future` is Rust's async
/// trait).
///
/// A task is pending until a worker starts it, then running, then finished
/// — or cancelled, which only a pending task can be. Block on it with
/// [`wait`](Self::wait) / [`result`](Self::result) (and their `_timeout`
/// forms), or `.await` it from any async runtime.
///
/// # Examples
///
/// ```
/// use corun::concurrent::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let task = pool.spawn(|| 6 * 7).unwrap();
/// assert_eq!(task.result().unwrap(), 42);
/// ```
#[must_use = "a task does nothing by itself; take its result or drop it"]
pub struct Task<T> {
    shared: Arc<Shared<T>>,
}

/// The executor's side of a [`Task`]: marks it running and completes it.
///
/// Dropping a promise that was started but never completed fails its task
/// with a broken-executor error, so no waiter hangs on work that was lost.
#[must_use = "dropping a promise fails its task"]
pub struct Promise<T> {
    shared: Arc<Shared<T>>,
    settled: bool,
}

/// What a task and its promise share: the state, and an executor's payload
/// `J` in the same allocation (erased to `dyn Payload` in handles), so an
/// executor that queues the `Arc` itself pays one allocation per task.
pub(crate) struct Shared<T, J: ?Sized = dyn Payload> {
    state: Condition<State<T>>,
    /// The executor's part: the job to run, for the thread pool.
    pub(crate) payload: J,
}

/// Anything an executor keeps beside a task's state.
pub(crate) trait Payload: Send + Sync {}

impl<J: Send + Sync> Payload for J {}

struct State<T> {
    phase: Phase<T>,
    /// Callbacks, waker and watchers, allocated the first time one is
    /// added: most tasks have none, and keeping them out of line keeps the
    /// state every task shares between threads small.
    extras: Option<Box<Extras<T>>>,
}

struct Extras<T> {
    callbacks: Vec<Callback<T>>,
    waker: Option<Waker>,
    watchers: Vec<(Weak<Signal>, usize)>,
    /// The thread the outcome is lent to ([`Phase::Lent`]).
    borrower: Option<ThreadId>,
    /// Whether the borrower is completing the task: until it publishes the
    /// outcome, to every other thread the task is still running.
    settling: bool,
    /// Takes a pending task back from where the executor handed it.
    revoker: Option<Revoker>,
    /// Asks the running task's work to stop, if it was started
    /// cancellable.
    stopper: Option<Stopper>,
}

enum Phase<T> {
    Pending,
    Running,
    Finished(Result<T, Error>),
    /// Finished, with the outcome out of the state: the borrower thread
    /// holds it while it runs the callbacks, which read it without the
    /// lock. `failed` says how the task ended.
    Lent {
        failed: bool,
    },
    Cancelled,
    Taken,
}

impl<T> State<T> {
    fn extras(&mut self) -> &mut Extras<T> {
        self.extras.get_or_insert_with(|| {
            Box::new(Extras {
                callbacks: Vec::new(),
                waker: None,
                watchers: Vec::new(),
                borrower: None,
                settling: false,
                revoker: None,
                stopper: None,
            })
        })
    }

    /// Takes the revoker, if the executor handed the task off.
    fn take_revoker(&mut self) -> Option<Revoker> {
        self.extras.as_mut().and_then(|e| e.revoker.take())
    }

    /// Takes the stopper, if the executor started the task cancellable.
    fn take_stopper(&mut self) -> Option<Stopper> {
        self.extras.as_mut().and_then(|e| e.stopper.take())
    }

    /// Takes the callbacks queued so far (none without extras).
    fn take_callbacks(&mut self) -> Vec<Callback<T>> {
        self.extras
            .as_mut()
            .map(|e| std::mem::take(&mut e.callbacks))
            .unwrap_or_default()
    }

    /// Whether the phase is final, whoever may see it yet.
    fn is_final(&self) -> bool {
        !matches!(self.phase, Phase::Pending | Phase::Running)
    }

    /// The extras of a task whose outcome is lent to another thread.
    fn lent_elsewhere(&self) -> Option<&Extras<T>> {
        match (&self.phase, &self.extras) {
            (Phase::Lent { .. }, Some(extras))
                if extras.borrower.is_some_and(|id| id != current_thread()) =>
            {
                Some(extras)
            }
            _ => None,
        }
    }

    /// Whether the task is done, as the calling thread may see it yet.
    fn is_done(&self) -> bool {
        self.is_final() && !self.lent_elsewhere().is_some_and(|e| e.settling)
    }

    /// Whether the calling thread may take the outcome now: it is done and
    /// not lent to another thread. (Lent to this one, taking fails.)
    fn is_takeable(&self) -> bool {
        self.is_final() && self.lent_elsewhere().is_none()
    }

    /// Whether the task failed, as the calling thread may see it yet.
    fn is_failed(&self) -> bool {
        match self.phase {
            Phase::Finished(Err(_)) => true,
            Phase::Lent { failed } => failed && self.is_done(),
            _ => false,
        }
    }

    /// Lends a finished task's outcome to this thread, which runs the
    /// queued callbacks with it without the lock (those queued meanwhile
    /// too, so they keep their order), then puts it back and publishes it.
    /// `settling`: this thread is completing the task.
    fn run_callbacks_lent<'a>(
        shared: &'a Shared<T>,
        mut state: ConditionGuard<'a, Self>,
        settling: bool,
    ) {
        let result = match std::mem::replace(&mut state.phase, Phase::Taken) {
            Phase::Finished(result) => result,
            phase => {
                state.phase = phase; // nothing to lend
                return;
            }
        };
        state.phase = Phase::Lent {
            failed: result.is_err(),
        };
        let extras = state.extras();
        extras.borrower = Some(current_thread());
        extras.settling = settling;
        loop {
            let callbacks = state.take_callbacks();
            if callbacks.is_empty() {
                break;
            }
            drop(state);
            run_callbacks(callbacks, result.as_ref());
            state = shared.state.acquire();
        }
        state.phase = Phase::Finished(result);
        let extras = state.extras();
        extras.borrower = None;
        extras.settling = false;
        State::publish(&mut state);
    }

    /// Wakes whoever waits for this task, after its phase became final.
    fn publish(guard: &mut ConditionGuard<'_, Self>) {
        if let Some(extras) = guard.extras.as_mut() {
            if let Some(waker) = extras.waker.take() {
                waker.wake();
            }
            for (watcher, index) in extras.watchers.drain(..) {
                if let Some(signal) = watcher.upgrade() {
                    signal.notify(index);
                }
            }
        }
        guard.notify_all();
    }
}

impl<T> Task<T> {
    /// A new pending task and the promise that completes it — what an
    /// executor makes for each submission.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// let (task, promise) = Task::pending();
    /// assert!(promise.start());
    /// promise.complete(Ok(5));
    /// assert_eq!(task.result().unwrap(), 5);
    /// ```
    pub fn pending() -> (Task<T>, Promise<T>) {
        let (task, shared) = Task::with_payload(());
        (task, Promise::new(shared))
    }

    /// A new pending task whose shared allocation also holds `payload`;
    /// the executor keeps the returned `Arc` (e.g. in its queue) and makes
    /// the task's [`Promise`] from it with [`Promise::new`] when it runs.
    pub(crate) fn with_payload<J: Payload + 'static>(payload: J) -> (Task<T>, Arc<Shared<T, J>>) {
        let shared = Arc::new(Shared {
            state: Condition::new(State {
                phase: Phase::Pending,
                extras: None,
            }),
            payload,
        });
        (
            Task {
                shared: Arc::clone(&shared) as Arc<Shared<T>>,
            },
            shared,
        )
    }

    /// Cancels the task if it has not started (Python's `cancel()`): returns
    /// `true` if it is now cancelled (or already was), `false` if it is
    /// running or finished. A cancelled task never runs; its callbacks run
    /// now, in this thread.
    ///
    /// A running task whose executor started it with
    /// [`Promise::start_cancellable`] (an asyncio task seen from another
    /// thread) is cancelled too: it is cancelled at once, its work is asked
    /// to stop (in this thread), and what the work returns is dropped.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// let (task, promise) = Task::<()>::pending();
    /// assert!(task.cancel());
    /// assert!(!promise.start()); // the executor skips it
    /// assert!(task.cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        let mut state = self.shared.state.acquire();
        match state.phase {
            Phase::Pending => {
                if let Some(revoke) = state.take_revoker() {
                    if !revoke() {
                        // It started where the executor had handed it.
                        state.phase = Phase::Running;
                        return false;
                    }
                }
                state.phase = Phase::Cancelled;
                let callbacks = state.take_callbacks();
                State::publish(&mut state);
                drop(state);
                run_callbacks(callbacks, Err(&Error::cancelled()));
                true
            }
            Phase::Running => {
                let Some(stop) = state.take_stopper() else {
                    return false;
                };
                state.phase = Phase::Cancelled;
                let callbacks = state.take_callbacks();
                State::publish(&mut state);
                drop(state);
                if let Err(payload) = catch_unwind(AssertUnwindSafe(stop)) {
                    let error = Error::from_panic(&*payload);
                    eprintln!("corun: a task's stopper panicked (ignored): {error}");
                }
                run_callbacks(callbacks, Err(&Error::cancelled()));
                true
            }
            Phase::Cancelled => true,
            _ => false,
        }
    }

    /// Whether the task was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(self.shared.state.acquire().phase, Phase::Cancelled)
    }

    /// Whether a worker is running the task now (to threads other than the
    /// completing one, a task is running until its done-callbacks have run).
    pub fn running(&self) -> bool {
        let state = self.shared.state.acquire();
        matches!(state.phase, Phase::Running) || (state.is_final() && !state.is_done())
    }

    /// Whether the task is finished or cancelled. A done-callback sees its
    /// task done.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// let (task, promise) = Task::pending();
    /// assert!(!task.done());
    /// promise.complete(Ok(1));
    /// assert!(task.done());
    /// ```
    pub fn done(&self) -> bool {
        self.shared.state.acquire().is_done()
    }

    /// Whether the task finished with an error (not a cancellation): what
    /// `wait(…, ReturnWhen::FirstException)` looks for.
    pub fn failed(&self) -> bool {
        self.shared.state.acquire().is_failed()
    }

    /// Blocks until the task is finished or cancelled.
    pub fn wait(&self) {
        self.help_until_done(None);
        self.shared.state.acquire().wait_for(State::is_done);
    }

    /// Blocks until the task is done or `timeout` passes; returns whether it
    /// is done. A time-out changes nothing: the task goes on.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// use std::time::Duration;
    /// let (task, _promise) = Task::<()>::pending();
    /// assert!(!task.wait_timeout(Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let left = self.help_for(timeout);
        self.shared
            .state
            .acquire()
            .wait_for_timeout(State::is_done, left)
    }

    /// Waits for the task and returns its value (Python's `result()`).
    ///
    /// # Errors
    ///
    /// [`Error::is_cancelled`], [`Error::is_panic`] (with the message), or an
    /// executor's error (shut down, broken, worker died …). Inside one of
    /// the task's own done-callbacks, which holds a reference to the value,
    /// an [`InvalidState`](ErrorKind::InvalidState) error at once; the value stays.
    pub fn result(self) -> Result<T, Error> {
        self.help_until_done(None);
        let mut state = self.shared.state.acquire();
        state.wait_for(State::is_takeable);
        take(&mut state)
    }

    /// Waits at most `timeout` and takes the value. On time-out the task is
    /// left as it was, and can be waited on again.
    ///
    /// # Errors
    ///
    /// [`Error::is_timeout`] on time-out; otherwise as [`result`](Self::result),
    /// plus [`Error::is_already_taken`] after an earlier successful take.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// use std::time::Duration;
    /// let (mut task, promise) = Task::pending();
    /// assert!(task.result_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// promise.complete(Ok("late"));
    /// assert_eq!(task.result_timeout(Duration::from_secs(5)).unwrap(), "late");
    /// ```
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<T, Error> {
        let left = self.help_for(timeout);
        let mut state = self.shared.state.acquire();
        if !state.wait_for_timeout(State::is_takeable, left) {
            return Err(Error::timeout());
        }
        take(&mut state)
    }

    /// Adds a function to call with the task's outcome when it is done
    /// (Python's `add_done_callback`). Callbacks run once each, in the order
    /// added: in the thread that completes or cancels the task, or at once
    /// in this thread if the task is already done — unless another thread
    /// is running the task's callbacks at that moment, which then runs this
    /// one after them. None runs under the task's lock, so a callback may
    /// inspect its own task (it sees it done). A panic in a callback is
    /// caught and reported on stderr.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// use std::sync::{Arc, Mutex};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let (task, promise) = Task::pending();
    /// for n in 1..=2 {
    ///     let seen = Arc::clone(&seen);
    ///     task.add_done_callback(move |r: Result<&i32, _>| seen.lock().unwrap().push(*r.unwrap() * n));
    /// }
    /// promise.complete(Ok(10));
    /// assert_eq!(*seen.lock().unwrap(), [10, 20]);
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce(Result<&T, &Error>) + Send + 'static) {
        let mut state = self.shared.state.acquire();
        match &state.phase {
            // The thread that completes the task, or that now runs its
            // callbacks, runs this one after them.
            Phase::Pending | Phase::Running | Phase::Lent { .. } => {
                state.extras().callbacks.push(Box::new(callback));
            }
            Phase::Finished(_) => {
                state.extras().callbacks.push(Box::new(callback));
                State::run_callbacks_lent(&self.shared, state, false);
            }
            Phase::Cancelled => {
                drop(state);
                run_callbacks(vec![Box::new(callback)], Err(&Error::cancelled()));
            }
            Phase::Taken => {
                drop(state);
                let taken = Error::from(ErrorKind::AlreadyTaken);
                run_callbacks(vec![Box::new(callback)], Err(&taken));
            }
        }
    }

    /// On a thread pool's thread, runs the pool's queued tasks until this
    /// task is done or the deadline passes, so that a task waiting on
    /// another of its own pool cannot deadlock it (see `help.rs`);
    /// elsewhere, returns at once.
    fn help_until_done(&self, deadline: Option<Instant>) {
        if help::can_help() {
            let signal = Signal::new();
            if !self.watch(&signal, 0) {
                let _ = signal.next(deadline);
            }
        }
    }

    /// [`help_until_done`](Self::help_until_done) for at most `timeout`;
    /// returns what is left of it.
    fn help_for(&self, timeout: Duration) -> Duration {
        let deadline = deadline(Some(timeout));
        self.help_until_done(deadline);
        remaining(deadline).unwrap_or(timeout) // `None`: past `Instant`'s range
    }

    /// Registers `signal` to hear `index` when this task is done; `true`
    /// (and nothing registered) if it already is.
    pub(crate) fn watch(&self, signal: &Arc<Signal>, index: usize) -> bool {
        let mut state = self.shared.state.acquire();
        if state.is_done() {
            return true;
        }
        let watchers = &mut state.extras().watchers;
        watchers.retain(|(w, _)| w.strong_count() > 0);
        watchers.push((Arc::downgrade(signal), index));
        false
    }
}

impl<T> Promise<T> {
    /// The promise of a task made by [`Task::with_payload`].
    pub(crate) fn new<J: Payload + 'static>(shared: Arc<Shared<T, J>>) -> Self {
        Promise {
            shared,
            settled: false,
        }
    }

    /// Moves the task from pending to running (Python's
    /// `set_running_or_notify_cancel`); `false` if it was cancelled, in
    /// which case the executor must not run it. A task already running (a
    /// `cancel` found it started after a [`hand_off`](Self::hand_off))
    /// stays so, and `start` says `true`.
    pub fn start(&self) -> bool {
        let mut state = self.shared.state.acquire();
        match state.phase {
            Phase::Pending => {
                state.phase = Phase::Running;
                drop(state.take_revoker());
                true
            }
            Phase::Running => true,
            _ => false,
        }
    }

    /// [`start`](Self::start), for work that can be asked to stop while it
    /// runs: until the task is done, a [`Task::cancel`] succeeds, makes the
    /// task cancelled at once, and then calls `stop`, outside the task's
    /// lock, in the cancelling thread (so it may be called from any
    /// thread: it should only pass the request on). The executor's later
    /// [`complete`](Self::complete) then does nothing. `stop` is dropped,
    /// uncalled, when the task completes.
    ///
    /// This is how a task can be cancelled while it runs where the
    /// executor supports it: an asyncio task's view as a `Task` (its
    /// stopper cancels the asyncio task on its loop), not a thread pool's
    /// task (a thread cannot be stopped; see
    /// [`CancelToken`](crate::CancelToken)).
    ///
    /// Returns `false` (and drops `stop`) if the task was cancelled, in
    /// which case the executor must not run it; `true` if it runs now. A
    /// task already running keeps running, with `stop` as its stopper.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let stopped = Arc::new(AtomicBool::new(false));
    /// let (task, promise) = Task::<u8>::pending();
    /// let s = Arc::clone(&stopped);
    /// assert!(promise.start_cancellable(move || s.store(true, Ordering::SeqCst)));
    /// assert!(task.running());
    /// assert!(task.cancel()); // cancelled while it runs
    /// assert!(task.cancelled() && stopped.load(Ordering::SeqCst));
    /// promise.complete(Ok(1)); // too late: dropped
    /// assert!(task.result().unwrap_err().is_cancelled());
    /// ```
    pub fn start_cancellable(&self, stop: impl FnOnce() + Send + 'static) -> bool {
        let mut state = self.shared.state.acquire();
        match state.phase {
            Phase::Pending | Phase::Running => {
                state.phase = Phase::Running;
                let revoker = state.take_revoker();
                state.extras().stopper = Some(Box::new(stop));
                drop(state);
                drop(revoker);
                true
            }
            _ => false,
        }
    }

    /// Leaves the task pending while the executor hands it on to where it
    /// may start without the executor's say — a call written ahead to a
    /// worker process, behind the one it runs. Until [`start`](Self::start),
    /// a `cancel` first calls `revoke`, under the task's lock (so it must be
    /// quick and must not touch the task): `true` means the executor took
    /// the task back, which is then cancelled and must never run; `false`
    /// that it has started, which makes it running and the cancel fail. A
    /// later `hand_off` replaces `revoke`.
    ///
    /// Returns `false` if the task was cancelled (the executor must not run
    /// it), `true` if it is pending (`revoke` kept) or already running.
    ///
    /// ```
    /// use corun::concurrent::Task;
    /// let (task, promise) = Task::<u8>::pending();
    /// assert!(promise.hand_off(|| false)); // it will start before it can be taken back
    /// assert!(!task.cancel());
    /// assert!(task.running());
    /// assert!(promise.start());
    /// promise.complete(Ok(1));
    /// assert_eq!(task.result().unwrap(), 1);
    /// ```
    pub fn hand_off(&self, revoke: impl FnOnce() -> bool + Send + 'static) -> bool {
        let mut state = self.shared.state.acquire();
        match state.phase {
            Phase::Pending => {
                state.extras().revoker = Some(Box::new(revoke));
                true
            }
            Phase::Running => true,
            _ => false,
        }
    }

    /// Completes the task with its outcome: runs the done-callbacks, then
    /// wakes every waiter. Completing a cancelled task does nothing.
    pub fn complete(mut self, result: Result<T, Error>) {
        self.settled = true;
        settle(&self.shared, result);
    }

    /// Marks a pending task cancelled (an executor's `shutdown(cancel)`);
    /// returns whether it was. A task already started cannot be cancelled
    /// (unless started with [`start_cancellable`](Self::start_cancellable),
    /// which is then cancelled and its stopper called): it fails with a
    /// broken-executor error, as when the promise is dropped, rather than
    /// stay running with nobody to complete it.
    pub fn cancel(mut self) -> bool {
        let cancelled = Task {
            shared: Arc::clone(&self.shared),
        }
        .cancel();
        self.settled = cancelled;
        cancelled
    }
}

/// Takes the outcome out of a done task's state, which
/// [`State::is_takeable`] says it may.
fn take<T>(state: &mut State<T>) -> Result<T, Error> {
    match std::mem::replace(&mut state.phase, Phase::Taken) {
        Phase::Finished(result) => result,
        Phase::Lent { failed } => {
            // Lent to this thread, which is running a callback.
            state.phase = Phase::Lent { failed };
            Err(Error::new(
                ErrorKind::InvalidState,
                "a task's result cannot be taken inside its own done-callback, which borrows it",
            ))
        }
        Phase::Cancelled => {
            state.phase = Phase::Cancelled;
            Err(Error::cancelled())
        }
        Phase::Taken => Err(Error::from(ErrorKind::AlreadyTaken)),
        Phase::Pending | Phase::Running => unreachable!("only done tasks are taken from"),
    }
}

/// Records the outcome, runs the callbacks (those added meanwhile too),
/// then publishes `Finished`.
fn settle<T>(shared: &Shared<T>, result: Result<T, Error>) {
    let mut state = shared.state.acquire();
    if state.is_final() {
        return;
    }
    state.phase = Phase::Finished(result);
    // Done: nothing left to stop; dropped once the lock is released.
    let stopper = state.take_stopper();
    if state.extras.as_ref().is_none_or(|e| e.callbacks.is_empty()) {
        State::publish(&mut state);
        drop(state);
    } else {
        State::run_callbacks_lent(shared, state, true);
    }
    drop(stopper);
}

/// The calling thread's id (loom's, under the model checker, whose threads
/// share one OS thread).
#[cfg(not(corun_loom))]
fn current_thread() -> ThreadId {
    std::thread::current().id()
}

#[cfg(corun_loom)]
fn current_thread() -> ThreadId {
    loom::thread::current().id()
}

fn run_callbacks<T>(callbacks: Vec<Callback<T>>, outcome: Result<&T, &Error>) {
    for callback in callbacks {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(outcome))) {
            let error = Error::from_panic(&*payload);
            eprintln!("corun: a task's done-callback panicked (ignored): {error}");
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, Error>;

    /// Ready when the task is done; waker-based, so any runtime can drive it.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.state.acquire();
        if state.is_takeable() {
            return Poll::Ready(take(&mut state));
        }
        let extras = state.extras();
        match &extras.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => extras.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if !self.settled {
            let state = self.shared.state.acquire();
            match state.phase {
                Phase::Pending => {
                    // Never started: the executor let it go (shut down).
                    drop(state);
                    let cancelled = Task {
                        shared: Arc::clone(&self.shared),
                    }
                    .cancel();
                    if !cancelled {
                        // Handed off, and started there after all.
                        settle(
                            &self.shared,
                            Err(Error::broken("the executor lost a running task")),
                        );
                    }
                }
                Phase::Running => {
                    drop(state);
                    settle(
                        &self.shared,
                        Err(Error::broken("the executor lost a running task")),
                    );
                }
                _ => {}
            }
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.acquire();
        let phase = match &state.phase {
            Phase::Pending => "pending",
            Phase::Running => "running",
            _ if !state.is_done() => "running", // to this thread, until published
            Phase::Finished(Ok(_)) | Phase::Lent { failed: false } => "finished",
            Phase::Finished(Err(_)) | Phase::Lent { failed: true } => "failed",
            Phase::Cancelled => "cancelled",
            Phase::Taken => "taken",
        };
        f.debug_struct("Task").field("state", &phase).finish()
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("settled", &self.settled)
            .finish()
    }
}
