//! `flat_map` (RxPY: `ops.flat_map`, RxJS `mergeMap`) and `merge_all`, and
//! the merging engine that `concat_map`, `merge` and `concat` share.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use corun_core::Error;
use parking_lot::{Mutex, MutexGuard};

use crate::{Observable, Observer, SharedSubscriber, Subscriber, Subscription, TeardownKey};

/// Each element through `f` into an observable, all of them merged (RxPY:
/// `ops.flat_map(mapper)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::flat_map`].
pub fn flat_map<T, U, F>(f: F) -> impl FnOnce(Observable<T>) -> Observable<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> Observable<U> + Send + Sync + 'static,
{
    move |source| source.flat_map(f)
}

/// The elements of every inner observable, merged (RxPY:
/// `ops.merge_all()`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::merge_all`].
pub fn merge_all<T: Send + 'static>() -> impl FnOnce(Observable<Observable<T>>) -> Observable<T> {
    move |source| source.merge_all()
}

impl<T: Send + 'static> Observable<T> {
    /// Each element through `f` into an inner observable, subscribed at
    /// once; the elements of all of them merged as they come (RxPY:
    /// `ops.flat_map`; RxJS `mergeMap`).
    ///
    /// - The output ends when this observable and every inner one have
    ///   completed; an error from this one or from any inner one ends it
    ///   at once, disposing all the others.
    /// - Inner observables may emit on any thread: the output stays
    ///   serialised (its observer never sees two calls at once).
    /// - Disposing the output disposes this subscription and every inner
    ///   one.
    /// - A panic in `f` ends the output with a
    ///   [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::{of, range};
    ///
    /// let pairs = range(1, 4).flat_map(|x| of([x, x * 10]));
    /// assert_eq!(pairs.to_vec().unwrap(), [1, 10, 2, 20, 3, 30]);
    /// ```
    pub fn flat_map<U: Send + 'static>(
        &self,
        f: impl Fn(T) -> Observable<U> + Send + Sync + 'static,
    ) -> Observable<U> {
        merge_map(self, Arc::new(f), usize::MAX)
    }
}

impl<T: Send + 'static> Observable<Observable<T>> {
    /// The elements of every inner observable, each subscribed as it
    /// arrives, merged (RxPY: `ops.merge_all()`); the rules of
    /// [`flat_map`](Observable::flat_map).
    ///
    /// ```
    /// use corun::reactive::of;
    ///
    /// let nested = of([of([1, 2]), of([3])]);
    /// assert_eq!(nested.merge_all().to_vec().unwrap(), [1, 2, 3]);
    /// ```
    pub fn merge_all(&self) -> Observable<T> {
        merge_map(self, Arc::new(|inner| inner), usize::MAX)
    }
}

/// What turns an outer element into an inner observable.
pub(crate) type Project<S, T> = Arc<dyn Fn(S) -> Observable<T> + Send + Sync>;

/// The merging engine: each element of `source` through `project` into an
/// inner observable, at most `max` of them subscribed at once (the rest
/// queued in order), their elements merged into one output. `max == 1` is
/// concatenation.
pub(crate) fn merge_map<S, T>(
    source: &Observable<S>,
    project: Project<S, T>,
    max: usize,
) -> Observable<T>
where
    S: Send + 'static,
    T: Send + 'static,
{
    let source = source.clone();
    Observable::new(move |down: Subscriber<T>| {
        let down = down.into_shared();
        let merge = Arc::new(Merge {
            down: down.clone(),
            max: max.max(1),
            state: Mutex::new(State {
                active: 0,
                outer_done: false,
                pumping: false,
                queue: VecDeque::new(),
            }),
        });
        // The outer subscription is one of the output's parts: its end
        // must not end the output (inner ones may still run).
        let outer = Subscription::new();
        down.subscription().add_subscription(outer.clone());
        let observer = Outer {
            project: Arc::clone(&project),
            merge,
        };
        source.subscribe_subscriber(Subscriber::with_subscription(observer, outer));
    })
}

struct Merge<T> {
    down: SharedSubscriber<T>,
    max: usize,
    state: Mutex<State<T>>,
}

struct State<T> {
    /// Inner observables subscribed and not yet completed.
    active: usize,
    outer_done: bool,
    /// Whether a thread is subscribing queued inner observables.
    pumping: bool,
    /// Inner observables waiting for room under `max`.
    queue: VecDeque<Observable<T>>,
}

impl<T: Send + 'static> Merge<T> {
    /// Subscribes `inner` now if there is room and nothing waits before
    /// it, else queues it.
    fn push(self: &Arc<Self>, inner: Observable<T>) {
        let mut state = self.state.lock();
        if state.active < self.max && state.queue.is_empty() {
            state.active += 1;
            drop(state);
            self.subscribe_inner(inner);
        } else {
            state.queue.push_back(inner);
            self.pump(state);
        }
    }

    /// Subscribes queued inner observables while there is room, then ends
    /// the output if everything has completed. One thread pumps at a time,
    /// in a loop, so inner observables that complete as they are
    /// subscribed do not nest.
    fn pump<'a>(self: &'a Arc<Self>, mut state: MutexGuard<'a, State<T>>) {
        if state.pumping {
            // That thread sees the change when it takes the lock again.
            return;
        }
        state.pumping = true;
        while state.active < self.max {
            if self.down.is_closed() {
                state.queue.clear();
                break;
            }
            let Some(next) = state.queue.pop_front() else {
                break;
            };
            state.active += 1;
            drop(state);
            self.subscribe_inner(next);
            state = self.state.lock();
        }
        state.pumping = false;
        self.complete_if_done(state);
    }

    fn complete_if_done(&self, state: MutexGuard<'_, State<T>>) {
        let done = state.outer_done && state.active == 0 && state.queue.is_empty();
        drop(state);
        if done {
            self.down.on_completed();
        }
    }

    fn subscribe_inner(self: &Arc<Self>, inner: Observable<T>) {
        let subscription = Subscription::new();
        let key = self
            .down
            .subscription()
            .add_subscription(subscription.clone());
        let observer = Inner {
            merge: Arc::clone(self),
            key,
        };
        let subscriber = Subscriber::with_subscription(observer, subscription);
        if let Err(payload) =
            catch_unwind(AssertUnwindSafe(|| inner.subscribe_subscriber(subscriber)))
        {
            self.down.on_error(Error::from_panic(&*payload));
        }
    }

    fn inner_done(self: &Arc<Self>, key: TeardownKey) {
        self.down.subscription().remove(key);
        let mut state = self.state.lock();
        state.active -= 1;
        self.pump(state);
    }
}

/// The observer of the outer observable.
struct Outer<S, T> {
    project: Project<S, T>,
    merge: Arc<Merge<T>>,
}

impl<S, T: Send + 'static> Observer<S> for Outer<S, T>
where
    S: 'static,
{
    fn on_next(&mut self, value: S) {
        // A panic here is caught by this observer's Subscriber, which ends
        // it with on_error, which ends the output.
        let inner = (self.project)(value);
        self.merge.push(inner);
    }
    fn on_error(&mut self, error: Error) {
        self.merge.down.on_error(error);
    }
    fn on_completed(&mut self) {
        let mut state = self.merge.state.lock();
        state.outer_done = true;
        self.merge.pump(state);
    }
}

/// The observer of one inner observable.
struct Inner<T> {
    merge: Arc<Merge<T>>,
    key: TeardownKey,
}

impl<T: Send + 'static> Observer<T> for Inner<T> {
    fn on_next(&mut self, value: T) {
        self.merge.down.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        self.merge.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.merge.inner_done(self.key);
    }
}
