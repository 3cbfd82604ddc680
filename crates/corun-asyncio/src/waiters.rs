//! The wait queue every primitive and queue of this crate shares: Python's
//! `collections.deque` of futures, as a FIFO of [`Waiter`]s.
//!
//! A waiter is in one of three states, and the future that owns it decides
//! what its drop does in each (the "cancel rules" of each primitive):
//!
//! | state    | how it got there                           | the owner's drop                               |
//! |----------|--------------------------------------------|------------------------------------------------|
//! | queued   | [`WaitList::push`]                         | [`WaitList::remove`] it: nobody is owed anything |
//! | notified | [`WaitList::notify_one`] / `notify_all` popped it | it was handed something (a permit, the lock, a notification) it will now never use: pass that on to the next waiter |
//! | consumed | the owner saw [`Waiter::notified`] and went on | nothing                                   |
//!
//! Notifying pops the waiter, so the list only ever holds waiters still
//! owed a wake-up, in arrival order. A wake-up only schedules the waiting
//! task (its waker pushes onto the loop's ready queue); nothing runs inline.
//!
//! Cancellation is delivered lazily, as the loop delivers it: a cancelled
//! task's future is dropped at its next step, and that drop applies the
//! rules above. So a wake-up that reaches a waiter whose task was just
//! cancelled is not lost: the drop hands it on.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::task::Waker;

/// One waiting future: whether it was notified, and how to wake it.
pub(crate) struct Waiter {
    notified: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// A FIFO of waiters not yet notified.
#[derive(Default)]
pub(crate) struct WaitList {
    queue: VecDeque<Rc<Waiter>>,
}

impl Waiter {
    /// Whether a wake-up was handed to this waiter.
    #[inline]
    pub(crate) fn notified(&self) -> bool {
        self.notified.get()
    }

    /// Keeps `waker` as the one to wake (a task may be polled with a new
    /// one).
    pub(crate) fn register(&self, waker: &Waker) {
        let mut slot = self.waker.borrow_mut();
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn notify(&self) {
        self.notified.set(true);
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl WaitList {
    /// Queues a new waiter at the back.
    pub(crate) fn push(&mut self, waker: &Waker) -> Rc<Waiter> {
        let waiter = Rc::new(Waiter {
            notified: Cell::new(false),
            waker: RefCell::new(Some(waker.clone())),
        });
        self.queue.push_back(Rc::clone(&waiter));
        waiter
    }

    /// Queues a new waiter at the front: for a waiter that was woken but
    /// found its condition gone again, so it keeps its place in line.
    pub(crate) fn push_front(&mut self, waker: &Waker) -> Rc<Waiter> {
        let waiter = self.push(waker);
        let back = self.queue.pop_back().expect("just pushed");
        self.queue.push_front(back);
        waiter
    }

    /// Wakes the oldest waiter; `false` if there was none.
    #[inline]
    pub(crate) fn notify_one(&mut self) -> bool {
        match self.queue.pop_front() {
            Some(waiter) => {
                waiter.notify();
                true
            }
            None => false,
        }
    }

    /// Wakes up to `n` waiters, oldest first.
    pub(crate) fn notify(&mut self, n: usize) {
        for _ in 0..n {
            if !self.notify_one() {
                break;
            }
        }
    }

    /// Wakes every waiter, oldest first.
    pub(crate) fn notify_all(&mut self) {
        while self.notify_one() {}
    }

    /// Takes `waiter` out of the line; `false` if it was not in it (it was
    /// notified).
    pub(crate) fn remove(&mut self, waiter: &Rc<Waiter>) -> bool {
        match self.queue.iter().position(|w| Rc::ptr_eq(w, waiter)) {
            Some(at) => {
                self.queue.remove(at);
                true
            }
            None => false,
        }
    }

    /// How many waiters wait.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nobody waits.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

impl fmt::Debug for WaitList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("waiters", &self.queue.len())
            .finish()
    }
}
