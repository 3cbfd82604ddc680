//! `merge` (RxPY: `reactivex.merge`, `ops.merge`).

use std::sync::Arc;

use super::flat_map::merge_map;
use crate::{Observable, from_iter};

/// The elements of this observable and of `other`, merged (RxPY:
/// `ops.merge(other)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::merge`].
pub fn merge<T: Send + 'static>(
    other: Observable<T>,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.merge(&other)
}

/// The elements of all `sources`, merged as they come (RxPY:
/// `reactivex.merge(*sources)`): every source is subscribed at once; the
/// output completes when all have, and ends at the first error, disposing
/// the others. Sources may emit on any thread: the output stays
/// serialised.
///
/// ```
/// use corun::reactive::{merge, of};
///
/// let all = merge([of([1, 2]), of([3])]);
/// assert_eq!(all.to_vec().unwrap(), [1, 2, 3]);
/// ```
pub fn merge_sources<T: Send + 'static>(
    sources: impl IntoIterator<Item = Observable<T>>,
) -> Observable<T> {
    let sources: Vec<Observable<T>> = sources.into_iter().collect();
    merge_map(&from_iter(sources), Arc::new(|inner| inner), usize::MAX)
}

impl<T: Send + 'static> Observable<T> {
    /// The elements of this observable and of `other`, merged as they come
    /// (RxPY: `ops.merge(other)`); see [`merge`](crate::merge).
    ///
    /// ```
    /// use corun::reactive::{TestScheduler, interval, on_next};
    /// use std::time::Duration;
    ///
    /// let ts = TestScheduler::new();
    /// let s = ts.clone();
    /// let seen = ts.start_at(
    ///     move || {
    ///         let slow = interval(Duration::from_millis(30), s.clone()).map(|n| n * 100);
    ///         interval(Duration::from_millis(20), s).merge(&slow)
    ///     },
    ///     0, 0, 65,
    /// );
    /// // At 60 both tick: the tick scheduled first (at 30) goes first.
    /// assert_eq!(seen, [on_next(20, 0), on_next(30, 0), on_next(40, 1), on_next(60, 100), on_next(60, 2)]);
    /// ```
    pub fn merge(&self, other: &Observable<T>) -> Observable<T> {
        merge_sources([self.clone(), other.clone()])
    }
}
