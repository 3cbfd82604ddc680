//! `with_latest_from` (RxPY: `ops.with_latest_from`).

use std::sync::Arc;

use corun_core::Error;
use parking_lot::Mutex;

use super::zip::subscribe_part;
use crate::{Observable, Observer, SharedSubscriber, Subscriber};

/// Each of this observable's elements paired with `other`'s latest (RxPY:
/// `ops.with_latest_from(other)`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::with_latest_from`].
pub fn with_latest_from<T, U>(
    other: Observable<U>,
) -> impl FnOnce(Observable<T>) -> Observable<(T, U)>
where
    T: Send + 'static,
    U: Clone + Send + 'static,
{
    move |source| source.with_latest_from(&other)
}

impl<T: Send + 'static> Observable<T> {
    /// Each of this observable's elements paired with the latest of
    /// `other`'s, once `other` has emitted (elements before are dropped)
    /// (RxPY: `ops.with_latest_from(other)`). Only this observable drives
    /// the output: it completes when this one does, whatever `other`
    /// does; an error from either ends it. `other` is subscribed first,
    /// so a value it has at once is there for this observable's first
    /// element.
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next};
    ///
    /// let ts = TestScheduler::new();
    /// let clicks = ts.create_hot_observable(vec![on_next(210, 'a'), on_next(230, 'b'), on_next(250, 'c'), on_completed(260)]);
    /// let mode = ts.create_hot_observable(vec![on_next(220, "draw"), on_next(240, "erase"), on_completed(245)]);
    /// let seen = ts.start(move || clicks.observable().with_latest_from(&mode.observable()));
    /// assert_eq!(seen, [on_next(230, ('b', "draw")), on_next(250, ('c', "erase")), on_completed(260)]);
    /// ```
    pub fn with_latest_from<U: Clone + Send + 'static>(
        &self,
        other: &Observable<U>,
    ) -> Observable<(T, U)> {
        let (source, other) = (self.clone(), other.clone());
        Observable::new(move |down: Subscriber<(T, U)>| {
            let down = down.into_shared();
            let latest = Arc::new(Mutex::new(None));
            let observer = Other {
                latest: Arc::clone(&latest),
                down: down.clone(),
            };
            subscribe_part(&down, &other, observer);
            if down.is_closed() {
                return;
            }
            let observer = Source {
                latest,
                down: down.clone(),
            };
            subscribe_part(&down, &source, observer);
        })
    }
}

/// The observer of `other`: keeps its latest element.
struct Other<T, U> {
    latest: Arc<Mutex<Option<U>>>,
    down: SharedSubscriber<(T, U)>,
}

impl<T: Send + 'static, U: Send + 'static> Observer<U> for Other<T, U> {
    fn on_next(&mut self, value: U) {
        *self.latest.lock() = Some(value);
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {}
}

/// The observer of the source: pairs each element with the latest.
struct Source<T, U> {
    latest: Arc<Mutex<Option<U>>>,
    down: SharedSubscriber<(T, U)>,
}

impl<T: Send + 'static, U: Clone + Send + 'static> Observer<T> for Source<T, U> {
    fn on_next(&mut self, value: T) {
        let latest = self.latest.lock().clone();
        if let Some(latest) = latest {
            self.down.on_next((value, latest));
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
