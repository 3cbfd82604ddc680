//! Time limits: [`timeout`] / [`timeout_at`] around a body, and
//! [`wait_for`] around a task (Python: `asyncio.timeout`,
//! `asyncio.timeout_at`, `asyncio.wait_for`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use corun_core::{Error, ErrorKind};

use crate::handle::TimerHandle;
use crate::task::{Task, create_task, drop_cancelling, expect_loop};
use crate::wait::alarm_after;
use crate::watch::Watch;

/// A deadline around a body (Python 3.11: the `Timeout` of
/// `async with asyncio.timeout(delay) as cm`).
///
/// # How a body is stopped
///
/// Python's `async with timeout(d):` cancels its task when the deadline
/// passes, lets the `CancelledError` unwind the body, and turns it back
/// into `TimeoutError` on the way out, counting with `cancelling()` /
/// `uncancel()` so that a cancel from outside is not mistaken for its own.
/// In corun a cancel drops a future at its await point, so the
/// [`Timeout`] owns its body and does the same directly: when the deadline
/// has passed, the next time the task resumes the body is dropped where
/// it waits (its `Drop` cleanup runs, as Python's `finally` blocks do) and
/// the timeout gives a [`Timeout`](corun_core::ErrorKind::Timeout) error.
/// A [`Task`] the body was awaiting when it was dropped is cancelled, and
/// the error comes once that task is done, as Python's cancel reaches the
/// task the body awaits.
/// It never cancels the task, so `cancelling()` is untouched, and a cancel
/// from outside drops the whole task, timeout and all: it is never turned
/// into a time-out. Nested timeouts nest the same way: an outer one that
/// expires drops the inner one with the body.
///
/// | state      | entered by                                          | `expired()` |
/// |------------|-----------------------------------------------------|-------------|
/// | created    | [`timeout`], [`timeout_at`]                         | no          |
/// | entered    | the first poll of [`Timeout::run`]                  | no          |
/// | expired    | the deadline passing while entered                  | yes         |
/// | exited     | the body finishing in time, or the run dropped      | no          |
///
/// Clones are the same timeout, so a body can reschedule the timeout it
/// runs under.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{run, sleep, timeout};
/// use std::time::Duration;
///
/// let (err, expired) = run(async {
///     let cm = timeout(Some(Duration::from_millis(5)));
///     let err = cm.run(sleep(Duration::from_secs(3600))).await.unwrap_err();
///     (err, cm.expired())
/// })
/// .unwrap();
/// assert!(err.is_timeout() && expired);
/// ```
#[derive(Clone)]
pub struct Timeout {
    inner: Rc<Inner>,
}

struct Inner {
    /// A [`timeout`]'s delay, until entering makes it a deadline.
    delay: Cell<Option<Duration>>,
    when: Cell<Option<f64>>,
    state: Cell<State>,
    timer: RefCell<Option<TimerHandle>>,
    /// The body's task, woken when the deadline passes.
    waker: RefCell<Option<Waker>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Created,
    Entered,
    Expired,
    Exited,
}

/// A timeout `delay` from when its body starts; `None` never expires
/// (Python: `asyncio.timeout(delay)`, where the delay counts from entering
/// the block).
///
/// ```
/// use corun::asyncio::{run, timeout};
/// use std::time::Duration;
///
/// let v = run(async { timeout(Some(Duration::from_secs(1))).run(async { 5 }).await });
/// assert_eq!(v.unwrap().unwrap(), 5);
/// ```
pub fn timeout(delay: Option<Duration>) -> Timeout {
    let timeout = Timeout::new(None);
    timeout.inner.delay.set(delay);
    timeout
}

/// A timeout at `when`, in the seconds of
/// [`EventLoop::time`](crate::EventLoop::time); `None` never expires
/// (Python: `asyncio.timeout_at(when)`).
///
/// ```
/// use corun::asyncio::{get_running_loop, run, sleep, timeout_at};
/// use std::time::Duration;
///
/// let err = run(async {
///     let now = get_running_loop().unwrap().time();
///     timeout_at(Some(now + 0.002)).run(sleep(Duration::from_secs(3600))).await.unwrap_err()
/// });
/// assert!(err.unwrap().is_timeout());
/// ```
///
/// # Panics
///
/// If `when` is NaN.
pub fn timeout_at(when: Option<f64>) -> Timeout {
    if let Some(when) = when {
        assert!(
            !when.is_nan(),
            "corun::asyncio::timeout_at: a time of NaN seconds"
        );
    }
    Timeout::new(when.map(|w| w.max(0.0)))
}

impl Timeout {
    fn new(when: Option<f64>) -> Self {
        Self {
            inner: Rc::new(Inner {
                delay: Cell::new(None),
                when: Cell::new(when),
                state: Cell::new(State::Created),
                timer: RefCell::new(None),
                waker: RefCell::new(None),
            }),
        }
    }

    /// The deadline, in the seconds of
    /// [`EventLoop::time`](crate::EventLoop::time); `None` for none
    /// (Python: `Timeout.when()`). A [`timeout`] not entered yet has no
    /// deadline yet.
    pub fn when(&self) -> Option<f64> {
        self.inner.when.get()
    }

    /// Whether the deadline passed while the body ran, so the body was (or
    /// is about to be) stopped (Python: `Timeout.expired()`).
    pub fn expired(&self) -> bool {
        self.inner.state.get() == State::Expired
    }

    /// Moves the deadline to `when` (Python: `Timeout.reschedule(when)`);
    /// `None` removes it. A time already past expires the timeout in the
    /// next iteration.
    ///
    /// ```
    /// use corun::asyncio::{get_running_loop, run, sleep, timeout};
    /// use std::time::Duration;
    ///
    /// let v = run(async {
    ///     let cm = timeout(Some(Duration::from_millis(1)));
    ///     let c = cm.clone();
    ///     cm.run(async move {
    ///         c.reschedule(None).unwrap(); // no deadline any more
    ///         sleep(Duration::from_millis(5)).await;
    ///         let now = get_running_loop().unwrap().time();
    ///         c.reschedule(Some(now + 3600.0)).unwrap();
    ///         7
    ///     })
    ///     .await
    /// });
    /// assert_eq!(v.unwrap().unwrap(), 7);
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) once the timeout expired
    /// or its body finished (Python raises `RuntimeError` there).
    ///
    /// # Panics
    ///
    /// If `when` is NaN.
    pub fn reschedule(&self, when: Option<f64>) -> Result<(), Error> {
        if let Some(when) = when {
            assert!(
                !when.is_nan(),
                "corun::asyncio::Timeout::reschedule: a time of NaN seconds"
            );
        }
        match self.inner.state.get() {
            State::Expired => Err(Error::new(
                ErrorKind::InvalidState,
                "cannot reschedule an expired timeout",
            )),
            State::Exited => Err(Error::new(
                ErrorKind::InvalidState,
                "cannot reschedule a timeout whose body finished",
            )),
            State::Created => {
                self.inner.delay.set(None);
                self.inner.when.set(when.map(|w| w.max(0.0)));
                Ok(())
            }
            State::Entered => {
                self.inner.when.set(when.map(|w| w.max(0.0)));
                self.arm();
                Ok(())
            }
        }
    }

    /// Runs `body` under this timeout (Python: the body of
    /// `async with timeout(..)`): its output, or a
    /// [`Timeout`](ErrorKind::Timeout) error once the deadline passed, the
    /// body then being dropped at its await point. Once the deadline's
    /// timer has run, the body is not resumed again, even if what it waits
    /// for became ready in the same iteration (Python throws
    /// `CancelledError` into it there too).
    ///
    /// # Errors
    ///
    /// [`Timeout`](ErrorKind::Timeout) when the deadline passed;
    /// [`InvalidState`](ErrorKind::InvalidState) if this timeout was run
    /// before (Python: "Timeout has already been entered").
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub async fn run<F: Future>(&self, body: F) -> Result<F::Output, Error> {
        if self.inner.state.get() != State::Created {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "this timeout has already been entered",
            ));
        }
        self.enter();
        let exit = ExitGuard { inner: &self.inner };
        let mut slot = pin!(Some(body));
        let mut cascade = None;
        let output = poll_fn(|cx| {
            if self.inner.state.get() == State::Expired {
                // Dropped here, inside the task's step, as a cancel would.
                cascade = Some(drop_cancelling(|| slot.set(None)).1);
                return Poll::Ready(Err(Error::timeout()));
            }
            let Some(body) = slot.as_mut().as_pin_mut() else {
                return Poll::Ready(Err(Error::timeout()));
            };
            match body.poll(cx) {
                Poll::Ready(value) => Poll::Ready(Ok(value)),
                Poll::Pending => {
                    let mut waker = self.inner.waker.borrow_mut();
                    if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *waker = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await;
        if let Some(cascade) = cascade {
            // Tasks the body awaited were cancelled with it: as in Python,
            // the time-out comes once they are done.
            cascade.wait().await;
        }
        drop(exit);
        output
    }

    /// Starts the clock: a [`timeout`]'s delay becomes a deadline.
    fn enter(&self) {
        self.inner.state.set(State::Entered);
        if let Some(delay) = self.inner.delay.take() {
            let now = expect_loop("Timeout::run").time();
            self.inner.when.set(Some(now + delay.as_secs_f64()));
        }
        self.arm();
    }

    /// Sets the timer for the deadline; when it fires the timeout is
    /// expired and the body's task woken.
    fn arm(&self) {
        let old = self.inner.timer.borrow_mut().take();
        if let Some(old) = old {
            old.cancel();
        }
        let Some(when) = self.inner.when.get() else {
            return;
        };
        let weak = Rc::downgrade(&self.inner);
        let timer = expect_loop("Timeout::run").call_at(when, move || {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if inner.state.get() == State::Entered {
                inner.state.set(State::Expired);
                let waker = inner.waker.borrow_mut().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        });
        *self.inner.timer.borrow_mut() = Some(timer);
    }
}

/// Marks the timeout exited and stops its timer, however the run ends.
struct ExitGuard<'a> {
    inner: &'a Inner,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        if self.inner.state.get() == State::Entered {
            self.inner.state.set(State::Exited);
        }
        let timer = self.inner.timer.borrow_mut().take();
        if let Some(timer) = timer {
            timer.cancel();
        }
        let waker = self.inner.waker.borrow_mut().take();
        drop(waker);
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("when", &self.when())
            .field("state", &self.inner.state.get())
            .finish()
    }
}

/// Runs `future` as a task and waits at most `timeout` for it (Python:
/// `asyncio.wait_for(aw, timeout)`); `None` waits as long as it takes.
///
/// When the time is up the task is cancelled, and `wait_for` waits until
/// it is really done (its `Drop` cleanup has run) before it gives the
/// [`Timeout`](ErrorKind::Timeout) error. If the task finished meanwhile
/// (it was done before the cancel reached it), its value wins, as in
/// Python 3.12. Dropping `wait_for` (cancelling the task that awaits it)
/// cancels the inner task.
///
/// A [`Task`] handle given as `future` is awaited by a wrapper task: on a
/// time-out the wrapper is cancelled, which cancels the task it awaits,
/// and `wait_for` returns once that task is done too (as Python's
/// `wait_for(task, timeout)` cancels the task).
///
/// # Examples
///
/// ```
/// use corun::asyncio::{run, sleep, wait_for};
/// use std::time::Duration;
///
/// let (quick, slow) = run(async {
///     let quick = wait_for(async { 1 }, Some(Duration::from_secs(1))).await;
///     let slow = wait_for(sleep(Duration::from_secs(3600)), Some(Duration::from_millis(2))).await;
///     (quick, slow)
/// })
/// .unwrap();
/// assert_eq!(quick.unwrap(), 1);
/// assert!(slow.unwrap_err().is_timeout());
/// ```
///
/// # Errors
///
/// [`Timeout`](ErrorKind::Timeout) as above; the task's own error if it
/// failed (a panic) or was cancelled by someone else.
///
/// # Panics
///
/// Outside a running loop.
pub async fn wait_for<F>(future: F, timeout: Option<Duration>) -> Result<F::Output, Error>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let inner = create_task(future);
    let guard = CancelOnDrop(&inner);
    let alarm = alarm_after(&expect_loop("wait_for"), timeout);
    let watch = Watch::new();
    watch.add(0, &inner.as_any(), false);
    let timed_out = poll_fn(|cx| {
        if inner.done() {
            return Poll::Ready(false);
        }
        if alarm.fired() {
            return Poll::Ready(true);
        }
        watch.register(cx);
        alarm.register(cx);
        Poll::Pending
    })
    .await;
    drop(alarm);
    if timed_out {
        inner.cancel();
        inner.as_any().wait_done().await;
        if inner.cancelled() {
            drop(guard);
            return Err(Error::timeout());
        }
    }
    drop(guard);
    inner.take()
}

/// Cancels the task if it is not done when dropped; a `wait_for` dropped
/// by a cancel of its task ends that task only after the inner one.
struct CancelOnDrop<'a, T: 'static>(&'a Task<T>);

impl<T: 'static> Drop for CancelOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.as_any().cancel_owned();
    }
}
