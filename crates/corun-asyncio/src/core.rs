//! The loop's machinery: its ready queue, its timer heap, one iteration of
//! Python's `_run_once`, and closing.
//!
//! # One iteration
//!
//! 1. If nothing is ready and no stop was asked for, wait for the next
//!    timer (precisely: see the `deadline` module) or a wake-up (a task's
//!    waker, another thread); else let tokio
//!    poll its drivers once without waiting (Python's `select(0)`).
//! 2. Move the inbox (steps woken meanwhile, thread-safe callbacks) onto
//!    the ready queue, then every expired timer, by deadline and, for equal
//!    deadlines, in the order they were scheduled.
//! 3. Run exactly the callbacks and task steps ready now; what they
//!    schedule runs in the next iteration.
//!
//! A task step is an `async-task` runnable; its waker pushes it onto the
//! inbox (from any thread), so tasks resume in the order they were woken,
//! as in Python, not in tokio's order. Tokio's sockets and timers still
//! work inside tasks: their wakers are the tasks' wakers.
//!
//! No `RefCell` borrow is held while user code runs: callbacks, steps and
//! the drops of user values all run with the loop's state released, so
//! they may call back into the loop.

use std::cell::{Cell, OnceCell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_task::Runnable;

use corun_concurrent::{Executor, Observer, ThreadPoolExecutor};
use corun_core::Error;

use crate::deadline::Deadline;
use crate::exception::ExceptionContext;
use crate::handle::HandleInner;
use crate::remote::{Remote, RemoteItem};
use crate::task::AnyTask;

/// Python's default `slow_callback_duration`.
pub(crate) const SLOW_CALLBACK: Duration = Duration::from_millis(100);

/// How many cancelled timers the heap may hold before a sweep (and at
/// least half of it), as Python's `_MIN_SCHEDULED_TIMER_HANDLES`.
const MIN_SWEEP: usize = 100;

/// The exception handler, as set by `set_exception_handler`.
pub(crate) type Handler = Rc<dyn Fn(&ExceptionContext)>;

/// What the ready queue holds.
pub(crate) enum Ready {
    Step(Runnable),
    Call(Rc<HandleInner>),
    Remote(Box<dyn FnOnce() + Send>),
    Stop,
}

/// A task the loop holds until it is done.
pub(crate) struct Pending {
    pub(crate) task: AnyTask,
    pub(crate) handle: Option<async_task::Task<()>>,
    /// Wakes the task's runnable (to deliver a cancel).
    pub(crate) waker: std::task::Waker,
}

/// The tasks a loop holds: a slab, so that adding and removing a task
/// costs the same however many are held (each task keeps its slot
/// in its header); creation order is recovered from the tasks' ids on the
/// rare calls that want it.
pub(crate) struct Tasks {
    slots: Vec<Slot>,
    /// The first vacant slot, `usize::MAX` if none.
    free: usize,
    len: usize,
}

enum Slot {
    Occupied(Pending),
    /// A vacant slot, and the next vacant one after it.
    Vacant(usize),
}

/// A slab index as a task header stores it.
fn to_slot(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 2^32 tasks pending on one loop")
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: usize::MAX,
            len: 0,
        }
    }
}

impl Tasks {
    /// Holds `entry`; returns its slot.
    pub(crate) fn insert(&mut self, entry: Pending) -> u32 {
        self.len += 1;
        match self.slots.get_mut(self.free) {
            Some(slot) => {
                let index = self.free;
                let Slot::Vacant(next) = *slot else {
                    unreachable!("the free list holds vacant slots only")
                };
                self.free = next;
                *slot = Slot::Occupied(entry);
                to_slot(index)
            }
            None => {
                self.slots.push(Slot::Occupied(entry));
                to_slot(self.slots.len() - 1)
            }
        }
    }

    /// Lets go of the task `id` held in `slot`; `None` if it is not there.
    pub(crate) fn remove(&mut self, slot: u32, id: u64) -> Option<Pending> {
        let slot = slot as usize;
        let entry = self.slots.get_mut(slot)?;
        if !matches!(entry, Slot::Occupied(p) if p.task.header().id() == id) {
            return None;
        }
        let Slot::Occupied(pending) = std::mem::replace(entry, Slot::Vacant(self.free)) else {
            unreachable!("checked above")
        };
        self.free = slot;
        self.len -= 1;
        Some(pending)
    }

    /// The task `id` held in `slot`, if it is still held there.
    pub(crate) fn get(&self, slot: u32, id: u64) -> Option<&Pending> {
        match self.slots.get(slot as usize)? {
            Slot::Occupied(p) if p.task.header().id() == id => Some(p),
            _ => None,
        }
    }

    /// The waker of the task `id` held in `slot`.
    pub(crate) fn waker(&self, slot: u32, id: u64) -> Option<std::task::Waker> {
        self.get(slot, id).map(|p| p.waker.clone())
    }

    /// How many tasks are held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The tasks held, oldest first.
    pub(crate) fn all(&self) -> Vec<AnyTask> {
        let mut all: Vec<AnyTask> = (self.slots.iter())
            .filter_map(|slot| match slot {
                Slot::Occupied(p) => Some(p.task.clone()),
                Slot::Vacant(_) => None,
            })
            .collect();
        all.sort_by_key(|t| t.header().id());
        all
    }

    /// Lets go of every task, and returns them oldest first.
    fn take_all(&mut self) -> Vec<Pending> {
        let mut all: Vec<Pending> = (std::mem::take(self).slots.into_iter())
            .filter_map(|slot| match slot {
                Slot::Occupied(p) => Some(p),
                Slot::Vacant(_) => None,
            })
            .collect();
        all.sort_by_key(|p| p.task.header().id());
        all
    }
}

/// A timer in the heap: ordered by deadline, then by scheduling order.
struct Timer {
    key: Reverse<(Instant, u64)>,
    handle: Rc<HandleInner>,
}

/// One event loop's state. Lives on its thread, behind the `Rc` of
/// [`EventLoop`](crate::EventLoop).
pub(crate) struct Core {
    ready: RefCell<VecDeque<Ready>>,
    pub(crate) remote: Arc<Remote>,
    timers: RefCell<BinaryHeap<Timer>>,
    timer_seq: Cell<u64>,
    cancelled_timers: Cell<usize>,
    pub(crate) running: Cell<bool>,
    pub(crate) stopping: Cell<bool>,
    pub(crate) closed: Cell<bool>,
    pub(crate) debug: Cell<bool>,
    pub(crate) slow_callback: Cell<Duration>,
    pub(crate) handler: RefCell<Option<Handler>>,
    /// Every task not yet done.
    pub(crate) tasks: RefCell<Tasks>,
    /// Tasks that panicked, to report at close if nobody retrieved it.
    pub(crate) failed: RefCell<Vec<AnyTask>>,
    /// The task whose step runs now.
    pub(crate) current: RefCell<Option<AnyTask>>,
    /// The cancel scopes open now, innermost last: a task id and what its
    /// cancel reached (see `task::drop_cancelling`).
    pub(crate) cancel_scopes: RefCell<Vec<(u64, Rc<crate::task::Cascade>)>>,
    pub(crate) runtime: RefCell<Option<tokio::runtime::Runtime>>,
    /// The thread pool behind `to_thread`, made on first use and shut
    /// down at close (Python's default executor).
    pub(crate) default_executor: RefCell<Option<ThreadPoolExecutor>>,
    /// The precise timer the loop waits on, made on the first wait (it
    /// needs the running runtime); `None` inside where there is none.
    deadline: OnceCell<Option<Deadline>>,
    /// Where task steps are recorded, if anywhere (`set_recorder`).
    pub(crate) observer: RefCell<Option<Arc<dyn Observer>>>,
}

impl Core {
    pub(crate) fn new(runtime: tokio::runtime::Runtime) -> Self {
        Self {
            ready: RefCell::new(VecDeque::new()),
            remote: Arc::new(Remote::new()),
            timers: RefCell::new(BinaryHeap::new()),
            timer_seq: Cell::new(0),
            cancelled_timers: Cell::new(0),
            running: Cell::new(false),
            stopping: Cell::new(false),
            closed: Cell::new(false),
            debug: Cell::new(false),
            slow_callback: Cell::new(SLOW_CALLBACK),
            handler: RefCell::new(None),
            tasks: RefCell::new(Tasks::default()),
            failed: RefCell::new(Vec::new()),
            current: RefCell::new(None),
            cancel_scopes: RefCell::new(Vec::new()),
            runtime: RefCell::new(Some(runtime)),
            default_executor: RefCell::new(None),
            deadline: OnceCell::new(),
            observer: RefCell::new(None),
        }
    }

    /// The recorder new tasks report their steps to.
    pub(crate) fn observer(&self) -> Option<Arc<dyn Observer>> {
        self.observer.borrow().clone()
    }

    /// Moves the inbox onto the ready queue.
    fn drain_remote(&self) {
        if self.remote.is_empty() {
            return;
        }
        let mut ready = self.ready.borrow_mut();
        self.remote.drain(&mut |item| {
            ready.push_back(match item {
                RemoteItem::Step(runnable) => Ready::Step(runnable),
                RemoteItem::Call(callback) => Ready::Remote(callback),
                RemoteItem::Stop => Ready::Stop,
            })
        });
    }

    /// Appends `item` to the ready queue, after everything woken before.
    pub(crate) fn push(&self, item: Ready) {
        self.drain_remote();
        self.ready.borrow_mut().push_back(item);
    }

    /// Puts `handle` into the timer heap.
    pub(crate) fn push_timer(&self, handle: Rc<HandleInner>) {
        let when = handle.when().expect("a timer handle has a deadline");
        let seq = self.timer_seq.get();
        self.timer_seq.set(seq + 1);
        self.timers.borrow_mut().push(Timer {
            key: Reverse((when, seq)),
            handle,
        });
    }

    /// A timer still in the heap was cancelled.
    pub(crate) fn timer_cancelled(&self) {
        self.cancelled_timers.set(self.cancelled_timers.get() + 1);
    }

    /// One iteration of the loop (see the module docs).
    pub(crate) async fn run_once(&self) {
        self.sweep_timers();
        self.drain_remote();
        if self.ready.borrow().is_empty() && !self.stopping.get() {
            let next = self.timers.borrow().peek().map(|t| t.key.0.0);
            match next {
                Some(when) => self.wait_until(when).await,
                None => self.remote.notified().await,
            }
        } else {
            tokio::task::yield_now().await;
        }
        self.drain_remote();
        self.expire_timers();
        let ntodo = self.ready.borrow().len();
        for _ in 0..ntodo {
            let item = self.ready.borrow_mut().pop_front();
            match item {
                Some(item) => self.run_item(item),
                None => break,
            }
        }
    }

    /// Waits for the deadline `when` or a wake-up, whichever comes first:
    /// on the precise timer where there is one (see the `deadline`
    /// module), else on tokio's.
    async fn wait_until(&self, when: Instant) {
        match self.deadline.get_or_init(Deadline::new) {
            Some(deadline) => deadline.wait(when, self.remote.notified()).await,
            None => {
                let deadline = tokio::time::Instant::from_std(when);
                let _ = tokio::time::timeout_at(deadline, self.remote.notified()).await;
            }
        }
    }

    /// Drops cancelled timers from the top of the heap, and sweeps the
    /// whole heap when most of it is cancelled.
    fn sweep_timers(&self) {
        let mut timers = self.timers.borrow_mut();
        let cancelled = self.cancelled_timers.get();
        if cancelled > MIN_SWEEP && cancelled * 2 > timers.len() {
            timers.retain(|t| {
                let keep = !t.handle.is_cancelled();
                if !keep {
                    t.handle.left_heap();
                }
                keep
            });
            self.cancelled_timers.set(0);
        }
        while timers.peek().is_some_and(|t| t.handle.is_cancelled()) {
            let timer = timers.pop().expect("peeked");
            timer.handle.left_heap();
            self.cancelled_timers
                .set(self.cancelled_timers.get().saturating_sub(1));
        }
    }

    /// Moves the timers due by now onto the ready queue.
    fn expire_timers(&self) {
        let now = Instant::now();
        let mut timers = self.timers.borrow_mut();
        let mut ready = self.ready.borrow_mut();
        while timers.peek().is_some_and(|t| t.key.0.0 <= now) {
            let timer = timers.pop().expect("peeked");
            timer.handle.left_heap();
            if timer.handle.is_cancelled() {
                self.cancelled_timers
                    .set(self.cancelled_timers.get().saturating_sub(1));
            } else {
                ready.push_back(Ready::Call(timer.handle));
            }
        }
    }

    /// Runs one ready item; a panic is reported, never propagated.
    fn run_item(&self, item: Ready) {
        let started = self.debug.get().then(Instant::now);
        let what = match item {
            Ready::Step(runnable) => {
                // A step catches its task's panics itself; this guards the
                // loop against anything else.
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| runnable.run())) {
                    self.report(
                        ExceptionContext::new("Exception in task step")
                            .with_error(Error::from_panic(&*payload)),
                    );
                }
                "task step"
            }
            Ready::Call(handle) => {
                let Some(callback) = handle.take() else {
                    return;
                };
                self.call(callback);
                "callback"
            }
            Ready::Remote(callback) => {
                self.call(callback);
                "thread-safe callback"
            }
            Ready::Stop => {
                self.stopping.set(true);
                return;
            }
        };
        if let Some(started) = started {
            let took = started.elapsed();
            if took >= self.slow_callback.get() {
                eprintln!(
                    "corun::asyncio: executing a {what} took {:.3} seconds",
                    took.as_secs_f64()
                );
            }
        }
    }

    fn call(&self, callback: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(callback)) {
            self.report(
                ExceptionContext::new("Exception in callback")
                    .with_error(Error::from_panic(&*payload)),
            );
        }
    }

    /// Hands `context` to the exception handler; a handler that panics
    /// (or none) leaves it to the default one.
    pub(crate) fn report(&self, context: ExceptionContext) {
        let handler = self.handler.borrow().clone();
        match handler {
            None => default_exception_handler(&context),
            Some(handler) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| handler(&context))) {
                    default_exception_handler(
                        &ExceptionContext::new("Unhandled error in exception handler")
                            .with_error(Error::from_panic(&*payload)),
                    );
                    default_exception_handler(&context);
                }
            }
        }
    }

    /// Closes the loop: refuses new work, drops the tasks still pending
    /// (their futures' drops run here, and they resolve as cancelled),
    /// drops what is still scheduled, waits for the default executor's
    /// running calls, reports failures nobody retrieved, and shuts tokio
    /// down.
    pub(crate) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.remote.close();
        let runtime = self.runtime.borrow_mut().take();
        let _enter = runtime.as_ref().map(|rt| rt.enter());
        let pending = self.tasks.borrow_mut().take_all();
        for entry in pending {
            if self.debug.get() {
                self.report(
                    ExceptionContext::new("Task was destroyed but it is pending!")
                        .with_task(entry.task.clone()),
                );
            }
            entry.task.header().close_pending();
            let handle = entry.handle;
            let _ = catch_unwind(AssertUnwindSafe(move || drop(handle)));
        }
        loop {
            self.drain_remote();
            let ready = std::mem::take(&mut *self.ready.borrow_mut());
            if ready.is_empty() {
                break;
            }
            for item in ready {
                let _ = catch_unwind(AssertUnwindSafe(move || drop(item)));
            }
        }
        let timers = std::mem::take(&mut *self.timers.borrow_mut());
        let _ = catch_unwind(AssertUnwindSafe(move || drop(timers)));
        // Calls still queued were cancelled when their awaiting tasks were
        // dropped above; wait for those running (Python's `asyncio.run`
        // waits for them too, in `shutdown_default_executor`).
        let executor = self.default_executor.borrow_mut().take();
        if let Some(executor) = executor {
            executor.shutdown(true, true);
        }
        let failed = std::mem::take(&mut *self.failed.borrow_mut());
        for task in failed {
            let header = task.header();
            if !header.retrieved() {
                if let Some(error) = header.error() {
                    self.report(
                        ExceptionContext::new("Task exception was never retrieved")
                            .with_error(error)
                            .with_task(task.clone()),
                    );
                }
            }
        }
        drop(_enter);
        if let Some(runtime) = runtime {
            // Never blocks, and is allowed inside another runtime.
            runtime.shutdown_background();
        }
    }
}

/// What happens to an [`ExceptionContext`] when no handler is set: it is
/// printed on stderr (Python: `loop.default_exception_handler`).
pub(crate) fn default_exception_handler(context: &ExceptionContext) {
    eprintln!("corun::asyncio: {context}");
}

impl Drop for Core {
    fn drop(&mut self) {
        self.close();
    }
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}
