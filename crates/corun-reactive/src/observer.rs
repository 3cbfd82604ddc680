//! [`Observer`]: what receives an observable's events.

use std::fmt;
use std::marker::PhantomData;

use corun_core::Error;

/// What receives an observable's events (RxPY: `Observer`): `on_next` for
/// each element, then at most one of `on_error` and `on_completed`.
///
/// Observers never see a broken contract: each is wrapped in a
/// [`Subscriber`](crate::Subscriber) that drops anything after the end and
/// after disposal, and takes `&mut self`, so calls never overlap. Methods
/// take `&mut self`, so an observer keeps its state (an accumulator, a
/// count) without a lock.
///
/// An operator is an observer of its source that forwards to a
/// `Subscriber` of its own output (see [`crate::op`]).
pub trait Observer<T>: Send + 'static {
    /// The next element.
    fn on_next(&mut self, value: T);
    /// The sequence failed; nothing follows.
    fn on_error(&mut self, error: Error);
    /// The sequence ended; nothing follows.
    fn on_completed(&mut self);
}

impl<T, O: Observer<T> + ?Sized> Observer<T> for Box<O> {
    fn on_next(&mut self, value: T) {
        (**self).on_next(value);
    }
    fn on_error(&mut self, error: Error) {
        (**self).on_error(error);
    }
    fn on_completed(&mut self) {
        (**self).on_completed();
    }
}

/// An observer made of three closures
/// ([`Observable::subscribe_all`](crate::Observable::subscribe_all)).
pub struct FnObserver<T, N, E, C> {
    on_next: N,
    on_error: Option<E>,
    on_completed: Option<C>,
    _values: PhantomData<fn(T)>,
}

impl<T, N, E, C> FnObserver<T, N, E, C>
where
    N: FnMut(T) + Send + 'static,
    E: FnOnce(Error) + Send + 'static,
    C: FnOnce() + Send + 'static,
{
    /// The observer that calls `on_next` for each element, then
    /// `on_error` or `on_completed`.
    pub fn new(on_next: N, on_error: E, on_completed: C) -> Self {
        Self {
            on_next,
            on_error: Some(on_error),
            on_completed: Some(on_completed),
            _values: PhantomData,
        }
    }
}

impl<T, N, E, C> Observer<T> for FnObserver<T, N, E, C>
where
    T: 'static,
    N: FnMut(T) + Send + 'static,
    E: FnOnce(Error) + Send + 'static,
    C: FnOnce() + Send + 'static,
{
    fn on_next(&mut self, value: T) {
        (self.on_next)(value);
    }
    fn on_error(&mut self, error: Error) {
        if let Some(f) = self.on_error.take() {
            f(error);
        }
    }
    fn on_completed(&mut self) {
        if let Some(f) = self.on_completed.take() {
            f();
        }
    }
}

impl<T, N, E, C> fmt::Debug for FnObserver<T, N, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnObserver").finish_non_exhaustive()
    }
}

/// The error handler of [`Observable::subscribe`](crate::Observable::subscribe):
/// an error nobody handles is reported on standard error, as an asyncio
/// loop reports an exception nobody retrieved (RxPY raises it in whichever
/// thread emitted it).
pub(crate) fn report_unhandled(error: Error) {
    eprintln!("corun::reactive: unhandled error in a subscription: {error}");
}
