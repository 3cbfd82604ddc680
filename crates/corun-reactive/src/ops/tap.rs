//! `tap` (RxPY: `ops.do_action`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// Calls `f` on each element and passes it on (RxPY:
/// `ops.do_action(on_next)`), for [`pipe`](Observable::pipe); the method
/// is [`Observable::tap`].
pub fn tap<T, F>(f: F) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    F: Fn(&T) + Send + Sync + 'static,
{
    move |source| source.tap(f)
}

impl<T: Send + 'static> Observable<T> {
    /// Calls `f` on each element and passes it on, for side effects (RxPY:
    /// `ops.do_action(on_next)`). A panic in `f` ends this subscription
    /// with a [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::range;
    /// use std::sync::atomic::{AtomicI32, Ordering};
    ///
    /// let seen = std::sync::Arc::new(AtomicI32::new(0));
    /// let s = seen.clone();
    /// let out = range(1, 4).tap(move |x| { s.fetch_add(*x, Ordering::SeqCst); }).to_vec().unwrap();
    /// assert_eq!((out, seen.load(Ordering::SeqCst)), (vec![1, 2, 3], 6));
    /// ```
    pub fn tap(&self, f: impl Fn(&T) + Send + Sync + 'static) -> Observable<T> {
        let f = Arc::new(f);
        self.lift(move |down| Tap {
            f: Arc::clone(&f),
            down,
        })
    }
}

struct Tap<F, T> {
    f: Arc<F>,
    down: Subscriber<T>,
}

impl<T, F> Observer<T> for Tap<F, T>
where
    T: Send + 'static,
    F: Fn(&T) + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        (self.f)(&value);
        self.down.on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
