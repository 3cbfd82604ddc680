//! `concat` (RxPY: `reactivex.concat`, `ops.concat`).

use std::sync::Arc;

use super::flat_map::merge_map;
use crate::{Observable, from_iter};

/// This observable's elements, then `other`'s (RxPY: `ops.concat(other)`),
/// for [`pipe`](Observable::pipe); the method is [`Observable::concat`].
pub fn concat<T: Send + 'static>(
    other: Observable<T>,
) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.concat(&other)
}

/// The elements of each of `sources` in turn, each subscribed when the one
/// before has completed (RxPY: `reactivex.concat(*sources)`); the first
/// error ends the output. Sources that complete as they are subscribed are
/// run in a loop, not nested, so any number of them can be concatenated.
///
/// ```
/// use corun::reactive::{concat, of, range};
///
/// let all = concat([of([1, 2]), range(3, 5)]);
/// assert_eq!(all.to_vec().unwrap(), [1, 2, 3, 4]);
/// ```
pub fn concat_sources<T: Send + 'static>(
    sources: impl IntoIterator<Item = Observable<T>>,
) -> Observable<T> {
    let sources: Vec<Observable<T>> = sources.into_iter().collect();
    merge_map(&from_iter(sources), Arc::new(|inner| inner), 1)
}

impl<T: Send + 'static> Observable<T> {
    /// This observable's elements, then `other`'s, subscribed when this one
    /// completes (RxPY: `ops.concat(other)`); see
    /// [`concat`](crate::concat).
    ///
    /// ```
    /// use corun::reactive::{of, range};
    ///
    /// assert_eq!(range(0, 2).concat(&of([9])).to_vec().unwrap(), [0, 1, 9]);
    /// ```
    pub fn concat(&self, other: &Observable<T>) -> Observable<T> {
        concat_sources([self.clone(), other.clone()])
    }
}
