//! `debounce` (RxPY: `ops.debounce`).

use std::sync::Arc;
use std::time::Duration;

use corun_core::Error;

use super::gate::{Gate, gate, linked};
use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber};

/// Each element that no other follows within `duetime` (RxPY:
/// `ops.debounce(duetime, scheduler)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::debounce`].
pub fn debounce<T: Send + 'static>(
    duetime: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.debounce(duetime, scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// Each element that no other follows within `duetime`, emitted
    /// `duetime` after it arrived, on `scheduler` (RxPY:
    /// `ops.debounce(duetime, scheduler)`, also `throttle_with_timeout`):
    /// an element followed sooner is dropped. At the source's end, the
    /// element waiting (if any) is emitted at once, then the end; an error
    /// drops it.
    ///
    /// RxPY's default scheduler is its `TimeoutScheduler` (a thread timer
    /// per action); here the scheduler is always given: a
    /// [`ThreadPoolScheduler`](crate::ThreadPoolScheduler) is the nearest
    /// (one timer thread for all, the actions on a pool), an
    /// [`EventLoopScheduler`](crate::EventLoopScheduler) keeps everything
    /// on a loop, and the [`TestScheduler`](crate::TestScheduler) tests in
    /// virtual time. Disposal cancels the pending timer.
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let keys = ts.create_hot_observable(vec![
    ///     on_next(210, 'h'), on_next(230, 'e'), on_next(400, 'y'), on_completed(500),
    /// ]);
    /// let (source, s) = (keys.observable(), ts.clone());
    /// let typed = ts.start(move || source.debounce(Duration::from_millis(50), s));
    /// assert_eq!(typed, [on_next(280, 'e'), on_next(450, 'y'), on_completed(500)]);
    /// ```
    pub fn debounce(&self, duetime: Duration, scheduler: impl Scheduler) -> Observable<T> {
        let scheduler: SchedulerRef = Arc::new(scheduler);
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let (down, timer, upstream) = linked(down);
            let observer = Debounce {
                state: gate(Waiting { value: None, id: 0 }),
                timer,
                duetime,
                scheduler: Arc::clone(&scheduler),
                down,
            };
            source.subscribe_subscriber(Subscriber::with_subscription(observer, upstream));
        })
    }
}

/// The element waiting for its time, and the number of the latest.
struct Waiting<T> {
    value: Option<T>,
    id: u64,
}

struct Debounce<T> {
    state: Gate<Waiting<T>>,
    timer: SerialSubscription,
    duetime: Duration,
    scheduler: SchedulerRef,
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static> Observer<T> for Debounce<T> {
    fn on_next(&mut self, value: T) {
        let guard = self.state.lock();
        let id = {
            let mut waiting = guard.borrow_mut();
            waiting.value = Some(value);
            waiting.id += 1;
            waiting.id
        };
        let (state, down) = (Arc::clone(&self.state), self.down.clone());
        let action = self.scheduler.schedule_relative(
            self.duetime,
            Box::new(move || {
                let guard = state.lock();
                let due = {
                    let mut waiting = guard.borrow_mut();
                    if waiting.id == id {
                        waiting.value.take()
                    } else {
                        None
                    }
                };
                if let Some(value) = due {
                    down.on_next(value);
                }
            }),
        );
        self.timer.set(action);
    }
    fn on_error(&mut self, error: Error) {
        let guard = self.state.lock();
        guard.borrow_mut().value = None;
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        let guard = self.state.lock();
        let last = guard.borrow_mut().value.take();
        if let Some(value) = last {
            self.down.on_next(value);
        }
        self.down.on_completed();
    }
}
