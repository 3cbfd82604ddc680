//! `map` (RxPY: `ops.map`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// Each element through `f` (RxPY: `ops.map(mapper)`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::map`].
pub fn map<T, U, F>(f: F) -> impl FnOnce(Observable<T>) -> Observable<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    move |source| source.map(f)
}

impl<T: Send + 'static> Observable<T> {
    /// Each element through `f` (RxPY: `ops.map`). A panic in `f` ends
    /// this subscription with a [`Panicked`](corun_core::ErrorKind::Panicked)
    /// error.
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(1, 4).map(|x| x * 10).to_vec().unwrap(), [10, 20, 30]);
    /// ```
    pub fn map<U: Send + 'static>(
        &self,
        f: impl Fn(T) -> U + Send + Sync + 'static,
    ) -> Observable<U> {
        let f = Arc::new(f);
        self.lift(move |down| Map {
            f: Arc::clone(&f),
            down,
        })
    }
}

struct Map<F, U> {
    f: Arc<F>,
    down: Subscriber<U>,
}

impl<T, U, F> Observer<T> for Map<F, U>
where
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        let mapped = (self.f)(value);
        self.down.on_next(mapped);
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
