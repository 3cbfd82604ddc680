//! Schedulers: where and when actions run (RxPY: `reactivex.scheduler`).

mod current_thread;
mod event_loop;
mod immediate;
mod new_thread;
mod test;
mod thread_pool;
mod timer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Subscription;

pub use current_thread::CurrentThreadScheduler;
pub use event_loop::EventLoopScheduler;
pub use immediate::ImmediateScheduler;
pub use new_thread::NewThreadScheduler;
pub use test::{
    Recorded, SubscriptionLog, TestObservable, TestObserver, TestScheduler, on_completed, on_error,
    on_next,
};
pub use thread_pool::ThreadPoolScheduler;

/// A unit of work handed to a [`Scheduler`].
pub type Action = Box<dyn FnOnce() + Send + 'static>;

/// Runs actions now, soon or later, somewhere (RxPY: `SchedulerBase`).
///
/// Every method returns the action's [`Subscription`]: disposing it before
/// the action runs means it never does (and a waiting timer or thread is
/// released at once). Periodic work is recursive scheduling:
/// [`interval`](crate::interval) schedules each tick from the one before,
/// at an absolute time, so it does not drift.
///
/// Schedulers are cheap handles (`Clone`); functions that take one take it
/// by value.
pub trait Scheduler: Send + Sync + 'static {
    /// This scheduler's clock: the real one, or virtual time.
    fn now(&self) -> Instant;

    /// Runs `action` as soon as this scheduler can (RxPY: `schedule`).
    fn schedule(&self, action: Action) -> Subscription;

    /// Runs `action` after `delay` (RxPY: `schedule_relative`).
    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription;

    /// Runs `action` at `due` (RxPY: `schedule_absolute`); at once if it
    /// has passed.
    fn schedule_absolute(&self, due: Instant, action: Action) -> Subscription {
        let delay = due.saturating_duration_since(self.now());
        if delay.is_zero() {
            self.schedule(action)
        } else {
            self.schedule_relative(delay, action)
        }
    }
}

impl<S: Scheduler + ?Sized> Scheduler for Arc<S> {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn schedule(&self, action: Action) -> Subscription {
        (**self).schedule(action)
    }
    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        (**self).schedule_relative(delay, action)
    }
    fn schedule_absolute(&self, due: Instant, action: Action) -> Subscription {
        (**self).schedule_absolute(due, action)
    }
}

/// A scheduler shared by the actions it runs (recursive scheduling).
pub type SchedulerRef = Arc<dyn Scheduler>;

/// `action`, skipped if `subscription` is disposed by the time it runs.
pub(crate) fn guarded(subscription: &Subscription, action: Action) -> Action {
    let subscription = subscription.clone();
    Box::new(move || {
        if !subscription.is_disposed() {
            action();
            // A run action is spent: its handle reads disposed, and its
            // teardown (a timer entry) is released.
            subscription.dispose();
        }
    })
}
