//! `take_while` (RxPY: `ops.take_while`).

use std::sync::Arc;

use corun_core::Error;

use crate::{Observable, Observer, Subscriber};

/// The elements while `predicate` holds (RxPY: `ops.take_while(predicate)`),
/// for [`pipe`](Observable::pipe); the method is [`Observable::take_while`].
pub fn take_while<T, P>(predicate: P) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    P: Fn(&T) -> bool + Send + Sync + 'static,
{
    move |source| source.take_while(predicate)
}

/// The elements while `predicate` holds and the first for which it does
/// not (RxPY: `ops.take_while(predicate, inclusive=True)`), for
/// [`pipe`](Observable::pipe); the method is
/// [`Observable::take_while_inclusive`].
pub fn take_while_inclusive<T, P>(predicate: P) -> impl FnOnce(Observable<T>) -> Observable<T>
where
    T: Send + 'static,
    P: Fn(&T) -> bool + Send + Sync + 'static,
{
    move |source| source.take_while_inclusive(predicate)
}

impl<T: Send + 'static> Observable<T> {
    /// The elements while `predicate` holds; the first for which it does
    /// not ends the sequence, without being emitted, and disposes the
    /// source's subscription (RxPY: `ops.take_while(predicate)`). A panic
    /// in `predicate` ends this subscription with a
    /// [`Panicked`](corun_core::ErrorKind::Panicked) error.
    ///
    /// ```
    /// use corun::reactive::from_iter;
    ///
    /// assert_eq!(from_iter(1..).take_while(|x| x * x < 20).to_vec().unwrap(), [1, 2, 3, 4]);
    /// ```
    pub fn take_while(
        &self,
        predicate: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Observable<T> {
        self.take_while_impl(predicate, false)
    }

    /// As [`take_while`](Self::take_while), but the element for which
    /// `predicate` fails is emitted before the end (RxPY:
    /// `ops.take_while(predicate, inclusive=True)`).
    ///
    /// ```
    /// use corun::reactive::from_iter;
    ///
    /// let upto = from_iter(1..).take_while_inclusive(|x| x * x < 20);
    /// assert_eq!(upto.to_vec().unwrap(), [1, 2, 3, 4, 5]);
    /// ```
    pub fn take_while_inclusive(
        &self,
        predicate: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Observable<T> {
        self.take_while_impl(predicate, true)
    }

    fn take_while_impl(
        &self,
        predicate: impl Fn(&T) -> bool + Send + Sync + 'static,
        inclusive: bool,
    ) -> Observable<T> {
        let predicate = Arc::new(predicate);
        self.lift(move |down| TakeWhile {
            predicate: Arc::clone(&predicate),
            inclusive,
            down,
        })
    }
}

struct TakeWhile<P, T> {
    predicate: Arc<P>,
    inclusive: bool,
    down: Subscriber<T>,
}

impl<T, P> Observer<T> for TakeWhile<P, T>
where
    T: Send + 'static,
    P: Fn(&T) -> bool + Send + Sync + 'static,
{
    #[inline]
    fn on_next(&mut self, value: T) {
        if (self.predicate)(&value) {
            self.down.on_next(value);
        } else {
            if self.inclusive {
                self.down.on_next(value);
            }
            self.down.on_completed();
        }
    }
    fn on_error(&mut self, error: Error) {
        self.down.on_error(error);
    }
    fn on_completed(&mut self) {
        self.down.on_completed();
    }
}
