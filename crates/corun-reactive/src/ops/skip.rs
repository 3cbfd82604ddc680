//! `skip` (RxPY: `ops.skip`).

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// All but the first `count` elements (RxPY: `ops.skip`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::skip`].
pub fn skip<T: Send + 'static>(count: usize) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.skip(count)
}

impl<T: Send + 'static> Observable<T> {
    /// All but the first `count` elements (RxPY: `ops.skip`).
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(0, 5).skip(3).to_vec().unwrap(), [3, 4]);
    /// ```
    pub fn skip(&self, count: usize) -> Observable<T> {
        self.lift(move |down| Skip {
            remaining: count,
            down,
        })
    }
}

struct Skip<T> {
    remaining: usize,
    down: Subscriber<T>,
}

impl<T: Send + 'static> Observer<T> for Skip<T> {
    #[inline]
    fn on_next(&mut self, value: T) {
        if self.remaining > 0 {
            self.remaining -= 1;
        } else {
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
