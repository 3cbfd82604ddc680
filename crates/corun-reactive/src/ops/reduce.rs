//! `reduce` (RxPY: `ops.reduce`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// The final accumulation of `f` from `seed` (RxPY: `ops.reduce(accumulator,
/// seed)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::reduce`].
pub fn reduce<T, U, F>(seed: U, f: F) -> impl FnOnce(Observable<T>) -> Observable<U>
where
    T: Send + 'static,
    U: Clone + Send + Sync + 'static,
    F: Fn(U, T) -> U + Send + Sync + 'static,
{
    move |source| source.reduce(seed, f)
}

impl<T: Send + 'static> Observable<T> {
    /// The final accumulation of `f`, starting from `seed`, emitted at the
    /// end (RxPY: `ops.reduce(accumulator, seed)`); `seed` itself for an
    /// empty sequence. A panic in `f` ends this subscription with a
    /// [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(1, 5).reduce(0, |sum, x| sum + x).to_vec().unwrap(), [10]);
    /// ```
    pub fn reduce<U>(&self, seed: U, f: impl Fn(U, T) -> U + Send + Sync + 'static) -> Observable<U>
    where
        U: Clone + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.lift(move |down| Reduce {
            f: Arc::clone(&f),
            acc: Some(seed.clone()),
            down,
        })
    }
}

struct Reduce<F, U> {
    f: Arc<F>,
    /// Taken while `f` runs; `None` after `f` panicked.
    acc: Option<U>,
    down: Subscriber<U>,
}

impl<T, U, F> Observer<T> for Reduce<F, U>
where
    U: Send + 'static,
    F: Fn(U, T) -> U + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        if let Some(acc) = self.acc.take() {
            self.acc = Some((self.f)(acc, value));
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        if let Some(acc) = self.acc.take() {
            self.down.on_next(acc);
        }
        self.down.on_completed();
    }
}
