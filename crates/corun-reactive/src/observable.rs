//! [`Observable`]: a cold source of events, and the ways to subscribe to it.

use std::fmt;
use std::sync::Arc;

use corun_core::Error;

use crate::observer::report_unhandled;
use crate::{FnObserver, Observer, Subscriber, Subscription};

/// The producer behind an observable: run once per subscription.
type Producer<T> = dyn Fn(Subscriber<T>) + Send + Sync;

/// A stream of events, cold (RxPY: `Observable`): each subscription runs
/// the producer anew, which emits into a [`Subscriber`] that enforces the
/// Rx contract (`on_next*` then at most one of `on_error` /
/// `on_completed`, serialised, nothing after the end or after disposal).
///
/// An `Observable` is a shared producer (an `Arc`): cloning it is cheap,
/// and it is `Send + Sync`, so operators and schedulers take it across
/// threads. Elements are `T: Send + 'static` for the same reason: any
/// subscription may be moved to the thread pool or the event loop by a
/// scheduler. (A single-threaded flavour would avoid nothing measurable:
/// the same-thread path takes no lock and allocates nothing per element.)
///
/// Operators are methods (`obs.map(f).filter(g)`) and functions in
/// [`op`](crate::op) for the [`pipe`](Self::pipe) form
/// (`obs.pipe(op::map(f))`, or [`pipe!`](crate::pipe)).
///
/// A producer runs in the thread that subscribes, unless it hands the
/// subscriber to a scheduler: [`from_iter`](crate::from_iter) emits every
/// element before `subscribe` returns (stopping early when the
/// subscription is disposed, by `take` say), [`interval`](crate::interval)
/// emits from its scheduler.
///
/// ```
/// use corun::reactive::from_iter;
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// from_iter(1..=10)
///     .map(|x| x * x)
///     .filter(|x| x % 2 == 1)
///     .subscribe(move |x| s.lock().unwrap().push(x));
/// assert_eq!(*seen.lock().unwrap(), [1, 9, 25, 49, 81]);
/// ```
pub struct Observable<T> {
    producer: Arc<Producer<T>>,
}

impl<T> Clone for Observable<T> {
    fn clone(&self) -> Self {
        Self {
            producer: Arc::clone(&self.producer),
        }
    }
}

impl<T> fmt::Debug for Observable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observable").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Observable<T> {
    /// The observable whose subscriptions run `producer` (RxPY:
    /// `reactivex.create`, `Observable(subscribe)`).
    ///
    /// The producer emits into the subscriber it is given, now or later
    /// (moving it to a scheduled action or a thread), stops when
    /// [`Subscriber::is_closed`] says so, and registers its teardown with
    /// [`Subscriber::add`]. A panic in the producer itself unwinds into the
    /// subscribing call after disposing the subscription.
    ///
    /// ```
    /// use corun::reactive::Observable;
    ///
    /// let numbers = Observable::new(|mut s| {
    ///     s.on_next(1);
    ///     s.on_next(2);
    ///     s.on_completed();
    ///     s.on_next(3); // dropped: after the end
    /// });
    /// let all = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// let a = all.clone();
    /// numbers.subscribe(move |x| a.lock().unwrap().push(x));
    /// assert_eq!(*all.lock().unwrap(), [1, 2]);
    /// ```
    pub fn new(producer: impl Fn(Subscriber<T>) + Send + Sync + 'static) -> Self {
        Self {
            producer: Arc::new(producer),
        }
    }

    /// Runs the producer for `subscriber`: the subscription step that
    /// operators use to subscribe to their source with an observer of
    /// their own (see [`Subscriber::chain`]).
    pub fn subscribe_subscriber(&self, subscriber: Subscriber<T>) {
        let subscription = subscriber.subscription().clone();
        let run = std::panic::AssertUnwindSafe(|| (self.producer)(subscriber));
        if let Err(payload) = std::panic::catch_unwind(run) {
            subscription.dispose();
            std::panic::resume_unwind(payload);
        }
    }

    /// Subscribes `observer` (RxPY: `subscribe(observer)`); the handle
    /// disposes the subscription.
    pub fn subscribe_observer(&self, observer: impl Observer<T>) -> Subscription {
        let subscriber = Subscriber::new(observer);
        let subscription = subscriber.subscription().clone();
        self.subscribe_subscriber(subscriber);
        subscription
    }

    /// Subscribes `on_next` to the elements (RxPY: `subscribe(on_next)`).
    /// An error is reported on standard error; see
    /// [`subscribe_all`](Self::subscribe_all) to handle it.
    pub fn subscribe(&self, on_next: impl FnMut(T) + Send + 'static) -> Subscription {
        self.subscribe_observer(FnObserver::new(on_next, report_unhandled, || {}))
    }

    /// Subscribes three callbacks (RxPY:
    /// `subscribe(on_next, on_error, on_completed)`).
    ///
    /// ```
    /// use corun::reactive::throw;
    /// use corun::Error;
    ///
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// throw::<i32>(Error::timeout()).subscribe_all(|_| {}, move |e| tx.send(e).unwrap(), || {});
    /// assert!(rx.recv().unwrap().is_timeout());
    /// ```
    pub fn subscribe_all(
        &self,
        on_next: impl FnMut(T) + Send + 'static,
        on_error: impl FnOnce(Error) + Send + 'static,
        on_completed: impl FnOnce() + Send + 'static,
    ) -> Subscription {
        self.subscribe_observer(FnObserver::new(on_next, on_error, on_completed))
    }

    /// The observable that subscribes to this one with the observer `make`
    /// builds around each downstream subscriber, on the same subscription:
    /// the whole of a simple operator (`map` is
    /// `lift(move |down| Map { f: f.clone(), down })`).
    pub fn lift<U, O>(
        &self,
        make: impl Fn(Subscriber<U>) -> O + Send + Sync + 'static,
    ) -> Observable<U>
    where
        U: Send + 'static,
        O: Observer<T>,
    {
        let source = self.clone();
        Observable::new(move |down: Subscriber<U>| {
            source.subscribe_subscriber(down.chain(&make));
        })
    }

    /// Applies `operator` (RxPY: `pipe`): `obs.pipe(op::map(f))` is
    /// `op::map(f)(obs.clone())`. Operators are functions of an
    /// observable; see [`op`](crate::op) and [`pipe!`](crate::pipe).
    pub fn pipe<R>(&self, operator: impl FnOnce(Observable<T>) -> R) -> R {
        operator(self.clone())
    }
}

/// Applies operators in turn (RxPY: `source.pipe(op1, op2, ...)`).
///
/// ```
/// use corun::reactive::{from_iter, op, pipe};
///
/// let squares = pipe!(from_iter(1..=4), op::map(|x: i32| x * x), op::filter(|x: &i32| *x > 1));
/// assert_eq!(squares.to_vec().unwrap(), [4, 9, 16]);
/// ```
#[macro_export]
macro_rules! pipe {
    ($source:expr $(,)?) => { $source };
    ($source:expr, $op:expr $(, $rest:expr)* $(,)?) => {
        $crate::pipe!(($op)($source) $(, $rest)*)
    };
}
