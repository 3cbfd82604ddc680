//! `take` (RxPY: `ops.take`).

use corun_core::Error;

use crate::{Observable, Observer, Subscriber, empty};

/// The first `count` elements, then the end (RxPY: `ops.take`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::take`].
pub fn take<T: Send + 'static>(count: usize) -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.take(count)
}

impl<T: Send + 'static> Observable<T> {
    /// The first `count` elements, then the end, which disposes the
    /// source's subscription (RxPY: `ops.take`). `take(0)` ends at once
    /// without subscribing to the source.
    ///
    /// ```
    /// use corun::reactive::from_iter;
    ///
    /// assert_eq!(from_iter(0..).take(3).to_vec().unwrap(), [0, 1, 2]);
    /// ```
    pub fn take(&self, count: usize) -> Observable<T> {
        if count == 0 {
            return empty();
        }
        self.lift(move |down| Take {
            remaining: count,
            down,
        })
    }
}

struct Take<T> {
    remaining: usize,
    down: Subscriber<T>,
}

impl<T: Send + 'static> Observer<T> for Take<T> {
    #[inline]
    fn on_next(&mut self, value: T) {
        if self.remaining > 0 {
            self.remaining -= 1;
            self.down.on_next(value);
            if self.remaining == 0 {
                self.down.on_completed();
            }
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
