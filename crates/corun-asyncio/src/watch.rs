//! What the combinators share: a [`Watch`] that hears tasks finish, in the
//! order they finish, and an [`Alarm`], a timer of the loop that wakes one
//! future.
//!
//! Both hold what a callback changes in an `Rc` the callback reaches
//! weakly, so a combinator that returns (or is dropped) before the tasks
//! it watched are done leaves only an empty callback behind.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::task::{Context, Waker};

use crate::event_loop::EventLoop;
use crate::handle::TimerHandle;
use crate::task::AnyTask;

/// Hears tasks finish: each gets a number when added, and [`pop`] gives
/// the numbers of those done, in the order their done-callbacks ran.
///
/// [`pop`]: Watch::pop
pub(crate) struct Watch {
    shared: Rc<WatchShared>,
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
        task.add_done_callback(move |task| {
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
