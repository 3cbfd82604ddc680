//! `distinct_until_changed` (RxPY: `ops.distinct_until_changed`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// The elements that differ from the one before (RxPY:
/// `ops.distinct_until_changed()`), for [`pipe`](Observable::pipe); the
/// method is [`Observable::distinct_until_changed`].
pub fn distinct_until_changed<T>() -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Clone + PartialEq + Send + 'static,
{
    move |source| source.distinct_until_changed()
}

/// The elements whose key differs from the one before (RxPY:
/// `ops.distinct_until_changed(key_mapper)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::distinct_until_changed_by_key`].
pub fn distinct_until_changed_by_key<T, K, F>(key: F) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    K: PartialEq + Send + 'static,
    F: Fn(&T) -> K + Send + Sync + 'static,
{
    move |source| source.distinct_until_changed_by_key(key)
}

/// The elements whose key `same` calls different from the one before
/// (RxPY: `ops.distinct_until_changed(key_mapper, comparer)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::distinct_until_changed_by`].
pub fn distinct_until_changed_by<T, K, F, C>(
    key: F,
    same: C,
) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    K: Send + 'static,
    F: Fn(&T) -> K + Send + Sync + 'static,
    C: Fn(&K, &K) -> bool + Send + Sync + 'static,
{
    move |source| source.distinct_until_changed_by(key, same)
}

impl<T: Send + 'static> Observable<T> {
    /// The elements that differ from the one before them (RxPY:
    /// `ops.distinct_until_changed()`): runs of equal elements become one.
    ///
    /// ```
    /// use corun::reactive::of;
    ///
    /// let readings = of([1, 1, 2, 2, 2, 1, 3, 3]);
    /// assert_eq!(readings.distinct_until_changed().to_vec().unwrap(), [1, 2, 1, 3]);
    /// ```
    pub fn distinct_until_changed(&self) -> Observable<T>
    where
        T: Clone + PartialEq,
    {
        self.distinct_until_changed_by(T::clone, T::eq)
    }

    /// The elements whose `key` differs from the key of the element before
    /// (RxPY: `ops.distinct_until_changed(key_mapper)`). A panic in `key`
    /// ends this subscription with a
    /// [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::of;
    ///
    /// let words = of(["apple", "avocado", "banana", "blueberry", "apricot"]);
    /// let firsts = words.distinct_until_changed_by_key(|w| w.chars().next());
    /// assert_eq!(firsts.to_vec().unwrap(), ["apple", "banana", "apricot"]);
    /// ```
    pub fn distinct_until_changed_by_key<K: PartialEq + Send + 'static>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Observable<T> {
        self.distinct_until_changed_by(key, K::eq)
    }

    /// The elements whose `key` is not the `same` as the key of the
    /// element before (RxPY: `ops.distinct_until_changed(key_mapper,
    /// comparer)`). A panic in `key` or `same` ends this subscription with
    /// a [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::of;
    ///
    /// // Readings that moved by more than 0.5 from the last one kept.
    /// let readings = of([20.0, 20.2, 20.4, 21.0, 21.1, 19.9]);
    /// let moves = readings.distinct_until_changed_by(|t: &f64| *t, |a, b| (a - b).abs() <= 0.5);
    /// assert_eq!(moves.to_vec().unwrap(), [20.0, 21.0, 19.9]);
    /// ```
    pub fn distinct_until_changed_by<K: Send + 'static>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        same: impl Fn(&K, &K) -> bool + Send + Sync + 'static,
    ) -> Observable<T> {
        let key = Arc::new(key);
        let same = Arc::new(same);
        self.lift(move |down| DistinctUntilChanged {
            key: Arc::clone(&key),
            same: Arc::clone(&same),
            current: None,
            down,
        })
    }
}

struct DistinctUntilChanged<F, C, K, T> {
    key: Arc<F>,
    same: Arc<C>,
    current: Option<K>,
    down: Subscriber<T>,
}

impl<T, K, F, C> Observer<T> for DistinctUntilChanged<F, C, K, T>
where
    T: Send + 'static,
    K: Send + 'static,
    F: Fn(&T) -> K + Send + Sync + 'static,
    C: Fn(&K, &K) -> bool + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        let key = (self.key)(&value);
        let changed = match &self.current {
            Some(current) => !(self.same)(current, &key),
            None => true,
        };
        if changed {
            self.current = Some(key);
            self.down.on_next(value);
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
