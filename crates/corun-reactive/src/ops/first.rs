//! `first` (RxPY: `ops.first`).

use corun_core::Error;

use crate::bridge::no_elements;
use crate::{Observable, Observer, Subscriber};

/// The first element, then the end (RxPY: `ops.first()`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::first`].
pub fn first<T: Send + 'static>() -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.first()
}

impl<T: Send + 'static> Observable<T> {
    /// The first element, then the end, which disposes the source's
    /// subscription (RxPY: `ops.first()`); an empty source ends with an
    /// [`Empty`](corun_core::ErrorKind::Empty) error.
    ///
    /// ```
    /// use corun::reactive::{empty, range};
    ///
    /// assert_eq!(range(7, 10).first().to_vec().unwrap(), [7]);
    /// assert_eq!(empty::<i32>().first().to_vec().unwrap_err().kind(), corun::ErrorKind::Empty);
    /// ```
    pub fn first(&self) -> Observable<T> {
        self.lift(|down| First { down })
    }
}

struct First<T> {
    down: Subscriber<T>,
}

impl<T: Send + 'static> Observer<T> for First<T> {
    fn on_next(&mut self, value: T) {
        self.down.on_next(value);
        self.down.on_completed();
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_error(no_elements());
    }
}
