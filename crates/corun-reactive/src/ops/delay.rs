//! `delay` (RxPY: `ops.delay`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::Error;

use super::gate::{Gate, gate, linked};
use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{Notification, Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber};

/// The source shifted `duetime` later (RxPY: `ops.delay(duetime,
/// scheduler)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::delay`].
pub fn delay<T: Send + 'static>(
    duetime: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.delay(duetime, scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// The source's elements and end, each `duetime` after it came, on
    /// `scheduler` (RxPY: `ops.delay(duetime, scheduler)`); an error is not
    /// delayed: it goes at once and drops what waits. One timer at a time
    /// waits, for the earliest element; disposal cancels it. (See
    /// [`debounce`](Self::debounce) for the choice of scheduler.)
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let xs = ts.create_hot_observable(vec![on_next(250, 'a'), on_next(350, 'b'), on_completed(400)]);
    /// let (source, s) = (xs.observable(), ts.clone());
    /// let late = ts.start(move || source.delay(Duration::from_millis(100), s));
    /// assert_eq!(late, [on_next(350, 'a'), on_next(450, 'b'), on_completed(500)]);
    /// ```
    pub fn delay(&self, duetime: Duration, scheduler: impl Scheduler) -> Observable<T> {
        let scheduler: SchedulerRef = Arc::new(scheduler);
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let (down, timer, upstream) = linked(down);
            let shared = Arc::new(Delayed {
                state: gate(Queue {
                    waiting: VecDeque::new(),
                    active: false,
                }),
                scheduler: Arc::clone(&scheduler),
                timer,
                down,
            });
            source.subscribe_subscriber(Subscriber::with_subscription(
                Delay { duetime, shared },
                upstream,
            ));
        })
    }
}

/// What waits for its time, and whether a timer is set for it.
struct Queue<T> {
    waiting: VecDeque<(Instant, Notification<T>)>,
    active: bool,
}

struct Delayed<T> {
    state: Gate<Queue<T>>,
    scheduler: SchedulerRef,
    timer: SerialSubscription,
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static> Delayed<T> {
    fn schedule(self: &Arc<Self>, due: Instant) {
        let this = Arc::clone(self);
        let action = self
            .scheduler
            .schedule_absolute(due, Box::new(move || this.drain()));
        self.timer.set(action);
    }

    /// Emits what is due, then sets the timer for the next.
    fn drain(self: &Arc<Self>) {
        let guard = self.state.lock();
        loop {
            let now = self.scheduler.now();
            let next = {
                let mut queue = guard.borrow_mut();
                match queue.waiting.front() {
                    Some((due, _)) if *due <= now => queue.waiting.pop_front().map(|(_, n)| n),
                    Some((due, _)) => {
                        let due = *due;
                        drop(queue);
                        self.schedule(due);
                        return;
                    }
                    None => {
                        queue.active = false;
                        return;
                    }
                }
            };
            if let Some(notification) = next {
                self.down.notify(notification);
            }
        }
    }
}

struct Delay<T> {
    duetime: Duration,
    shared: Arc<Delayed<T>>,
}

impl<T: Send + 'static> Delay<T> {
    fn enqueue(&self, notification: Notification<T>) {
        let shared = &self.shared;
        let guard = shared.state.lock();
        let due = shared.scheduler.now() + self.duetime;
        let start = {
            let mut queue = guard.borrow_mut();
            queue.waiting.push_back((due, notification));
            !std::mem::replace(&mut queue.active, true)
        };
        if start {
            shared.schedule(due);
        }
    }
}

impl<T: Send + 'static> Observer<T> for Delay<T> {
    fn on_next(&mut self, value: T) {
        self.enqueue(Notification::Next(value));
    }
    fn on_error(&mut self, error: Error) {
        let guard = self.shared.state.lock();
        guard.borrow_mut().waiting.clear();
        self.shared.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.enqueue(Notification::Completed);
    }
}
