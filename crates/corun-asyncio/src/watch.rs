//! What the combinators share: a [`Watch`] that hears tasks finish, in the
//! order they finish, and an [`Alarm`], a timer of the loop that wakes one
//! future.
//!
//! Both hold what a callback changes in an `Rc` the callback reaches
//! weakly. A watch that only listens takes its callbacks back when it is
//! dropped (or [cleared](Watch::clear)), so waits with time-outs on a
//! long-lived task leave nothing behind on it; one that retrieves
//! failures (`gather`'s) leaves its callbacks, which must still mark the
//! failures of children that outlive it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::task::{Context, Waker};

use crate::event_loop::EventLoop;
use crate::handle::TimerHandle;
use crate::task::{AnyTask, CallbackId};

/// Hears tasks finish: each gets a number when added, and [`pop`] gives
/// the numbers of those done, in the order their done-callbacks ran.
///
/// [`pop`]: Watch::pop
pub(crate) struct Watch {
    shared: Rc<WatchShared>,
    /// The listening callbacks still queued on tasks not done.
    registered: RefCell<Vec<(AnyTask, CallbackId)>>,
}

struct WatchShared {
    done: RefCell<VecDeque<usize>>,
    waker: RefCell<Option<Waker>>,
}

impl Watch {
    pub(crate) fn new() -> Self {
        Self {
            shared: Rc::new(WatchShared {
                done: RefCell::new(VecDeque::new()),
                waker: RefCell::new(None),
            }),
            registered: RefCell::new(Vec::new()),
        }
    }

    /// Watches `task` as number `index`. A task done already counts as
    /// done now. With `retrieve`, its failure is marked retrieved when it
    /// is done (as Python's `gather` and `TaskGroup` do), so the loop does
    /// not report it at close.
    pub(crate) fn add(&self, index: usize, task: &AnyTask, retrieve: bool) {
        if task.done() {
            if retrieve {
                let _ = task.exception();
            }
            self.shared.done.borrow_mut().push_back(index);
            return;
        }
        let weak: Weak<WatchShared> = Rc::downgrade(&self.shared);
        let id = task.add_done_callback(move |task| {
            if retrieve {
                let _ = task.exception();
            }
            if let Some(shared) = weak.upgrade() {
                shared.done.borrow_mut().push_back(index);
                let waker = shared.waker.borrow().clone();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        });
        if !retrieve {
            self.registered.borrow_mut().push((task.clone(), id));
        }
    }

    /// Takes back the listening callbacks from the tasks not done: nothing
    /// more will be heard.
    pub(crate) fn clear(&self) {
        let registered = std::mem::take(&mut *self.registered.borrow_mut());
        for (task, id) in registered {
            if !task.done() {
                task.remove_done_callback(id);
            }
        }
    }

    /// The number of a task done since the last call, oldest first.
    pub(crate) fn pop(&self) -> Option<usize> {
        self.shared.done.borrow_mut().pop_front()
    }

    /// Wakes `cx`'s task when a watched task is done.
    pub(crate) fn register(&self, cx: &Context<'_>) {
        register(&self.shared.waker, cx);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A timer of the running loop that wakes the future which last
/// registered; cancelled when dropped.
pub(crate) struct Alarm {
    shared: Rc<AlarmShared>,
    timer: Option<TimerHandle>,
}

struct AlarmShared {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Alarm {
    /// An alarm that never rings, until [`set`](Self::set).
    pub(crate) fn unset() -> Self {
        Self {
            shared: Rc::new(AlarmShared {
                fired: Cell::new(false),
                waker: RefCell::new(None),
            }),
            timer: None,
        }
    }

    /// An alarm ringing at `when`, in the seconds of `EventLoop::time`.
    pub(crate) fn at(event_loop: &EventLoop, when: f64) -> Self {
        let mut alarm = Self::unset();
        alarm.set(event_loop, Some(when));
        alarm
    }

    /// Sets the alarm to ring at `when` (never, for `None`) instead, and
    /// calls back an earlier ring that was not heard.
    pub(crate) fn set(&mut self, event_loop: &EventLoop, when: Option<f64>) {
        self.cancel();
        self.shared.fired.set(false);
        let Some(when) = when else {
            return;
        };
        let weak = Rc::downgrade(&self.shared);
        self.timer = Some(event_loop.call_at(when, move || {
            if let Some(shared) = weak.upgrade() {
                shared.fired.set(true);
                let waker = shared.waker.borrow_mut().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }));
    }

    /// Whether the alarm rang.
    pub(crate) fn fired(&self) -> bool {
        self.shared.fired.get()
    }

    /// Wakes `cx`'s task when the alarm rings.
    pub(crate) fn register(&self, cx: &Context<'_>) {
        register(&self.shared.waker, cx);
    }

    /// Stops the timer; the alarm will not ring.
    pub(crate) fn cancel(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.cancel();
        }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Keeps `cx`'s waker in `slot`, unless the one there wakes the same task.
fn register(slot: &RefCell<Option<Waker>>, cx: &Context<'_>) {
    let mut slot = slot.borrow_mut();
    if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
        *slot = Some(cx.waker().clone());
    }
}
