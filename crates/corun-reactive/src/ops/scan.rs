//! `scan` (RxPY: `ops.scan`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// Each accumulation of `f` from `seed` (RxPY: `ops.scan(accumulator,
/// seed)`), for [`pipe`](Observable::pipe); the method is
/// [`Observable::scan`].
pub fn scan<T, U, F>(seed: U, f: F) -> impl FnOnce(Observable<T>) -> Observable<U>
where
    T: Send + 'static,
    U: Clone + Send + Sync + 'static,
    F: Fn(U, T) -> U + Send + Sync + 'static,
{
    move |source| source.scan(seed, f)
}

impl<T: Send + 'static> Observable<T> {
    /// Each accumulation of `f`, starting from `seed`, emitted as it
    /// changes (RxPY: `ops.scan(accumulator, seed)`). Each subscription
    /// starts from a clone of `seed`. A panic in `f` ends this
    /// subscription with a [`Panicked`](corun_core::ErrorKind::Panicked)
    /// error.
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(1, 5).scan(0, |sum, x| sum + x).to_vec().unwrap(), [1, 3, 6, 10]);
    /// ```
    pub fn scan<U>(&self, seed: U, f: impl Fn(U, T) -> U + Send + Sync + 'static) -> Observable<U>
    where
        U: Clone + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.lift(move |down| Scan {
            f: Arc::clone(&f),
            acc: Some(seed.clone()),
            down,
        })
    }
}

struct Scan<F, U> {
    f: Arc<F>,
    /// Taken while `f` runs; `None` after `f` panicked.
    acc: Option<U>,
    down: Subscriber<U>,
}

impl<T, U, F> Observer<T> for Scan<F, U>
where
    U: Clone + Send + 'static,
    F: Fn(U, T) -> U + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        if let Some(acc) = self.acc.take() {
            let acc = (self.f)(acc, value);
            self.acc = Some(acc.clone());
            self.down.on_next(acc);
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
