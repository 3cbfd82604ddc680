//! [`Task<T>`]: Python's `asyncio.Task`, a future the loop drives, which
//! can be cancelled while it runs; and [`AnyTask`], the same task with its
//! output type erased (what `current_task` and `all_tasks` return).
//!
//! # States
//!
//! | state       | entered by                                     |
//! |-------------|------------------------------------------------|
//! | `Pending`   | creation; each step leaves it here until done  |
//! | `Finished`  | the future returned                            |
//! | `Failed`    | the future (or its drop on cancel) panicked    |
//! | `Cancelled` | a step that found a cancel request: the future is dropped at its await point instead of polled; or the loop closed |
//!
//! `cancel()` only asks: it counts the request, marks the task, and wakes
//! it, so its next step comes soon and drops the future. A task cancelled
//! before its first step never runs. `uncancel()` takes a request back,
//! and with none left the task goes on as if nothing was asked.
//!
//! # A cancel reaches the task being awaited
//!
//! Python's `Task.cancel()` also cancels the future the task is suspended
//! on (`_fut_waiter`): a task cancelled in `await other_task` cancels
//! `other_task`, and ends only once `other_task` is done. corun does the
//! same without a `_fut_waiter`, through the handle's drop:
//!
//! - A [`Task`] handle that returns `Pending` from `poll` remembers the
//!   task polling it (it is *awaited*; [`shield`](crate::shield) polls
//!   without this mark, so its task is never reached).
//! - Where a task's future is dropped *because the task is cancelled*,
//!   the drop runs inside a cancel scope of that task (`drop_cancelling`,
//!   a stack on the loop, `Core::cancel_scopes`): the step that drops a
//!   cancelled task's future, a [`Timeout`](crate::Timeout) dropping its
//!   body at the deadline, a [`TaskGroup`](crate::TaskGroup) dropping its
//!   body on a failure (in Python these three cancel the current task).
//! - An awaited handle dropped inside its awaiting task's scope, while its
//!   own task is pending, cancels that task. The scope counts the tasks
//!   reached (a `Cascade`): the cancelled task ends, and the timeout or
//!   group returns, only once they are done.
//!
//! Everywhere else dropping a handle does nothing: a plain `drop(task)`,
//! a select-like future that polled a handle and lets it go, a handle
//! never polled (as those `gather` holds: a cancelled gather cancels its
//! children itself). The loop holds every task, and only a cancel stops
//! one. A task whose future is dropped already is not reached again, so
//! two tasks awaiting each other both end.
//!
//! Done-callbacks, and the wake-ups of tasks awaiting this one, are queued
//! in registration order and scheduled with `call_soon` when the task is
//! done, never called inline (as Python).
//!
//! # As a `corun::concurrent::Task`
//!
//! The outcome lives in loop-local state (`Rc`, `RefCell`), because a task
//! of the event loop may return a value that is not `Send`, and every
//! operation happens on the loop's thread. The `corun::concurrent::Task<T>`
//! view for `T: Send` ([`Task::into_concurrent`], and what
//! `run_coroutine_threadsafe` returns) needs no second state machine here:
//! it is a `Task::pending()` whose `Promise` a done-callback completes with
//! the outcome, the way Python's `run_coroutine_threadsafe` chains an
//! asyncio future to a `concurrent.futures.Future`.
//!
//! Its promise is started with `Promise::start_cancellable`, a hook added
//! to `corun-concurrent` for this: cancelling the view while the asyncio
//! task runs succeeds and asks the loop to cancel the task. The existing
//! `Promise::hand_off` does not suffice: its revoker is for a task not yet
//! started (a view handed off would stay *pending* while the asyncio task
//! runs, so `running()` would lie), and a concurrent task that is running
//! refuses `cancel()`, which is right for a thread and wrong for an
//! asyncio task, which can stop at any await.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use corun_concurrent::{Observer, Outcome};
use corun_core::{Error, ErrorKind};

use crate::core::{Core, Pending};
use crate::event_loop::{EventLoop, running_loop};
use crate::remote::{RemoteItem, closed};
use crate::trace::StepTrace;

/// Numbers tasks in creation order, for `Task-N` names.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A future scheduled on an [`EventLoop`] (Python: `asyncio.Task`).
///
/// The loop drives it; the handle asks after it ([`done`](Self::done),
/// [`result`](Self::result), …), cancels it, and is itself a `Future`:
/// awaiting it from another task gives the task's result, moving the value
/// out. Dropping the handle does not stop the task; the loop holds every
/// task until it is done. The one exception is Python's: a task cancelled
/// while it awaits this handle cancels this task too (see the module
/// docs).
///
/// ```
/// use corun::asyncio::{create_task, run, sleep};
/// use std::time::Duration;
///
/// run(async {
///     let inner = create_task(sleep(Duration::from_secs(3600)));
///     let awaited = inner.clone();
///     let outer = create_task(async move { awaited.await });
///     sleep(Duration::ZERO).await; // outer now awaits inner
///     outer.cancel();
///     assert!(outer.await.unwrap_err().is_cancelled());
///     assert!(inner.cancelled()); // the cancel reached it
/// })
/// .unwrap();
/// ```
///
/// # Examples
///
/// ```
/// use corun::asyncio::{create_task, run, sleep};
/// use std::time::Duration;
///
/// let total = run(async {
///     let a = create_task(async { 1 });
///     let b = create_task(async {
///         sleep(Duration::from_millis(1)).await;
///         2
///     });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(total.unwrap(), 3);
/// ```
#[must_use = "a task runs without its handle; drop it deliberately if no result is wanted"]
pub struct Task<T> {
    core: Rc<TaskCore<T>>,
    /// The id of the task that awaits this handle (it polled it and got
    /// `Pending`), 0 for none: whose cancel this handle passes on.
    awaited_by: u64,
}

/// A task whose output type is erased: what [`current_task`] and
/// [`all_tasks`] return. It can be named, cancelled and asked whether it
/// is done; two `AnyTask`s are equal when they are the same task.
///
/// ```
/// use corun::asyncio::{current_task, run};
///
/// let name = run(async { current_task().unwrap().get_name() }).unwrap();
/// assert!(name.starts_with("Task-"));
/// ```
#[derive(Clone)]
pub struct AnyTask {
    inner: Rc<dyn Erased>,
}

/// A task's state without its output: what [`AnyTask`] reaches.
pub(crate) struct Header {
    id: u64,
    /// The name given, if any; `Task-<id>` otherwise (made when asked
    /// for, so that creating a task formats nothing).
    ///
    /// `name`, `error`, `callbacks` (and the task's value) are `Cell`s,
    /// taken and put back to be read: smaller than `RefCell`s, which
    /// matters at one task per request. For the same reason the waker of
    /// the task's runnable (to deliver a cancel) is kept in the loop's
    /// task table, whose memory stays with the loop.
    name: Cell<Option<Box<str>>>,
    /// Where the loop's task table holds the task (see `core::Tasks`).
    slot: Cell<u32>,
    state: Cell<State>,
    error: Cell<Option<Error>>,
    must_cancel: Cell<bool>,
    cancels: Cell<u32>,
    /// Whether someone took the outcome: `result`, `exception`, an await.
    retrieved: Cell<bool>,
    callbacks: Cell<Vec<DoneCallback>>,
    /// The key of the next `add_done_callback` callback.
    next_callback: Cell<u64>,
    event_loop: Weak<Core>,
    /// The loop's recorder, if it had one when the task was made.
    trace: Option<Box<StepTrace>>,
    /// Set when a cancel dropped the future: the tasks that cancel reached
    /// through awaited handles, which the task waits for before it ends.
    cascade: RefCell<Option<Rc<Cascade>>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Pending,
    Finished,
    Failed,
    Cancelled,
}

/// What runs when a task is done, in registration order.
enum DoneCallback {
    /// A task awaiting this one.
    Wake(Waker),
    /// An `add_done_callback` callback, bound to its task, and its key.
    Call(u64, Box<dyn FnOnce()>),
}

/// Names a callback given to [`Task::add_done_callback`], so that
/// [`Task::remove_done_callback`] can take it back (Python removes a
/// callback by the function itself; a Rust closure has no such identity).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CallbackId {
    task: u64,
    key: u64,
}

/// The header and the typed value, in one allocation.
struct TaskCore<T> {
    header: Header,
    /// The value of a finished task, until it is moved out.
    value: Cell<Option<T>>,
}

/// Erases `T` from a `TaskCore<T>`.
trait Erased {
    fn header(&self) -> &Header;
}

impl<T> Erased for TaskCore<T> {
    fn header(&self) -> &Header {
        &self.header
    }
}

impl Header {
    fn new(
        name: Option<String>,
        event_loop: Weak<Core>,
        observer: Option<Arc<dyn Observer>>,
    ) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let trace = observer.map(|o| {
            let label = name.clone().unwrap_or_else(|| format!("Task-{id}"));
            StepTrace::new(o, label)
        });
        let name = name.map(String::into_boxed_str);
        Self {
            id,
            name: Cell::new(name),
            slot: Cell::new(u32::MAX),
            state: Cell::new(State::Pending),
            error: Cell::new(None),
            must_cancel: Cell::new(false),
            cancels: Cell::new(0),
            retrieved: Cell::new(false),
            callbacks: Cell::new(Vec::new()),
            next_callback: Cell::new(0),
            event_loop,
            trace,
            cascade: RefCell::new(None),
        }
    }

    fn done(&self) -> bool {
        self.state.get() != State::Pending
    }

    /// How the task ended, as a timeline says it; `None` while pending.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        match self.state.get() {
            State::Pending => None,
            State::Finished => Some(Outcome::Ok),
            State::Failed => Some(Outcome::Panicked),
            State::Cancelled => Some(Outcome::Cancelled),
        }
    }

    /// The task's number, in creation order.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn name(&self) -> String {
        let name = self.name.take();
        let copy = match &name {
            Some(name) => name.to_string(),
            None => format!("Task-{}", self.id),
        };
        self.name.set(name);
        copy
    }

    fn set_name(&self, name: String) {
        self.name.set(Some(name.into_boxed_str()));
    }

    pub(crate) fn retrieved(&self) -> bool {
        self.retrieved.get()
    }

    /// The error of a failed task.
    pub(crate) fn error(&self) -> Option<Error> {
        let error = self.error.take();
        let copy = error.clone();
        self.error.set(error);
        copy
    }

    fn cancel(&self) -> bool {
        if self.done() {
            return false;
        }
        self.cancels.set(self.cancels.get() + 1);
        self.must_cancel.set(true);
        let core = self.event_loop.upgrade();
        let waker = core.and_then(|core| core.tasks.borrow().waker(self.slot.get(), self.id));
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    fn uncancel(&self) -> u32 {
        let left = self.cancels.get().saturating_sub(1);
        self.cancels.set(left);
        if left == 0 {
            self.must_cancel.set(false);
        }
        left
    }

    /// `exception()`: marks the outcome retrieved.
    fn exception(&self) -> Result<Option<Error>, Error> {
        match self.state.get() {
            State::Pending => Err(not_done()),
            State::Cancelled => {
                self.retrieved.set(true);
                Err(Error::cancelled())
            }
            State::Failed => {
                self.retrieved.set(true);
                Ok(self.error())
            }
            State::Finished => Ok(None),
        }
    }

    /// Queues `callback`, or schedules it now if the task is done.
    fn add_callback(&self, callback: Box<dyn FnOnce()>) -> CallbackId {
        let key = self.next_callback.get();
        self.next_callback.set(key + 1);
        if self.done() {
            if let Some(core) = self.event_loop.upgrade() {
                let _ = EventLoop::from_core(core).call_soon(callback);
            }
        } else {
            let mut callbacks = self.callbacks.take();
            callbacks.push(DoneCallback::Call(key, callback));
            self.callbacks.set(callbacks);
        }
        CallbackId { task: self.id, key }
    }

    /// Takes back the callback `id` if it is still queued; how many were
    /// removed (0 or 1).
    fn remove_callback(&self, id: CallbackId) -> usize {
        if id.task != self.id {
            return 0;
        }
        let removed = {
            let mut callbacks = self.callbacks.take();
            let removed = callbacks
                .iter()
                .position(|c| matches!(c, DoneCallback::Call(key, _) if *key == id.key))
                .map(|at| callbacks.remove(at));
            self.callbacks.set(callbacks);
            removed
        };
        // Dropped with the queue released: the closure's captures are user
        // values.
        usize::from(removed.is_some())
    }

    /// How many callbacks and wake-ups are queued.
    #[cfg(test)]
    pub(crate) fn callback_count(&self) -> usize {
        let callbacks = self.callbacks.take();
        let count = callbacks.len();
        self.callbacks.set(callbacks);
        count
    }

    /// Wakes `waker` when the task is done, unless it is queued already.
    fn add_waker(&self, waker: &Waker) {
        let mut callbacks = self.callbacks.take();
        let known = callbacks
            .iter()
            .any(|c| matches!(c, DoneCallback::Wake(w) if w.will_wake(waker)));
        if !known {
            callbacks.push(DoneCallback::Wake(waker.clone()));
        }
        self.callbacks.set(callbacks);
    }

    /// Records how the task ended, lets the loop go of it, and schedules
    /// its callbacks in registration order.
    ///
    /// A task whose cancel reached tasks it awaited ends once they are
    /// done, as a Python task ends after the future it was suspended on.
    fn settle(&self, state: State, error: Option<Error>, this: impl FnOnce() -> AnyTask) {
        if state == State::Cancelled {
            let cascade = self.cascade.borrow().clone();
            if let Some(cascade) = cascade.filter(|c| c.pending.get() > 0) {
                let me = this();
                cascade.then(Box::new(move || settle_cancelled(&me)));
                return;
            }
        }
        self.state.set(state);
        self.error.set(error);
        let event_loop = self.event_loop.upgrade().map(EventLoop::from_core);
        if let Some(event_loop) = &event_loop {
            let entry = (event_loop.core.tasks.borrow_mut()).remove(self.slot.get(), self.id);
            if let Some(handle) = entry.and_then(|e| e.handle) {
                // This runs inside the task's own step: detach, never cancel.
                handle.detach();
            }
            if state == State::Failed {
                event_loop.core.failed.borrow_mut().push(this());
            }
        }
        let callbacks = self.callbacks.take();
        for callback in callbacks {
            match callback {
                DoneCallback::Wake(waker) => waker.wake(),
                DoneCallback::Call(_, callback) => {
                    if let Some(event_loop) = &event_loop {
                        let _ = event_loop.call_soon(callback);
                    }
                }
            }
        }
    }

    /// Drops the task's future on a cancel (`drop` does it), passing the
    /// cancel on to the tasks it awaits; see [`drop_cancelling`].
    fn drop_future(&self, drop: impl FnOnce()) {
        let ((), cascade) = drop_cancelling(drop);
        *self.cascade.borrow_mut() = Some(cascade);
    }

    /// A handle awaited by task `awaiting` is dropped while this task is
    /// pending: if that is `awaiting` being cancelled, this task is
    /// cancelled too, and the cancel waits for it.
    fn cancel_awaited(&self, awaiting: u64) -> bool {
        let Some(core) = self.event_loop.upgrade() else {
            return false;
        };
        let cascade = core
            .cancel_scopes
            .borrow()
            .last()
            .filter(|(task, _)| *task == awaiting)
            .map(|(_, cascade)| Rc::clone(cascade));
        // A task whose future is gone is ending already, and may itself be
        // waiting for the task cancelled now (two tasks awaiting each other).
        let Some(cascade) = cascade.filter(|_| self.cascade.borrow().is_none()) else {
            return false;
        };
        self.cancel();
        cascade.pending.set(cascade.pending.get() + 1);
        self.add_callback(Box::new(move || cascade.one_done()));
        true
    }

    /// Cancels a task that the current task owns (a `gather`'s child, a
    /// `wait_for`'s inner task) as that owner goes away. When the owner is
    /// being cancelled, its cancel also waits for this task to end, as a
    /// cancelled Python `gather` or `wait_for` ends after its children.
    pub(crate) fn cancel_owned(&self) {
        if self.done() {
            return;
        }
        let owner = (self.event_loop.upgrade())
            .and_then(|core| core.current.borrow().as_ref().map(AnyTask::id));
        if !owner.is_some_and(|owner| self.cancel_awaited(owner)) {
            self.cancel();
        }
    }

    /// The loop closed with this task pending: it is cancelled, and its
    /// callbacks are dropped (there is no loop left to run them).
    pub(crate) fn close_pending(&self) {
        self.state.set(State::Cancelled);
        if let Some(trace) = &self.trace {
            trace.closed();
        }
        let callbacks = self.callbacks.take();
        drop(callbacks);
    }
}

impl<T: 'static> Task<T> {
    /// Makes the task and schedules its first step on `event_loop`.
    pub(crate) fn spawn<F>(event_loop: &EventLoop, name: Option<String>, future: F) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        let core = Rc::new(TaskCore {
            header: Header::new(name, event_loop.downgrade(), event_loop.core.observer()),
            value: Cell::new(None),
        });
        let task = Task {
            core,
            awaited_by: 0,
        };
        if event_loop.is_closed() {
            // Never scheduled; there is no loop left to report it at close.
            task.core.header.retrieved.set(true);
            task.core
                .header
                .settle(State::Failed, Some(closed()), || task.as_any());
            return task;
        }
        let stepper = task.clone();
        let wrapped = async move {
            let mut slot = pin!(Some(future));
            poll_fn(|cx| stepper.step(slot.as_mut(), cx)).await;
        };
        let remote = event_loop.core.remote.clone();
        let (runnable, handle) = async_task::spawn_local(wrapped, move |runnable| {
            let _ = remote.push(RemoteItem::Step(runnable));
        });
        let slot = event_loop.core.tasks.borrow_mut().insert(Pending {
            task: task.as_any(),
            handle: Some(handle),
            waker: runnable.waker(),
        });
        task.core.header.slot.set(slot);
        event_loop.core.push(crate::core::Ready::Step(runnable));
        task
    }

    /// One step: polls the future, or drops it if a cancel was asked.
    fn step<F: Future<Output = T>>(
        &self,
        mut slot: Pin<&mut Option<F>>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let header = &self.core.header;
        if header.done() {
            return Poll::Ready(());
        }
        let _current = CurrentGuard::enter(self.as_any());
        let _step = header.trace.as_ref().map(|t| t.step(header));
        if header.must_cancel.get() {
            header.must_cancel.set(false);
            return match catch_unwind(AssertUnwindSafe(|| header.drop_future(|| slot.set(None)))) {
                Ok(()) => {
                    header.settle(State::Cancelled, None, || self.as_any());
                    Poll::Ready(())
                }
                Err(payload) => self.fail(&*payload),
            };
        }
        let polled = catch_unwind(AssertUnwindSafe(|| match slot.as_mut().as_pin_mut() {
            Some(future) => future.poll(cx),
            None => Poll::Pending,
        }));
        match polled {
            Ok(Poll::Ready(value)) => {
                slot.set(None);
                self.core.value.set(Some(value));
                header.settle(State::Finished, None, || self.as_any());
                Poll::Ready(())
            }
            Ok(Poll::Pending) => {
                if header.must_cancel.get() {
                    // Cancelled during its own step: the next step drops it.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Err(payload) => {
                let _ = catch_unwind(AssertUnwindSafe(|| slot.set(None)));
                self.fail(&*payload)
            }
        }
    }

    fn fail(&self, payload: &(dyn std::any::Any + Send)) -> Poll<()> {
        self.core
            .header
            .settle(State::Failed, Some(Error::from_panic(payload)), || {
                self.as_any()
            });
        Poll::Ready(())
    }

    /// The same task, its output type erased.
    pub fn as_any(&self) -> AnyTask {
        AnyTask {
            inner: self.core.clone(),
        }
    }

    /// Asks the task to stop (Python: `Task.cancel()`): its next step drops
    /// the future at the await point where it is suspended (its `Drop`
    /// cleanup runs) and the task ends cancelled. A task cancelled before
    /// its first step never runs. Returns `false` if the task is done.
    ///
    /// ```
    /// use corun::asyncio::{create_task, run, sleep};
    /// use std::time::Duration;
    ///
    /// let err = run(async {
    ///     let task = create_task(sleep(Duration::from_secs(3600)));
    ///     sleep(Duration::ZERO).await; // let it start
    ///     assert!(task.cancel());
    ///     task.await.unwrap_err()
    /// });
    /// assert!(err.unwrap().is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        self.core.header.cancel()
    }

    /// How many cancel requests are pending (Python: `Task.cancelling()`).
    pub fn cancelling(&self) -> u32 {
        self.core.header.cancels.get()
    }

    /// Takes back one cancel request and returns how many are left; with
    /// none left, a cancel not yet delivered is withdrawn (Python 3.13:
    /// `Task.uncancel()`).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let task = event_loop.create_task(async { 5 });
    /// task.cancel();
    /// assert_eq!(task.cancelling(), 1);
    /// assert_eq!(task.uncancel(), 0);
    /// assert_eq!(event_loop.run_until_complete(task).unwrap().unwrap(), 5);
    /// ```
    pub fn uncancel(&self) -> u32 {
        self.core.header.uncancel()
    }

    /// Whether the task is done: finished, failed or cancelled.
    pub fn done(&self) -> bool {
        self.core.header.done()
    }

    /// Whether the task ended cancelled.
    pub fn cancelled(&self) -> bool {
        self.core.header.state.get() == State::Cancelled
    }

    /// The task's result, cloned (Python: `Task.result()`).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let task = event_loop.create_task(async { 7 });
    /// assert!(task.result().unwrap_err().kind() == corun::ErrorKind::InvalidState);
    /// event_loop.stop();
    /// event_loop.run_forever().unwrap(); // one iteration runs the task
    /// assert_eq!(task.result().unwrap(), 7);
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) if the task is not done;
    /// [`Cancelled`](ErrorKind::Cancelled) if it was cancelled; its
    /// [`Panicked`](ErrorKind::Panicked) error if it failed;
    /// [`AlreadyTaken`](ErrorKind::AlreadyTaken) if an await moved the
    /// value out.
    pub fn result(&self) -> Result<T, Error>
    where
        T: Clone,
    {
        self.core.header.exception()?.map_or(Ok(()), Err)?;
        let value = self.core.value.take();
        let copy = value.clone();
        self.core.value.set(value);
        copy.ok_or_else(|| ErrorKind::AlreadyTaken.into())
    }

    /// The task's failure, if it failed (Python: `Task.exception()`).
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) if the task is not done;
    /// [`Cancelled`](ErrorKind::Cancelled) if it was cancelled.
    pub fn exception(&self) -> Result<Option<Error>, Error> {
        self.core.header.exception()
    }

    /// Calls `callback` with the task once it is done, through `call_soon`
    /// and in registration order (Python: `Task.add_done_callback`); at
    /// once through `call_soon` if it is done already.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let seen = Rc::new(Cell::new(0));
    /// let task = event_loop.create_task(async { 3 });
    /// let s = seen.clone();
    /// task.add_done_callback(move |t| s.set(t.result().unwrap()));
    /// let lp = event_loop.clone();
    /// task.add_done_callback(move |_| lp.stop()); // runs after the first
    /// event_loop.run_forever().unwrap();
    /// assert_eq!(seen.get(), 3);
    /// ```
    ///
    /// The returned [`CallbackId`] takes the callback back with
    /// [`remove_done_callback`](Self::remove_done_callback); it can be
    /// ignored.
    pub fn add_done_callback(&self, callback: impl FnOnce(&Task<T>) + 'static) -> CallbackId {
        let task = self.clone();
        self.core
            .header
            .add_callback(Box::new(move || callback(&task)))
    }

    /// Takes back a callback of [`add_done_callback`](Self::add_done_callback)
    /// that has not been scheduled yet, and returns how many were removed:
    /// 1, or 0 for one scheduled already (the task is done), removed
    /// before, or added to another task (Python:
    /// `Task.remove_done_callback`).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let calls = Rc::new(Cell::new(0));
    /// let task = event_loop.create_task(async {});
    /// let c = calls.clone();
    /// let id = task.add_done_callback(move |_| c.set(c.get() + 1));
    /// assert_eq!(task.remove_done_callback(id), 1);
    /// assert_eq!(task.remove_done_callback(id), 0);
    /// event_loop.run_until_complete(task).unwrap().unwrap();
    /// assert_eq!(calls.get(), 0);
    /// ```
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        self.core.header.remove_callback(id)
    }

    /// The task's name (Python: `Task.get_name()`), `Task-N` by default.
    pub fn get_name(&self) -> String {
        self.core.header.name()
    }

    /// Renames the task (Python: `Task.set_name()`).
    pub fn set_name(&self, name: impl Into<String>) {
        self.core.header.set_name(name.into());
    }

    /// Moves the outcome out: what awaiting the task and
    /// `run_until_complete` give.
    pub(crate) fn take(&self) -> Result<T, Error> {
        let header = &self.core.header;
        header.retrieved.set(true);
        match header.state.get() {
            State::Pending => Err(not_done()),
            State::Cancelled => Err(Error::cancelled()),
            State::Failed => Err(header.error().expect("a failed task has its error")),
            State::Finished => {
                (self.core.value.take()).ok_or_else(|| ErrorKind::AlreadyTaken.into())
            }
        }
    }
}

impl AnyTask {
    pub(crate) fn header(&self) -> &Header {
        self.inner.header()
    }

    /// Asks the task to stop; see [`Task::cancel`].
    pub fn cancel(&self) -> bool {
        self.header().cancel()
    }

    /// See [`Task::cancelling`].
    pub fn cancelling(&self) -> u32 {
        self.header().cancels.get()
    }

    /// See [`Task::uncancel`].
    pub fn uncancel(&self) -> u32 {
        self.header().uncancel()
    }

    /// Whether the task is done.
    pub fn done(&self) -> bool {
        self.header().done()
    }

    /// Whether the task ended cancelled.
    pub fn cancelled(&self) -> bool {
        self.header().state.get() == State::Cancelled
    }

    /// See [`Task::exception`].
    ///
    /// # Errors
    ///
    /// As [`Task::exception`].
    pub fn exception(&self) -> Result<Option<Error>, Error> {
        self.header().exception()
    }

    /// See [`Task::add_done_callback`].
    pub fn add_done_callback(&self, callback: impl FnOnce(&AnyTask) + 'static) -> CallbackId {
        let task = self.clone();
        self.header()
            .add_callback(Box::new(move || callback(&task)))
    }

    /// See [`Task::remove_done_callback`].
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        self.header().remove_callback(id)
    }

    /// See `Header::callback_count`.
    #[cfg(test)]
    pub(crate) fn callback_count(&self) -> usize {
        self.header().callback_count()
    }

    /// The task's name.
    pub fn get_name(&self) -> String {
        self.header().name()
    }

    /// Renames the task.
    pub fn set_name(&self, name: impl Into<String>) {
        self.header().set_name(name.into());
    }

    /// The task's number, unique in the process, and its slot in its
    /// loop's table: how a `Send` closure names a task it cannot hold.
    pub(crate) fn key(&self) -> (u32, u64) {
        (self.header().slot.get(), self.header().id)
    }

    /// The task's number, unique in the process.
    pub(crate) fn id(&self) -> u64 {
        self.header().id
    }

    /// See `Header::cancel_owned`.
    pub(crate) fn cancel_owned(&self) {
        self.header().cancel_owned();
    }

    /// The loop the task belongs to, unless it was dropped.
    pub(crate) fn event_loop(&self) -> Option<EventLoop> {
        self.header().event_loop.upgrade().map(EventLoop::from_core)
    }

    /// Completes when the task is done, whatever its outcome (retrieves
    /// nothing).
    pub(crate) async fn wait_done(&self) {
        poll_fn(|cx| {
            if self.done() {
                Poll::Ready(())
            } else {
                self.header().add_waker(cx.waker());
                Poll::Pending
            }
        })
        .await;
    }
}

/// The task whose step runs now, if any (Python: `asyncio.current_task()`).
///
/// ```
/// use corun::asyncio::{EventLoop, current_task};
///
/// assert!(current_task().is_none());
/// let event_loop = EventLoop::new().unwrap();
/// let task = event_loop.create_task_named("me", async { current_task().unwrap().get_name() });
/// assert_eq!(event_loop.run_until_complete(task).unwrap().unwrap(), "me");
/// ```
pub fn current_task() -> Option<AnyTask> {
    running_loop().and_then(|l| l.core.current.borrow().clone())
}

/// The tasks of the running loop not yet done, oldest first (Python:
/// `asyncio.all_tasks()`); none outside a running loop.
///
/// ```
/// use corun::asyncio::{all_tasks, create_task, run};
///
/// let n = run(async {
///     let _other = create_task(async {});
///     all_tasks().len()
/// });
/// assert_eq!(n.unwrap(), 2); // this task and the other
/// ```
pub fn all_tasks() -> Vec<AnyTask> {
    running_loop().map(|l| l.all_tasks()).unwrap_or_default()
}

/// Wraps `future` in a task on the running loop (Python:
/// `asyncio.create_task(coro)`); see [`EventLoop::create_task`].
///
/// ```
/// use corun::asyncio::{create_task, run};
///
/// assert_eq!(run(async { create_task(async { 2 }).await.unwrap() }).unwrap(), 2);
/// ```
///
/// # Panics
///
/// Outside a running loop (Python raises `RuntimeError` there); use
/// [`EventLoop::create_task`] to schedule onto a loop not running yet.
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    expect_loop("create_task").create_task(future)
}

/// [`create_task`] with a name (Python: `asyncio.create_task(coro, name=name)`).
///
/// # Panics
///
/// Outside a running loop.
pub fn create_task_named<F>(name: impl Into<String>, future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    expect_loop("create_task_named").create_task_named(name, future)
}

/// The running loop, or a panic that says what needed one.
pub(crate) fn expect_loop(what: &str) -> EventLoop {
    running_loop().unwrap_or_else(|| {
        panic!("corun::asyncio::{what} needs a running event loop (use corun::asyncio::run)")
    })
}

fn not_done() -> Error {
    Error::new(ErrorKind::InvalidState, "the task is not done yet")
}

/// The tasks a cancel reached through awaited handles while a future was
/// dropped, and what waits for them to be done.
#[derive(Default)]
pub(crate) struct Cascade {
    /// Tasks reached and not done yet.
    pending: Cell<usize>,
    /// A future waiting in [`Cascade::wait`].
    waker: RefCell<Option<Waker>>,
    /// What runs once none is pending (the deferred end of a task).
    then: RefCell<Option<Box<dyn FnOnce()>>>,
}

impl Cascade {
    /// Runs `then` once no task reached is pending.
    fn then(&self, then: Box<dyn FnOnce()>) {
        *self.then.borrow_mut() = Some(then);
    }

    fn one_done(&self) {
        let left = self.pending.get() - 1;
        self.pending.set(left);
        if left > 0 {
            return;
        }
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
        let then = self.then.borrow_mut().take();
        if let Some(then) = then {
            then();
        }
    }

    /// Completes when every task reached is done.
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.pending.get() == 0 {
                return Poll::Ready(());
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}

/// Runs `drop`, the drop of (part of) the current task's future because
/// that task is cancelled: the step that drops a cancelled task's future,
/// a [`Timeout`](crate::Timeout) dropping its body, a
/// [`TaskGroup`](crate::TaskGroup) dropping its body on a failure. Each
/// [`Task`] handle the current task awaits that is dropped meanwhile
/// cancels its task; the returned [`Cascade`] counts them until they are
/// done. Outside a task, `drop` just runs.
pub(crate) fn drop_cancelling<R>(drop: impl FnOnce() -> R) -> (R, Rc<Cascade>) {
    let cascade = Rc::new(Cascade::default());
    let Some((event_loop, task)) = running_loop().and_then(|l| {
        let task = l.core.current.borrow().as_ref().map(AnyTask::id);
        task.map(|t| (l, t))
    }) else {
        return (drop(), cascade);
    };
    let core = &event_loop.core;
    core.cancel_scopes
        .borrow_mut()
        .push((task, Rc::clone(&cascade)));
    let _scope = ScopeGuard(core);
    (drop(), cascade)
}

/// Leaves the innermost cancel scope, even when a drop panics.
struct ScopeGuard<'a>(&'a Core);

impl Drop for ScopeGuard<'_> {
    fn drop(&mut self) {
        let scope = self.0.cancel_scopes.borrow_mut().pop();
        drop(scope);
    }
}

/// Ends `task` cancelled, once the tasks its cancel reached are done.
fn settle_cancelled(task: &AnyTask) {
    if !task.done() {
        task.header()
            .settle(State::Cancelled, None, || task.clone());
    }
}

/// Sets the loop's current task for the length of a step.
struct CurrentGuard {
    previous: Option<AnyTask>,
    event_loop: Option<Rc<Core>>,
}

impl CurrentGuard {
    fn enter(task: AnyTask) -> Self {
        let event_loop = task.header().event_loop.upgrade();
        let previous = event_loop
            .as_ref()
            .and_then(|core| core.current.replace(Some(task)));
        Self {
            previous,
            event_loop,
        }
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        if let Some(core) = &self.event_loop {
            let this = core.current.replace(self.previous.take());
            drop(this);
        }
    }
}

impl<T> Clone for Task<T> {
    /// Another handle to the same task; it is not awaited yet.
    fn clone(&self) -> Self {
        Self {
            core: Rc::clone(&self.core),
            awaited_by: 0,
        }
    }
}

impl<T: 'static> Future for Task<T> {
    type Output = Result<T, Error>;

    /// The task's outcome, once it is done; the value moves out, so a
    /// second await of a finished task (through a clone) gives
    /// [`AlreadyTaken`](ErrorKind::AlreadyTaken). A task awaiting itself
    /// gets [`Deadlock`](ErrorKind::Deadlock) at once.
    ///
    /// A pending poll marks the handle as awaited by the task polling it:
    /// if that task is cancelled while the handle waits, dropping the
    /// handle cancels this task too (see the module docs).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (outcome, awaiting) = this.poll_outcome(cx);
        this.awaited_by = awaiting;
        outcome
    }
}

impl<T: 'static> Task<T> {
    /// Polls for the outcome without marking the handle awaited, so that
    /// dropping it never cancels the task (what `shield` needs).
    pub(crate) fn poll_unlinked(&self, cx: &Context<'_>) -> Poll<Result<T, Error>> {
        self.poll_outcome(cx).0
    }

    /// The outcome once done; else registers `cx` and gives the id of the
    /// task polling (0 outside a task).
    fn poll_outcome(&self, cx: &Context<'_>) -> (Poll<Result<T, Error>>, u64) {
        let header = &self.core.header;
        if header.done() {
            return (Poll::Ready(self.take()), 0);
        }
        let awaiting = current_task().map_or(0, |t| t.header().id);
        if awaiting == header.id {
            let error = Error::new(ErrorKind::Deadlock, "a task cannot await itself");
            return (Poll::Ready(Err(error)), 0);
        }
        header.add_waker(cx.waker());
        (Poll::Pending, awaiting)
    }
}

impl<T> Drop for Task<T> {
    /// Passes a cancel on to the task, when the handle is dropped while
    /// the task awaiting it is being cancelled; otherwise does nothing.
    fn drop(&mut self) {
        if self.awaited_by != 0 && !self.core.header.done() {
            self.core.header.cancel_awaited(self.awaited_by);
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.header.fmt(f, "Task")
    }
}

impl fmt::Debug for AnyTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.header().fmt(f, "AnyTask")
    }
}

impl Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>, what: &str) -> fmt::Result {
        f.debug_struct(what)
            .field("name", &self.name())
            .field("state", &self.state.get())
            .field("cancelling", &self.cancels.get())
            .finish()
    }
}

impl PartialEq for AnyTask {
    fn eq(&self, other: &Self) -> bool {
        self.header().id == other.header().id
    }
}

impl Eq for AnyTask {}

impl Hash for AnyTask {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.header().id.hash(state);
    }
}
