//! `observe_on` (RxPY: `ops.observe_on`).

use std::collections::VecDeque;
use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use super::gate::linked;
use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{Notification, Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber};

/// The source, observed on `scheduler` (RxPY: `ops.observe_on(scheduler)`),
/// for [`pipe`](Observable::pipe); the method is [`Observable::observe_on`].
pub fn observe_on<T: Send + 'static>(
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.observe_on(scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// The source, with its observer called on `scheduler` (RxPY:
    /// `ops.observe_on(scheduler)`): notifications are queued in order and
    /// delivered one at a time by an action on the scheduler, started when
    /// the queue fills from empty. The subscription itself is not moved
    /// (see [`subscribe_on`](Self::subscribe_on)). Disposal drops what is
    /// queued and cancels the pending action.
    ///
    /// ```
    /// use corun::reactive::{NewThreadScheduler, range};
    ///
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let here = std::thread::current().id();
    /// range(0, 3)
    ///     .observe_on(NewThreadScheduler::new())
    ///     .subscribe(move |x| tx.send((x, std::thread::current().id())).unwrap());
    /// let seen: Vec<_> = rx.iter().take(3).collect();
    /// assert_eq!(seen.iter().map(|(x, _)| *x).collect::<Vec<_>>(), [0, 1, 2]);
    /// assert!(seen.iter().all(|(_, thread)| *thread != here));
    /// ```
    pub fn observe_on(&self, scheduler: impl Scheduler) -> Observable<T> {
        let scheduler: SchedulerRef = Arc::new(scheduler);
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let (down, pending, upstream) = linked(down);
            let shared = Arc::new(Relay {
                queue: Mutex::new((VecDeque::new(), false)),
                scheduler: Arc::clone(&scheduler),
                pending,
                down,
            });
            source.subscribe_subscriber(Subscriber::with_subscription(
                ObserveOn { shared },
                upstream,
            ));
        })
    }
}

struct Relay<T> {
    /// What waits, and whether a delivering action is scheduled or runs.
    queue: Mutex<(VecDeque<Notification<T>>, bool)>,
    scheduler: SchedulerRef,
    pending: SerialSubscription,
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static> Relay<T> {
    fn push(self: &Arc<Self>, notification: Notification<T>) {
        let start = {
            let mut queue = self.queue.lock();
            if self.down.is_closed() {
                return;
            }
            queue.0.push_back(notification);
            !std::mem::replace(&mut queue.1, true)
        };
        if start {
            let this = Arc::clone(self);
            let action = self.scheduler.schedule(Box::new(move || this.deliver()));
            self.pending.set(action);
        }
    }

    /// Delivers what is queued, until nothing is.
    fn deliver(&self) {
        loop {
            let next = {
                let mut queue = self.queue.lock();
                match queue.0.pop_front() {
                    Some(next) if !self.down.is_closed() => next,
                    _ => {
                        queue.0.clear();
                        queue.1 = false;
                        return;
                    }
                }
            };
            self.down.notify(next);
        }
    }
}

struct ObserveOn<T> {
    shared: Arc<Relay<T>>,
}

impl<T: Send + 'static> Observer<T> for ObserveOn<T> {
    fn on_next(&mut self, value: T) {
        self.shared.push(Notification::Next(value));
    }
    fn on_error(&mut self, error: Error) {
        self.shared.push(Notification::Error(error));
    }
    fn on_completed(&mut self) {
        self.shared.push(Notification::Completed);
    }
}
