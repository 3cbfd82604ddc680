//! [`Handle`] and [`TimerHandle`]: a callback scheduled on the loop, which
//! can be cancelled until it runs (Python's `asyncio.Handle` and
//! `asyncio.TimerHandle`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Instant;

use crate::core::Core;
use crate::time::seconds_since_epoch;

/// A callback scheduled with [`EventLoop::call_soon`](crate::EventLoop::call_soon)
/// (Python: `asyncio.Handle`).
///
/// Cancelling it before it runs means it never runs, and drops it at once.
/// Dropping the handle does not cancel the callback.
///
/// # Examples
///
/// ```
/// use corun::asyncio::EventLoop;
///
/// let event_loop = EventLoop::new().unwrap();
/// let handle = event_loop.call_soon(|| panic!("never runs"));
/// handle.cancel();
/// assert!(handle.cancelled());
/// let lp = event_loop.clone();
/// event_loop.call_soon(move || lp.stop());
/// event_loop.run_forever().unwrap();
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Rc<HandleInner>,
}

/// A callback scheduled for a time with
/// [`EventLoop::call_later`](crate::EventLoop::call_later) or
/// [`call_at`](crate::EventLoop::call_at) (Python: `asyncio.TimerHandle`).
///
/// # Examples
///
/// ```
/// use corun::asyncio::EventLoop;
/// use std::time::Duration;
///
/// let event_loop = EventLoop::new().unwrap();
/// let timer = event_loop.call_later(Duration::from_secs(3600), || panic!("never runs"));
/// assert!(timer.when() > event_loop.time());
/// timer.cancel();
/// assert!(timer.cancelled());
/// ```
#[derive(Clone)]
pub struct TimerHandle {
    pub(crate) inner: Rc<HandleInner>,
}

/// A scheduled callback: what the ready queue and the timer heap hold.
pub(crate) struct HandleInner {
    callback: RefCell<Option<Box<dyn FnOnce()>>>,
    cancelled: Cell<bool>,
    timer: Option<Timer>,
}

/// What a timer handle adds: its deadline, and the loop whose heap it is
/// in (told of a cancel, so it can sweep cancelled timers out).
struct Timer {
    when: Instant,
    in_heap: Cell<bool>,
    core: Weak<Core>,
}

impl HandleInner {
    /// A callback for the ready queue.
    pub(crate) fn soon(callback: Box<dyn FnOnce()>) -> Rc<Self> {
        Rc::new(Self {
            callback: RefCell::new(Some(callback)),
            cancelled: Cell::new(false),
            timer: None,
        })
    }

    /// A callback for the timer heap of `core`, due at `when`.
    pub(crate) fn timer(callback: Box<dyn FnOnce()>, when: Instant, core: Weak<Core>) -> Rc<Self> {
        Rc::new(Self {
            callback: RefCell::new(Some(callback)),
            cancelled: Cell::new(false),
            timer: Some(Timer {
                when,
                in_heap: Cell::new(true),
                core,
            }),
        })
    }

    /// A handle that was never scheduled (the loop is closed).
    pub(crate) fn dead() -> Rc<Self> {
        Rc::new(Self {
            callback: RefCell::new(None),
            cancelled: Cell::new(true),
            timer: None,
        })
    }

    /// Takes the callback to run it, unless it was cancelled.
    pub(crate) fn take(&self) -> Option<Box<dyn FnOnce()>> {
        if self.cancelled.get() {
            return None;
        }
        self.callback.borrow_mut().take()
    }

    /// The deadline of a timer.
    pub(crate) fn when(&self) -> Option<Instant> {
        self.timer.as_ref().map(|t| t.when)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// The loop took the timer out of its heap.
    pub(crate) fn left_heap(&self) {
        if let Some(timer) = &self.timer {
            timer.in_heap.set(false);
        }
    }

    fn cancel(&self) {
        if self.cancelled.replace(true) {
            return;
        }
        // Dropped outside the borrow: its captures may run code of their own.
        let callback = self.callback.borrow_mut().take();
        drop(callback);
        if let Some(timer) = &self.timer {
            if timer.in_heap.get() {
                if let Some(core) = timer.core.upgrade() {
                    core.timer_cancelled();
                }
            }
        }
    }
}

impl Handle {
    /// Cancels the callback: if it has not run yet, it never will (Python:
    /// `Handle.cancel()`). Cancelling twice, or after it ran, does
    /// nothing.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called (Python:
    /// `Handle.cancelled()`).
    ///
    /// A callback scheduled on a closed loop is dropped, and its handle
    /// reads cancelled.
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

impl TimerHandle {
    /// Cancels the callback: if it has not run yet, it never will (Python:
    /// `TimerHandle.cancel()`).
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// When the callback is due, in the seconds of
    /// [`EventLoop::time`](crate::EventLoop::time) (Python:
    /// `TimerHandle.when()`).
    pub fn when(&self) -> f64 {
        self.inner.when().map_or(0.0, seconds_since_epoch)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when())
            .field("cancelled", &self.cancelled())
            .finish()
    }
}
