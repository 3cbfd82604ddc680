//! `concat_map` (RxPY: `ops.concat_map`) and `concat_all`.

use std::sync::Arc;

use super::flat_map::merge_map;
use crate::Observable;

/// Each element through `f` into an observable, subscribed one after the
/// other (RxPY: `ops.concat_map(project)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::concat_map`].
pub fn concat_map<T, U, F>(f: F) -> impl FnOnce(Observable<T>) -> Observable<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> Observable<U> + Send + Sync + 'static,
{
    move |source| source.concat_map(f)
}

/// The inner observables one after the other (RxPY: `ops.concat_all()`),
/// for [`pipe`](Observable::pipe); the method is
/// [`Observable::concat_all`].
pub fn concat_all<T: Send + 'static>() -> impl FnOnce(Observable<Observable<T>>) -> Observable<T> {
    move |source| source.concat_all()
}

impl<T: Send + 'static> Observable<T> {
    /// Each element through `f` into an inner observable; each inner one
    /// is subscribed when the one before has completed, so their elements
    /// come in the order of this observable's (RxPY: `ops.concat_map`,
    /// which is `map` then `merge(max_concurrent=1)`). Inner observables
    /// waiting their turn are queued; `f` runs as each element arrives.
    ///
    /// The end and error rules are those of
    /// [`flat_map`](Observable::flat_map): the output completes when this
    /// observable and every inner one have; any error ends it, and
    /// disposing it disposes the subscription in progress.
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, on_completed, on_next, range, timer};
    /// use std::time::Duration;
    ///
    /// // Inner observables that end later for smaller numbers: merged,
    /// // they would come out reversed; concatenated, they keep the order.
    /// let ts = TestScheduler::new();
    /// let s = ts.clone();
    /// let seen = ts.start(move || {
    ///     range(1u64, 4).concat_map(move |x| timer(Duration::from_millis(40 - 10 * x), s.clone()).map(move |_| x))
    /// });
    /// assert_eq!(seen, [on_next(230, 1), on_next(250, 2), on_next(260, 3), on_completed(260)]);
    /// ```
    pub fn concat_map<U: Send + 'static>(
        &self,
        f: impl Fn(T) -> Observable<U> + Send + Sync + 'static,
    ) -> Observable<U> {
        merge_map(self, Arc::new(f), 1)
    }
}

impl<T: Send + 'static> Observable<Observable<T>> {
    /// The inner observables one after the other, each subscribed when the
    /// one before has completed (RxPY: `ops.concat_all()`, `merge(max_concurrent=1)`).
    ///
    /// ```
    /// use corun::reactive::of;
    ///
    /// assert_eq!(of([of([1, 2]), of([3])]).concat_all().to_vec().unwrap(), [1, 2, 3]);
    /// ```
    pub fn concat_all(&self) -> Observable<T> {
        merge_map(self, Arc::new(|inner| inner), 1)
    }
}
