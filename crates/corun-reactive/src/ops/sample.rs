//! `sample` (RxPY: `ops.sample`).

use std::sync::Arc;
use std::time::Duration;

use corun_core::Error;

use super::gate::{Gate, gate};
use crate::scheduler::Scheduler;
use crate::{Observable, Observer, SharedSubscriber, Subscriber, Subscription, interval};

/// The latest element at each `interval` (RxPY: `ops.sample(interval,
/// scheduler)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::sample`].
pub fn sample<T: Send + 'static>(
    interval: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.sample(interval, scheduler)
}

/// The latest element at each element of `sampler` (RxPY:
/// `ops.sample(sampler)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::sample_with`].
pub fn sample_with<T, U>(sampler: Observable<U>) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    U: Send + 'static,
{
    move |source| source.sample_with(sampler)
}

impl<T: Send + 'static> Observable<T> {
    /// The latest element, if a new one came, every `period` on
    /// `scheduler` (RxPY: `ops.sample(interval, scheduler)`): the sampler
    /// is [`interval`]`(period, scheduler)`. The source's end is emitted
    /// at the next tick, its error at once. (See
    /// [`debounce`](Self::debounce) for the choice of scheduler.)
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let readings = ts.create_hot_observable(vec![
    ///     on_next(210, 1), on_next(230, 2), on_next(320, 3), on_completed(330),
    /// ]);
    /// let (source, s) = (readings.observable(), ts.clone());
    /// let sampled = ts.start(move || source.sample(Duration::from_millis(50), s));
    /// assert_eq!(sampled, [on_next(250, 2), on_next(350, 3), on_completed(350)]);
    /// ```
    pub fn sample(&self, period: Duration, scheduler: impl Scheduler) -> Observable<T> {
        let scheduler: crate::SchedulerRef = Arc::new(scheduler);
        let source = self.clone();
        Observable::new(move |down| {
            let ticks = interval(period, Arc::clone(&scheduler));
            source.sample_with(ticks).subscribe_subscriber(down);
        })
    }

    /// The latest element, if a new one came since the last sample, at
    /// each element of `sampler`, and at its end (RxPY:
    /// `ops.sample(sampler)`). The source's end is emitted at the next
    /// sample; an error of either, at once.
    ///
    /// ```
    /// use corun::reactive::Subject;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let (source, clock) = (Subject::new(), Subject::<()>::new());
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = seen.clone();
    /// source.observable().sample_with(clock.observable()).subscribe(move |x| s.lock().unwrap().push(x));
    /// source.on_next(1);
    /// source.on_next(2);
    /// clock.on_next(());
    /// clock.on_next(()); // nothing new: nothing sampled
    /// source.on_next(3);
    /// clock.on_next(());
    /// assert_eq!(*seen.lock().unwrap(), [2, 3]);
    /// ```
    pub fn sample_with<U: Send + 'static>(&self, sampler: Observable<U>) -> Observable<T> {
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let down = down.into_shared();
            let state = gate(Latest {
                value: None,
                at_end: false,
            });
            let upstream = Subscription::new();
            down.subscription().add_subscription(upstream.clone());
            source.subscribe_subscriber(Subscriber::with_subscription(
                Values {
                    state: state.clone(),
                    down: down.clone(),
                },
                upstream,
            ));
            if down.is_closed() {
                return;
            }
            let ticks = Subscription::new();
            down.subscription().add_subscription(ticks.clone());
            sampler
                .subscribe_subscriber(Subscriber::with_subscription(Ticks { state, down }, ticks));
        })
    }
}

/// The element not sampled yet, and whether the source ended.
struct Latest<T> {
    value: Option<T>,
    at_end: bool,
}

struct Values<T> {
    state: Gate<Latest<T>>,
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static> Observer<T> for Values<T> {
    fn on_next(&mut self, value: T) {
        let guard = self.state.lock();
        guard.borrow_mut().value = Some(value);
    }
    fn on_error(&mut self, error: Error) {
        let _guard = self.state.lock();
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        let guard = self.state.lock();
        guard.borrow_mut().at_end = true;
    }
}

struct Ticks<T> {
    state: Gate<Latest<T>>,
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static> Ticks<T> {
    fn tick(&self) {
        let guard = self.state.lock();
        let (value, at_end) = {
            let mut latest = guard.borrow_mut();
            (latest.value.take(), latest.at_end)
        };
        if let Some(value) = value {
            self.down.on_next(value);
        }
        if at_end {
            self.down.on_completed();
        }
    }
}

impl<T: Send + 'static, U> Observer<U> for Ticks<T> {
    fn on_next(&mut self, _: U) {
        self.tick();
    }
    fn on_error(&mut self, error: Error) {
        let _guard = self.state.lock();
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.tick();
    }
}
