//! `filter` (RxPY: `ops.filter`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// The elements for which `predicate` holds (RxPY: `ops.filter`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::filter`].
pub fn filter<T, P>(predicate: P) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    P: Fn(&T) -> bool + Send + Sync + 'static,
{
    move |source| source.filter(predicate)
}

impl<T: Send + 'static> Observable<T> {
    /// The elements for which `predicate` holds (RxPY: `ops.filter`). A
    /// panic in `predicate` ends this subscription with a
    /// [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(0, 10).filter(|x| x % 3 == 0).to_vec().unwrap(), [0, 3, 6, 9]);
    /// ```
    pub fn filter(&self, predicate: impl Fn(&T) -> bool + Send + Sync + 'static) -> Observable<T> {
        let predicate = Arc::new(predicate);
        self.lift(move |down| Filter {
            predicate: Arc::clone(&predicate),
            down,
        })
    }
}

struct Filter<P, T> {
    predicate: Arc<P>,
    down: Subscriber<T>,
}

impl<T, P> Observer<T> for Filter<P, T>
where
    T: Send + 'static,
    P: Fn(&T) -> bool + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        if (self.predicate)(&value) {
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
