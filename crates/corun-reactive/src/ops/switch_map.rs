//! `switch_map` (RxPY: `ops.switch_map`, `ops.flat_map_latest`) and
//! `switch_latest`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use super::flat_map::Project;
use super::gate::linked;
use crate::{
    Notification, Observable, Observer, SerialSubscription, SharedSubscriber, Subscriber,
    Subscription,
};

/// Each element through `f` into an observable, following only the latest
/// (RxPY: `ops.switch_map(project)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::switch_map`].
pub fn switch_map<T, U, F>(f: F) -> impl FnOnce(Observable<T>) -> Observable<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> Observable<U> + Send + Sync + 'static,
{
    move |source| source.switch_map(f)
}

/// The elements of the latest inner observable (RxPY:
/// `ops.switch_latest()`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::switch_latest`].
pub fn switch_latest<T: Send + 'static>() -> impl FnOnce(Observable<Observable<T>>) -> Observable<T>
{
    move |source| source.switch_latest()
}

impl<T: Send + 'static> Observable<T> {
    /// Each element through `f` into an inner observable, which replaces
    /// the one before: that one is disposed, and nothing more of it is
    /// delivered, even from another thread (RxPY: `ops.switch_map`; RxJS
    /// `switchMap`).
    ///
    /// The output completes when this observable has completed and the
    /// latest inner one too; an error from this one or from the latest
    /// inner one ends it. Disposing it disposes this subscription and the
    /// inner one. A panic in `f` ends it with a
    /// [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next, timer};
    /// use std::time::Duration;
    ///
    /// // A search box: each query's results arrive 50 ticks later, and a
    /// // newer query drops the older one's.
    /// let ts = TestScheduler::new();
    /// let queries = ts.create_hot_observable(vec![
    ///     on_next(210, "ru"), on_next(230, "rus"), on_next(300, "rust"), on_completed(400),
    /// ]);
    /// let s = ts.clone();
    /// let seen = ts.start(move || {
    ///     queries.observable().switch_map(move |q| {
    ///         timer(Duration::from_millis(50), s.clone()).map(move |_| format!("results for {q}"))
    ///     })
    /// });
    /// assert_eq!(seen, [
    ///     on_next(280, "results for rus".to_string()),
    ///     on_next(350, "results for rust".to_string()),
    ///     on_completed(400),
    /// ]);
    /// ```
    pub fn switch_map<U: Send + 'static>(
        &self,
        f: impl Fn(T) -> Observable<U> + Send + Sync + 'static,
    ) -> Observable<U> {
        switch(self, Arc::new(f))
    }
}

impl<T: Send + 'static> Observable<Observable<T>> {
    /// The elements of the latest inner observable, each one disposing
    /// the one before (RxPY: `ops.switch_latest()`); the rules of
    /// [`switch_map`](Observable::switch_map).
    ///
    /// ```
    /// use corun::reactive::of;
    ///
    /// // Each inner observable runs to its end as it is subscribed.
    /// assert_eq!(of([of([1, 2]), of([3])]).switch_latest().to_vec().unwrap(), [1, 2, 3]);
    /// ```
    pub fn switch_latest(&self) -> Observable<T> {
        switch(self, Arc::new(|inner| inner))
    }
}

fn switch<S, T>(source: &Observable<S>, project: Project<S, T>) -> Observable<T>
where
    S: Send + 'static,
    T: Send + 'static,
{
    let source = source.clone();
    Observable::new(move |down: Subscriber<T>| {
        let (down, inner, outer) = linked(down);
        let switch = Arc::new(Switch {
            down,
            inner,
            state: Mutex::new(State {
                latest: 0,
                has_latest: false,
                outer_done: false,
            }),
        });
        let observer = Outer {
            project: Arc::clone(&project),
            switch,
        };
        source.subscribe_subscriber(Subscriber::with_subscription(observer, outer));
    })
}

struct Switch<T> {
    down: SharedSubscriber<T>,
    /// The latest inner subscription.
    inner: SerialSubscription,
    state: Mutex<State>,
}

struct State {
    /// The number of the latest inner observable.
    latest: u64,
    /// Whether the latest inner observable has not completed.
    has_latest: bool,
    outer_done: bool,
}

impl<T: Send + 'static> Switch<T> {
    /// Delivers `notification` from inner observable `id` if it is still
    /// the latest: queued under the lock that a switch takes, so nothing
    /// from an older one can follow anything of a newer one.
    fn deliver(&self, id: u64, notification: Notification<T>) {
        {
            let mut state = self.state.lock();
            if state.latest != id {
                return;
            }
            let notification = match notification {
                Notification::Completed => {
                    state.has_latest = false;
                    if !state.outer_done {
                        return;
                    }
                    Notification::Completed
                }
                other => other,
            };
            self.down.enqueue(notification);
        }
        self.down.flush();
    }
}

struct Outer<S, T> {
    project: Project<S, T>,
    switch: Arc<Switch<T>>,
}

impl<S: 'static, T: Send + 'static> Observer<S> for Outer<S, T> {
    fn on_next(&mut self, value: S) {
        // A panic here is caught by this observer's Subscriber, which ends
        // the output with on_error.
        let inner = (self.project)(value);
        let id = {
            let mut state = self.switch.state.lock();
            state.latest += 1;
            state.has_latest = true;
            state.latest
        };
        let subscription = Subscription::new();
        // Disposes the inner subscription before.
        self.switch.inner.set(subscription.clone());
        let observer = SwitchInner {
            switch: Arc::clone(&self.switch),
            id,
        };
        let subscriber = Subscriber::with_subscription(observer, subscription);
        if let Err(payload) =
            catch_unwind(AssertUnwindSafe(|| inner.subscribe_subscriber(subscriber)))
        {
            self.switch.down.on_error(Error::from_panic(&*payload));
        }
    }
    fn on_error(&mut self, error: Error) {
        self.switch.down.on_error(error);
    }
    fn on_completed(&mut self) {
        {
            let mut state = self.switch.state.lock();
            state.outer_done = true;
            if state.has_latest {
                return;
            }
            self.switch.down.enqueue(Notification::Completed);
        }
        self.switch.down.flush();
    }
}

struct SwitchInner<T> {
    switch: Arc<Switch<T>>,
    id: u64,
}

impl<T: Send + 'static> Observer<T> for SwitchInner<T> {
    fn on_next(&mut self, value: T) {
        self.switch.deliver(self.id, Notification::Next(value));
    }
    fn on_error(&mut self, error: Error) {
        self.switch.deliver(self.id, Notification::Error(error));
    }
    fn on_completed(&mut self) {
        self.switch.deliver(self.id, Notification::Completed);
    }
}
