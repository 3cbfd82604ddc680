//! `last` (RxPY: `ops.last`).

use corun_core::Error;

use crate::bridge::no_elements;
use crate::{Observable, Observer, Subscriber};

/// The last element, at the end (RxPY: `ops.last()`), for
/// [`pipe`](Observable::pipe); the method is [`Observable::last`].
pub fn last<T: Send + 'static>() -> impl FnOnce(Observable<T>) -> Observable<T> {
    move |source| source.last()
}

impl<T: Send + 'static> Observable<T> {
    /// The last element, emitted when the source ends (RxPY:
    /// `ops.last()`); an empty source ends with an
    /// [`Empty`](corun_core::ErrorKind::Empty) error.
    ///
    /// ```
    /// use corun::reactive::range;
    ///
    /// assert_eq!(range(7, 10).last().to_vec().unwrap(), [9]);
    /// ```
    pub fn last(&self) -> Observable<T> {
        self.lift(|down| Last { value: None, down })
    }
}

struct Last<T> {
    value: Option<T>,
    down: Subscriber<T>,
}

impl<T: Send + 'static> Observer<T> for Last<T> {
    #[inline]
    fn on_next(&mut self, value: T) {
        self.value = Some(value);
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        match self.value.take() {
            Some(value) => {
                self.down.on_next(value);
                self.down.on_completed();
            }
            None => self.down.on_error(no_elements()),
        }
    }
}
