//! [`TestScheduler`]: virtual time, for marble tests.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::Error;
use parking_lot::Mutex;

use super::{Action, Scheduler};
use crate::{Notification, Observable, Observer, Subject, Subscription};

/// A scheduler on virtual time (RxPY: `TestScheduler`): nothing runs until
/// the test advances the clock, and then everything due runs at once, in
/// due order, in the test's thread. Time operators are tested exactly,
/// without sleeping.
///
/// Time is counted in ticks from 0; a tick is one millisecond of the
/// `Duration`s given to operators (`interval(Duration::from_millis(100),
/// ts.clone())` ticks every 100 ticks; a delay that is not a whole number
/// of milliseconds is rounded up).
///
/// Ported from RxPY's `reactivex/testing/testscheduler.py`:
/// [`start`](Self::start) creates the observable at 100, subscribes at 200
/// and disposes at 1000, recording what the observer saw;
/// [`create_cold_observable`](Self::create_cold_observable) and
/// [`create_hot_observable`](Self::create_hot_observable) play marbles.
///
/// ```
/// use corun::reactive::{TestScheduler, interval, on_next};
/// use std::time::Duration;
///
/// let ts = TestScheduler::new();
/// let s = ts.clone();
/// let seen = ts.start(move || interval(Duration::from_millis(300), s));
/// assert_eq!(seen, [on_next(500, 0), on_next(800, 1)]);
/// ```
#[derive(Clone)]
pub struct TestScheduler {
    inner: Arc<Inner>,
}

struct Inner {
    epoch: Instant,
    state: Mutex<State>,
}

struct State {
    clock: u64,
    queue: BTreeMap<(u64, u64), Action>,
    next: u64,
}

/// What happened at a virtual time: a marble.
#[derive(Clone, PartialEq)]
pub struct Recorded<T> {
    /// The tick.
    pub time: u64,
    /// What happened.
    pub value: Notification<T>,
}

impl<T: fmt::Debug> fmt::Debug for Recorded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.value, self.time)
    }
}

/// `on_next(value)` at tick `time` (RxPY: `ReactiveTest.on_next`).
pub fn on_next<T>(time: u64, value: T) -> Recorded<T> {
    Recorded {
        time,
        value: Notification::Next(value),
    }
}

/// `on_error(error)` at tick `time` (RxPY: `ReactiveTest.on_error`).
pub fn on_error<T>(time: u64, error: Error) -> Recorded<T> {
    Recorded {
        time,
        value: Notification::Error(error),
    }
}

/// `on_completed()` at tick `time` (RxPY: `ReactiveTest.on_completed`).
pub fn on_completed<T>(time: u64) -> Recorded<T> {
    Recorded {
        time,
        value: Notification::Completed,
    }
}

/// When a test observable was subscribed to, and disposed
/// (RxPY: `ReactiveTest.subscribe(start, end)`); `unsubscribe` is
/// [`u64::MAX`] while it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionLog {
    /// The tick of the subscription.
    pub subscribe: u64,
    /// The tick of its disposal (or end), or `u64::MAX`.
    pub unsubscribe: u64,
}

impl SubscriptionLog {
    /// A subscription from `subscribe` to `unsubscribe`.
    pub fn new(subscribe: u64, unsubscribe: u64) -> Self {
        Self {
            subscribe,
            unsubscribe,
        }
    }
}

/// A cold or hot observable of marbles, with the log of its subscriptions
/// (RxPY: `ColdObservable`, `HotObservable`).
#[derive(Clone)]
pub struct TestObservable<T> {
    observable: Observable<T>,
    subscriptions: Arc<Mutex<Vec<SubscriptionLog>>>,
}

impl<T> TestObservable<T> {
    /// The observable.
    pub fn observable(&self) -> Observable<T> {
        self.observable.clone()
    }

    /// When it was subscribed to and disposed, in subscription order.
    pub fn subscriptions(&self) -> Vec<SubscriptionLog> {
        self.subscriptions.lock().clone()
    }
}

impl<T> fmt::Debug for TestObservable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestObservable")
            .field("subscriptions", &*self.subscriptions.lock())
            .finish_non_exhaustive()
    }
}

/// An observer that records what it sees, with the virtual time
/// (RxPY: `MockObserver`); clones share the record.
#[derive(Clone)]
pub struct TestObserver<T> {
    scheduler: TestScheduler,
    messages: Arc<Mutex<Vec<Recorded<T>>>>,
}

impl<T: Clone> TestObserver<T> {
    /// What it saw so far.
    pub fn messages(&self) -> Vec<Recorded<T>> {
        self.messages.lock().clone()
    }
}

impl<T: Send + 'static> TestObserver<T> {
    fn record(&self, value: Notification<T>) {
        let time = self.scheduler.clock();
        self.messages.lock().push(Recorded { time, value });
    }
}

impl<T: Send + 'static> Observer<T> for TestObserver<T> {
    fn on_next(&mut self, value: T) {
        self.record(Notification::Next(value));
    }
    fn on_error(&mut self, error: Error) {
        self.record(Notification::Error(error));
    }
    fn on_completed(&mut self) {
        self.record(Notification::Completed);
    }
}

impl<T> fmt::Debug for TestObserver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestObserver").finish_non_exhaustive()
    }
}

/// Ticks in `duration`: milliseconds, rounded up.
fn ticks(duration: Duration) -> u64 {
    let nanos = duration.as_nanos();
    u64::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

impl TestScheduler {
    /// A scheduler at tick 0, with nothing queued.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                epoch: Instant::now(),
                state: Mutex::new(State {
                    clock: 0,
                    queue: BTreeMap::new(),
                    next: 0,
                }),
            }),
        }
    }

    /// The virtual time, in ticks.
    pub fn clock(&self) -> u64 {
        self.inner.state.lock().clock
    }

    /// Runs `action` at tick `time` (now if it has passed).
    pub fn schedule_at(&self, time: u64, action: impl FnOnce() + Send + 'static) -> Subscription {
        let subscription = Subscription::new();
        let action = super::guarded(&subscription, Box::new(action));
        let key = {
            let mut state = self.inner.state.lock();
            state.next += 1;
            let key = (time.max(state.clock), state.next);
            state.queue.insert(key, action);
            key
        };
        let inner = Arc::clone(&self.inner);
        subscription.add(move || {
            let removed = inner.state.lock().queue.remove(&key);
            drop(removed);
        });
        subscription
    }

    /// Runs everything due up to tick `time`, in due order (and what those
    /// schedule, if due by then), then sets the clock to `time`; does
    /// nothing to the clock if it is past `time` (RxPY: `advance_to`).
    pub fn advance_to(&self, time: u64) {
        loop {
            let action = {
                let mut state = self.inner.state.lock();
                match state.queue.first_key_value().map(|(k, _)| *k) {
                    Some(key) if key.0 <= time => {
                        state.clock = state.clock.max(key.0);
                        state.queue.remove(&key)
                    }
                    _ => {
                        state.clock = state.clock.max(time);
                        None
                    }
                }
            };
            match action {
                Some(action) => action(),
                None => return,
            }
        }
    }

    /// [`advance_to`](Self::advance_to) `ticks` from now (RxPY:
    /// `advance_by`).
    pub fn advance_by(&self, ticks: u64) {
        let to = self.clock().saturating_add(ticks);
        self.advance_to(to);
    }

    /// Runs everything queued, and everything that schedules, until
    /// nothing is left (RxPY: `VirtualTimeScheduler.start()`); the clock
    /// ends at the last due time. Never returns for an endless source not
    /// disposed by something queued.
    pub fn run(&self) {
        loop {
            let last = self
                .inner
                .state
                .lock()
                .queue
                .last_key_value()
                .map(|(k, _)| k.0);
            match last {
                Some(time) => self.advance_to(time),
                None => return,
            }
        }
    }

    /// [`start_at`](Self::start_at) with RxPY's default times: created at
    /// 100, subscribed at 200, disposed at 1000.
    pub fn start<T: Clone + Send + 'static>(
        &self,
        create: impl FnOnce() -> Observable<T> + Send + 'static,
    ) -> Vec<Recorded<T>> {
        self.start_at(create, 100, 200, 1000)
    }

    /// Calls `create` at tick `created`, subscribes to its observable at
    /// `subscribed`, disposes the subscription at `disposed`, runs
    /// everything, and returns what the observer saw, with the ticks
    /// (RxPY: `TestScheduler.start(create, created, subscribed, disposed)`).
    pub fn start_at<T: Clone + Send + 'static>(
        &self,
        create: impl FnOnce() -> Observable<T> + Send + 'static,
        created: u64,
        subscribed: u64,
        disposed: u64,
    ) -> Vec<Recorded<T>> {
        let source: Arc<Mutex<Option<Observable<T>>>> = Arc::new(Mutex::new(None));
        let subscription: Arc<Mutex<Option<Subscription>>> = Arc::new(Mutex::new(None));
        let observer = self.create_observer::<T>();
        let s = Arc::clone(&source);
        self.schedule_at(created, move || *s.lock() = Some(create()));
        let (s, sub, o) = (
            Arc::clone(&source),
            Arc::clone(&subscription),
            observer.clone(),
        );
        self.schedule_at(subscribed, move || {
            let observable = s.lock().take().expect("created before subscribed");
            let handle = observable.subscribe_observer(o);
            *sub.lock() = Some(handle);
        });
        let sub = Arc::clone(&subscription);
        self.schedule_at(disposed, move || {
            if let Some(handle) = sub.lock().take() {
                handle.dispose();
            }
        });
        self.run();
        observer.messages()
    }

    /// An observer that records what it sees with the virtual time (RxPY:
    /// `create_observer`).
    pub fn create_observer<T: Send + 'static>(&self) -> TestObserver<T> {
        TestObserver {
            scheduler: self.clone(),
            messages: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A cold observable: each subscription gets `messages`, each at its
    /// time counted from the subscription (RxPY:
    /// `create_cold_observable`).
    pub fn create_cold_observable<T: Clone + Send + Sync + 'static>(
        &self,
        messages: Vec<Recorded<T>>,
    ) -> TestObservable<T> {
        let log: Arc<Mutex<Vec<SubscriptionLog>>> = Arc::new(Mutex::new(Vec::new()));
        let (ts, l) = (self.clone(), Arc::clone(&log));
        let messages: Arc<[Recorded<T>]> = messages.into();
        let observable = Observable::new(move |subscriber| {
            let start = ts.clock();
            let index = {
                let mut log = l.lock();
                log.push(SubscriptionLog::new(start, u64::MAX));
                log.len() - 1
            };
            let (ts2, l2) = (ts.clone(), Arc::clone(&l));
            subscriber.add(move || l2.lock()[index].unsubscribe = ts2.clock());
            let shared = subscriber.into_shared();
            for message in messages.iter() {
                let (target, value) = (shared.clone(), message.value.clone());
                let action = ts.schedule_at(start + message.time, move || target.notify(value));
                shared.subscription().add_subscription(action);
            }
        });
        TestObservable {
            observable,
            subscriptions: log,
        }
    }

    /// A hot observable: `messages` go out at their absolute times to
    /// whoever is subscribed then (RxPY: `create_hot_observable`).
    pub fn create_hot_observable<T: Clone + Send + Sync + 'static>(
        &self,
        messages: Vec<Recorded<T>>,
    ) -> TestObservable<T> {
        let subject = Subject::new();
        for message in messages {
            let subject = subject.clone();
            self.schedule_at(message.time, move || subject.notify(message.value));
        }
        let log: Arc<Mutex<Vec<SubscriptionLog>>> = Arc::new(Mutex::new(Vec::new()));
        let (ts, l) = (self.clone(), Arc::clone(&log));
        let observable = Observable::new(move |subscriber| {
            let index = {
                let mut log = l.lock();
                log.push(SubscriptionLog::new(ts.clock(), u64::MAX));
                log.len() - 1
            };
            let (ts2, l2) = (ts.clone(), Arc::clone(&l));
            subscriber.add(move || l2.lock()[index].unsubscribe = ts2.clock());
            subject.observable().subscribe_subscriber(subscriber);
        });
        TestObservable {
            observable,
            subscriptions: log,
        }
    }
}

impl Default for TestScheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TestScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestScheduler")
            .field("clock", &self.clock())
            .finish_non_exhaustive()
    }
}

impl Scheduler for TestScheduler {
    fn now(&self) -> Instant {
        self.inner.epoch + Duration::from_millis(self.clock())
    }

    fn schedule(&self, action: Action) -> Subscription {
        let now = self.clock();
        self.schedule_at(now, action)
    }

    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        let at = self.clock().saturating_add(ticks(delay));
        self.schedule_at(at, action)
    }

    fn schedule_absolute(&self, due: Instant, action: Action) -> Subscription {
        let at = ticks(due.saturating_duration_since(self.inner.epoch));
        self.schedule_at(at, action)
    }
}
