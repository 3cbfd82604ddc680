//! [`EventLoop`]: Python's asyncio event loop, on a tokio current-thread
//! runtime, with its own FIFO ready queue and timer heap (see the `core`
//! module for one iteration).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_concurrent::Observer;
use corun_core::{Error, ErrorKind};

use crate::core::{Core, Ready, default_exception_handler};
use crate::exception::ExceptionContext;
use crate::handle::{Handle, HandleInner, TimerHandle};
use crate::remote::LoopHandle;
use crate::task::{AnyTask, Task};
use crate::time::{after, instant_at, seconds_since_epoch};

thread_local! {
    /// The loop running on this thread, if any.
    static RUNNING: RefCell<Option<EventLoop>> = const { RefCell::new(None) };
}

/// Python's asyncio event loop: runs tasks and callbacks on one thread, in
/// the order they were scheduled.
///
/// A loop belongs to the thread that made it (it is neither `Send` nor
/// `Sync`); other threads reach it through a [`LoopHandle`]. Clones are
/// handles to the same loop, as Python passes its loop object around. The
/// loop is closed by [`close`](Self::close), by [`Runner`](crate::Runner)
/// and [`run`](crate::run), or when its last clone is dropped.
///
/// Underneath is a tokio current-thread runtime: inside tasks, tokio's
/// sockets, timers and channels work as usual, while the order in which
/// tasks and callbacks run is Python's (FIFO), which tokio alone does not
/// promise.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{EventLoop, sleep};
/// use std::time::Duration;
///
/// let event_loop = EventLoop::new().unwrap();
/// let answer = event_loop.run_until_complete(async {
///     sleep(Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer.unwrap(), 42);
/// event_loop.close().unwrap();
/// assert!(event_loop.is_closed());
/// ```
#[derive(Clone)]
pub struct EventLoop {
    pub(crate) core: Rc<Core>,
}

/// Marks the loop running on this thread; undoes it when dropped, even on
/// a panic.
struct RunningGuard<'a> {
    core: &'a Core,
}

impl EventLoop {
    /// A new loop, not running (Python: `asyncio.new_event_loop()`).
    ///
    /// # Errors
    ///
    /// [`Io`](ErrorKind::Io) when tokio's runtime cannot be built (the
    /// system refused an epoll instance, say).
    pub fn new() -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            core: Rc::new(Core::new(runtime)),
        })
    }

    pub(crate) fn from_core(core: Rc<Core>) -> Self {
        Self { core }
    }

    pub(crate) fn downgrade(&self) -> Weak<Core> {
        Rc::downgrade(&self.core)
    }

    /// Runs `future` as a task until it is done, and returns its result
    /// (Python: `loop.run_until_complete(future)`).
    ///
    /// Other tasks and callbacks run meanwhile; those still pending when it
    /// returns stay pending, and run again the next time the loop runs.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// assert_eq!(event_loop.run_until_complete(async { 6 * 7 }).unwrap(), 42);
    /// let err = event_loop.run_until_complete(async { panic!("boom") }).unwrap_err();
    /// assert_eq!(err.panic_message(), Some("boom"));
    /// ```
    ///
    /// # Errors
    ///
    /// The task's own error: [`Panicked`](ErrorKind::Panicked) if the
    /// future panicked, [`Cancelled`](ErrorKind::Cancelled) if it was
    /// cancelled. [`InvalidState`](ErrorKind::InvalidState) if the loop is
    /// closed, already running, another loop (or a tokio runtime) runs on
    /// this thread, or the loop was stopped before the future was done.
    pub fn run_until_complete<F>(&self, future: F) -> Result<F::Output, Error>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.check_can_run()?;
        let task = self.create_task(future);
        let active = Rc::new(std::cell::Cell::new(true));
        let weak = self.downgrade();
        let still = Rc::clone(&active);
        task.as_any().add_done_callback(move |_| {
            if still.get() {
                if let Some(core) = weak.upgrade() {
                    core.stopping.set(true);
                }
            }
        });
        let ran = self.run_forever();
        active.set(false);
        ran?;
        if !task.done() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "the event loop stopped before the future completed",
            ));
        }
        task.take()
    }

    /// Runs the loop until [`stop`](Self::stop) is called (Python:
    /// `loop.run_forever()`).
    ///
    /// `stop` lets the current iteration finish: the callbacks and steps
    /// ready when it began all run, and what they schedule runs the next
    /// time the loop runs. Called before `run_forever`, `stop` makes it run
    /// one iteration (without waiting) and return.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let lp = event_loop.clone();
    /// event_loop.call_soon(move || lp.stop());
    /// event_loop.run_forever().unwrap();
    /// assert!(!event_loop.is_running());
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) if the loop is closed or
    /// already running, or another loop or a tokio runtime runs on this
    /// thread (tokio would panic there; corun says so instead).
    pub fn run_forever(&self) -> Result<(), Error> {
        self.check_can_run()?;
        let runtime = self.core.runtime.borrow();
        let runtime = runtime.as_ref().ok_or_else(closed_loop)?;
        let _guard = RunningGuard::enter(self);
        runtime.block_on(async {
            loop {
                self.core.run_once().await;
                if self.core.stopping.get() {
                    break;
                }
            }
        });
        Ok(())
    }

    /// Asks the loop to stop once the current iteration is done (Python:
    /// `loop.stop()`). See [`run_forever`](Self::run_forever).
    pub fn stop(&self) {
        self.core.stopping.set(true);
    }

    /// Closes the loop (Python: `loop.close()`): tasks still pending are
    /// dropped at their await point (their `Drop` runs now) and resolve as
    /// cancelled, scheduled callbacks are dropped, task failures nobody
    /// retrieved are reported to the exception handler, and tokio's
    /// runtime is shut down. Closing a closed loop does nothing.
    ///
    /// In debug mode each task still pending is reported first, as
    /// Python's "Task was destroyed but it is pending!".
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let task = event_loop.create_task(async { 1 });
    /// event_loop.close().unwrap();
    /// assert!(task.cancelled()); // it never ran
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) if the loop is running.
    pub fn close(&self) -> Result<(), Error> {
        if self.core.running.get() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "cannot close a running event loop",
            ));
        }
        self.core.close();
        Ok(())
    }

    /// Whether the loop is running (Python: `loop.is_running()`).
    pub fn is_running(&self) -> bool {
        self.core.running.get()
    }

    /// Whether the loop was closed (Python: `loop.is_closed()`).
    pub fn is_closed(&self) -> bool {
        self.core.closed.get()
    }

    /// The loop's clock: monotonic seconds, as `f64` (Python:
    /// `loop.time()`). Every loop in the process reads the same clock;
    /// [`call_at`](Self::call_at) takes its values.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let (a, b) = (event_loop.time(), event_loop.time());
    /// assert!(a <= b);
    /// ```
    pub fn time(&self) -> f64 {
        seconds_since_epoch(Instant::now())
    }

    /// Schedules `callback` to run in the next iteration, after everything
    /// scheduled before it (Python: `loop.call_soon(callback)`).
    ///
    /// A callback that panics is reported to the exception handler and the
    /// loop goes on. On a closed loop the callback is dropped and the
    /// handle reads cancelled (Python raises "Event loop is closed" here).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let order = Rc::new(RefCell::new(Vec::new()));
    /// for i in 0..3 {
    ///     let order = order.clone();
    ///     event_loop.call_soon(move || order.borrow_mut().push(i));
    /// }
    /// event_loop.stop();
    /// event_loop.run_forever().unwrap();
    /// assert_eq!(*order.borrow(), [0, 1, 2]);
    /// ```
    pub fn call_soon(&self, callback: impl FnOnce() + 'static) -> Handle {
        if self.is_closed() {
            return Handle {
                inner: HandleInner::dead(),
            };
        }
        let inner = HandleInner::soon(Box::new(callback));
        self.core.push(Ready::Call(Rc::clone(&inner)));
        Handle { inner }
    }

    /// Schedules `callback` to run `delay` from now (Python:
    /// `loop.call_later(delay, callback)`).
    ///
    /// Timers due in the same iteration run by deadline, and those with
    /// equal deadlines in the order they were scheduled (Python leaves that
    /// order undefined).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    /// use std::time::Duration;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let lp = event_loop.clone();
    /// event_loop.call_later(Duration::from_millis(1), move || lp.stop());
    /// event_loop.run_forever().unwrap();
    /// ```
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.schedule_timer(after(delay), Box::new(callback))
    }

    /// Schedules `callback` to run at `when`, in the seconds of
    /// [`time`](Self::time) (Python: `loop.call_at(when, callback)`). A
    /// time already past runs in the next iteration.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let lp = event_loop.clone();
    /// let timer = event_loop.call_at(event_loop.time() + 0.001, move || lp.stop());
    /// event_loop.run_forever().unwrap();
    /// assert!(event_loop.time() >= timer.when());
    /// ```
    ///
    /// # Panics
    ///
    /// If `when` is NaN.
    pub fn call_at(&self, when: f64, callback: impl FnOnce() + 'static) -> TimerHandle {
        self.schedule_timer(instant_at(when), Box::new(callback))
    }

    fn schedule_timer(&self, when: Instant, callback: Box<dyn FnOnce()>) -> TimerHandle {
        if self.is_closed() {
            return TimerHandle {
                inner: HandleInner::dead(),
            };
        }
        let inner = HandleInner::timer(callback, when, self.downgrade());
        self.core.push_timer(Rc::clone(&inner));
        TimerHandle { inner }
    }

    /// A `Send` handle for other threads: `call_soon_threadsafe`, `stop`.
    pub fn handle(&self) -> LoopHandle {
        LoopHandle {
            remote: self.core.remote.clone(),
        }
    }

    /// Wraps `future` in a task, scheduled to start in the next iteration
    /// (Python: `loop.create_task(coro)`); its name is `Task-N`.
    ///
    /// The loop holds the task until it is done, so a task never vanishes
    /// because its handle was dropped. On a closed loop the task never
    /// runs and fails with [`ShutDown`](ErrorKind::ShutDown).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let task = event_loop.create_task(async { "done" });
    /// assert!(!task.done());
    /// assert_eq!(event_loop.run_until_complete(task).unwrap().unwrap(), "done");
    /// ```
    pub fn create_task<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Task::spawn(self, None, future)
    }

    /// [`create_task`](Self::create_task) with a name (Python:
    /// `loop.create_task(coro, name=name)`).
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// let task = event_loop.create_task_named("fetch", async {});
    /// assert_eq!(task.get_name(), "fetch");
    /// ```
    pub fn create_task_named<F>(&self, name: impl Into<String>, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Task::spawn(self, Some(name.into()), future)
    }

    /// The tasks of this loop not yet done, oldest first (Python:
    /// `asyncio.all_tasks(loop)`).
    pub fn all_tasks(&self) -> Vec<AnyTask> {
        self.core.tasks.borrow().all()
    }

    /// Sets the exception handler: what is told of failures that have
    /// nobody else to go to (Python: `loop.set_exception_handler`). It
    /// replaces the default one, which prints on stderr.
    ///
    /// A handler that panics is caught; the default handler reports both.
    pub fn set_exception_handler(&self, handler: impl Fn(&ExceptionContext) + 'static) {
        *self.core.handler.borrow_mut() = Some(Rc::new(handler));
    }

    /// Goes back to the default exception handler (Python:
    /// `loop.set_exception_handler(None)`).
    pub fn clear_exception_handler(&self) {
        let old = self.core.handler.borrow_mut().take();
        drop(old);
    }

    /// Hands `context` to the exception handler (Python:
    /// `loop.call_exception_handler(context)`).
    pub fn call_exception_handler(&self, context: &ExceptionContext) {
        self.core.report(context.clone());
    }

    /// Prints `context` on stderr, as the loop does when no handler is set
    /// (Python: `loop.default_exception_handler(context)`); a handler of
    /// one's own may end with it.
    pub fn default_exception_handler(context: &ExceptionContext) {
        default_exception_handler(context);
    }

    /// Turns debug mode on or off (Python: `loop.set_debug`): callbacks
    /// and task steps slower than
    /// [`slow_callback_duration`](Self::slow_callback_duration) are
    /// reported on stderr, and [`close`](Self::close) reports the tasks
    /// still pending.
    ///
    /// ```
    /// use corun::asyncio::EventLoop;
    ///
    /// let event_loop = EventLoop::new().unwrap();
    /// event_loop.set_debug(true);
    /// assert!(event_loop.get_debug());
    /// ```
    pub fn set_debug(&self, enabled: bool) {
        self.core.debug.set(enabled);
    }

    /// Whether debug mode is on (Python: `loop.get_debug()`).
    pub fn get_debug(&self) -> bool {
        self.core.debug.get()
    }

    /// How long a step may take before debug mode reports it (Python's
    /// `loop.slow_callback_duration`, 100 ms by default).
    pub fn slow_callback_duration(&self) -> Duration {
        self.core.slow_callback.get()
    }

    /// Sets [`slow_callback_duration`](Self::slow_callback_duration).
    pub fn set_slow_callback_duration(&self, duration: Duration) {
        self.core.slow_callback.set(duration);
    }

    /// Records every step of the tasks created from now on into
    /// `recorder` (a `corun::trace::Recorder`, or any [`Observer`]), for a
    /// timeline of the run: one lane for the loop's thread, a bar per step
    /// labelled with the task's name, each step's wait since the task was
    /// suspended as its queue time, and the loop's idle time as the gaps
    /// between bars. A loop without one records nothing and pays one branch
    /// per task and per step.
    ///
    /// ```
    /// use corun::asyncio::{EventLoop, sleep};
    /// use corun::trace::Recorder;
    /// use std::time::Duration;
    ///
    /// let rec = Recorder::new();
    /// let event_loop = EventLoop::new().unwrap();
    /// event_loop.set_recorder(rec.clone());
    /// let task = event_loop.create_task_named("nap", async {
    ///     sleep(Duration::from_millis(1)).await; // one wait: two steps
    /// });
    /// event_loop.run_until_complete(task).unwrap().unwrap();
    /// let timeline = rec.timeline();
    /// let naps: Vec<_> = timeline.tasks().iter().filter(|t| t.label == "nap").collect();
    /// assert_eq!(naps.len(), 2, "one wait: two steps");
    /// // The second step waited from the suspend to the resume.
    /// assert!(naps[1].queue_wait().unwrap() >= Duration::from_millis(1));
    /// assert_eq!(timeline.workers().len(), 1, "one lane: the loop's thread");
    /// ```
    pub fn set_recorder(&self, recorder: impl Observer) {
        *self.core.observer.borrow_mut() = Some(Arc::new(recorder));
    }

    /// Stops recording the steps of tasks created from now on.
    pub fn clear_recorder(&self) {
        let old = self.core.observer.borrow_mut().take();
        drop(old);
    }

    /// Refuses to run where running would be wrong (or would make tokio
    /// panic).
    fn check_can_run(&self) -> Result<(), Error> {
        if self.is_closed() {
            return Err(closed_loop());
        }
        if self.is_running() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "this event loop is already running",
            ));
        }
        if RUNNING.with(|r| r.borrow().is_some()) {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "cannot run an event loop while another loop is running on this thread",
            ));
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "cannot run an event loop inside a tokio runtime",
            ));
        }
        Ok(())
    }
}

/// The loop running on this thread (Python: `asyncio.get_running_loop()`).
///
/// ```
/// use corun::asyncio::{EventLoop, get_running_loop};
///
/// assert!(get_running_loop().is_err());
/// let event_loop = EventLoop::new().unwrap();
/// let inside = event_loop.run_until_complete(async { get_running_loop().unwrap().is_running() });
/// assert!(inside.unwrap());
/// ```
///
/// # Errors
///
/// [`InvalidState`](ErrorKind::InvalidState) outside a running loop.
pub fn get_running_loop() -> Result<EventLoop, Error> {
    running_loop().ok_or_else(|| Error::new(ErrorKind::InvalidState, "no running event loop"))
}

/// The loop running on this thread, if any.
pub(crate) fn running_loop() -> Option<EventLoop> {
    RUNNING.with(|r| r.borrow().clone())
}

/// The error for running a closed loop.
fn closed_loop() -> Error {
    Error::new(ErrorKind::InvalidState, "the event loop is closed")
}

impl<'a> RunningGuard<'a> {
    fn enter(event_loop: &'a EventLoop) -> Self {
        event_loop.core.running.set(true);
        RUNNING.with(|r| *r.borrow_mut() = Some(event_loop.clone()));
        Self {
            core: &event_loop.core,
        }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        let this = RUNNING.with(|r| r.borrow_mut().take());
        self.core.running.set(false);
        self.core.stopping.set(false);
        drop(this);
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .field("debug", &self.get_debug())
            .field("tasks", &self.core.tasks.borrow().len())
            .finish()
    }
}
