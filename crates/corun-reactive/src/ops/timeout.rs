//! `timeout` (RxPY: `ops.timeout`).

use std::sync::Arc;
use std::time::Duration;

use corun_core::Error;

use super::gate::{Gate, gate, linked};
use crate::scheduler::{Scheduler, SchedulerRef};
use crate::{
    Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber, Subscription, throw,
};

/// The source, failing with a timeout when an element is more than
/// `duetime` late (RxPY: `ops.timeout(duetime, scheduler=scheduler)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::timeout`].
pub fn timeout<T: Send + 'static>(
    duetime: Duration,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.timeout(duetime, scheduler)
}

/// The source, switching to `other` when an element is more than
/// `duetime` late (RxPY: `ops.timeout(duetime, other, scheduler)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::timeout_with`].
pub fn timeout_with<T: Send + 'static>(
    duetime: Duration,
    other: Observable<T>,
    scheduler: impl Scheduler,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.timeout_with(duetime, other, scheduler)
}

impl<T: Send + 'static> Observable<T> {
    /// The source, unless its first element, or any next one, or its end
    /// takes longer than `duetime` on `scheduler`: then it ends with a
    /// [`Timeout`](corun_core::ErrorKind::Timeout) error (RxPY:
    /// `ops.timeout(duetime)`, which raises `Exception("Timeout")`) and
    /// the source's subscription is disposed. (See
    /// [`debounce`](Self::debounce) for the choice of scheduler.)
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_error, on_next};
    /// use corun::Error;
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let xs = ts.create_hot_observable(vec![on_next(250, 1), on_next(300, 2), on_next(500, 3)]);
    /// let (source, s) = (xs.observable(), ts.clone());
    /// let seen = ts.start(move || source.timeout(Duration::from_millis(100), s));
    /// assert_eq!(seen, [on_next(250, 1), on_next(300, 2), on_error(400, Error::timeout())]);
    /// ```
    pub fn timeout(&self, duetime: Duration, scheduler: impl Scheduler) -> Observable<T> {
        self.timeout_with(duetime, throw(Error::timeout()), scheduler)
    }

    /// The source, until its first element, or any next one, or its end
    /// takes longer than `duetime` on `scheduler`: then the source's
    /// subscription is disposed and `other` goes on in its place (RxPY:
    /// `ops.timeout(duetime, other)`).
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, of, on_completed, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let xs = ts.create_hot_observable(vec![on_next(250, "live"), on_next(500, "late")]);
    /// let (source, s) = (xs.observable(), ts.clone());
    /// let seen = ts.start(move || source.timeout_with(Duration::from_millis(100), of(["cached"]), s));
    /// assert_eq!(seen, [on_next(250, "live"), on_next(350, "cached"), on_completed(350)]);
    /// ```
    pub fn timeout_with(
        &self,
        duetime: Duration,
        other: Observable<T>,
        scheduler: impl Scheduler,
    ) -> Observable<T> {
        let scheduler: SchedulerRef = Arc::new(scheduler);
        let source = self.clone();
        Observable::new(move |down: Subscriber<T>| {
            let (down, timer, upstream) = linked(down);
            let shared = Arc::new(Watch {
                state: gate(Race {
                    id: 0,
                    switched: false,
                }),
                duetime,
                other: other.clone(),
                scheduler: Arc::clone(&scheduler),
                timer,
                upstream: upstream.clone(),
                down,
            });
            shared.arm(0);
            source
                .subscribe_subscriber(Subscriber::with_subscription(Timeout { shared }, upstream));
        })
    }
}

/// Which element the timer waits after, and whether it went off.
struct Race {
    id: u64,
    switched: bool,
}

struct Watch<T> {
    state: Gate<Race>,
    duetime: Duration,
    other: Observable<T>,
    scheduler: SchedulerRef,
    timer: SerialSubscription,
    upstream: Subscription,
    down: SharedSubscriber<T>,
}

impl<T: Send + 'static> Watch<T> {
    /// Sets the timer for the element after number `id`.
    fn arm(self: &Arc<Self>, id: u64) {
        let this = Arc::clone(self);
        let action = self
            .scheduler
            .schedule_relative(self.duetime, Box::new(move || this.fire(id)));
        self.timer.set(action);
    }

    fn fire(&self, id: u64) {
        let guard = self.state.lock();
        {
            let mut race = guard.borrow_mut();
            if race.switched || race.id != id {
                return;
            }
            race.switched = true;
        }
        self.upstream.dispose();
        let subscription = Subscription::new();
        self.down
            .subscription()
            .add_subscription(subscription.clone());
        drop(guard);
        self.other
            .subscribe_subscriber(Subscriber::with_subscription(
                self.down.clone(),
                subscription,
            ));
    }

    /// Whether the source still wins; if so, the timer restarts.
    fn source_wins(&self) -> Option<u64> {
        let guard = self.state.lock();
        let mut race = guard.borrow_mut();
        if race.switched {
            return None;
        }
        race.id += 1;
        Some(race.id)
    }
}

struct Timeout<T> {
    shared: Arc<Watch<T>>,
}

impl<T: Send + 'static> Observer<T> for Timeout<T> {
    fn on_next(&mut self, value: T) {
        let guard = self.shared.state.lock();
        if let Some(id) = self.shared.source_wins() {
            self.shared.down.on_next(value);
            self.shared.arm(id);
        }
        drop(guard);
    }
    fn on_error(&mut self, error: Error) {
        let _guard = self.shared.state.lock();
        if self.shared.source_wins().is_some() {
            self.shared.down.on_error(error);
        }
    }
    fn on_completed(&mut self) {
        let _guard = self.shared.state.lock();
        if self.shared.source_wins().is_some() {
            self.shared.down.on_completed();
        }
    }
}
