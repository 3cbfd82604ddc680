//! [`AsyncSubject`].

use std::fmt;

use corun_core::Error;

use super::{Shared, attach, new_hub};
use crate::{Notification, Observable, Observer};

/// A subject that gives only its last value, at its end (RxPY:
/// `AsyncSubject`): on completion every observer, present or late, gets
/// the last value (if there was one) and the completion; on error, the
/// error only. A future's outcome, as an observable.
///
/// Ported behaviour: RxPY `tests/test_subject/test_asyncsubject.py`.
///
/// ```
/// use corun::reactive::AsyncSubject;
///
/// let subject = AsyncSubject::new();
/// subject.on_next(1);
/// subject.on_next(2);
/// subject.on_completed();
/// assert_eq!(subject.observable().to_vec().unwrap(), [2]);
/// ```
pub struct AsyncSubject<T> {
    hub: Shared<T, Option<T>>,
}

impl<T> Clone for AsyncSubject<T> {
    fn clone(&self) -> Self {
        Self {
            hub: self.hub.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> AsyncSubject<T> {
    /// A subject with no value yet.
    pub fn new() -> Self {
        Self { hub: new_hub(None) }
    }

    /// Keeps `value` as the last one (nobody is told yet).
    pub fn on_next(&self, value: T) {
        let mut state = self.hub.lock();
        if !state.ended() {
            state.extra = Some(value);
        }
    }

    /// Ends every observer with `error`.
    pub fn on_error(&self, error: Error) {
        self.hub.fail(error);
    }

    /// Hands the last value, if any, and the end to every observer.
    pub fn on_completed(&self) {
        let mut state = self.hub.lock();
        if state.finish(Notification::Completed) {
            let last = state.extra.clone();
            self.hub.end(state, last, None);
        }
    }

    /// The observable side.
    pub fn observable(&self) -> Observable<T> {
        let hub = self.hub.clone();
        Observable::new(move |mut subscriber| {
            let state = hub.lock();
            match state.end() {
                Some(Notification::Completed) => {
                    let last = state.extra.clone();
                    drop(state);
                    if let Some(value) = last {
                        subscriber.on_next(value);
                    }
                    subscriber.on_completed();
                }
                Some(end) => {
                    drop(state);
                    subscriber.notify(end);
                }
                None => attach(&hub, state, subscriber, Vec::new()),
            }
        })
    }

    /// Whether any observer is subscribed.
    pub fn has_observers(&self) -> bool {
        self.hub.lock().observer_count() != 0
    }
}

impl<T: Clone + Send + 'static> Default for AsyncSubject<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> Observer<T> for AsyncSubject<T> {
    fn on_next(&mut self, value: T) {
        AsyncSubject::on_next(self, value);
    }
    fn on_error(&mut self, error: Error) {
        AsyncSubject::on_error(self, error);
    }
    fn on_completed(&mut self) {
        AsyncSubject::on_completed(self);
    }
}

impl<T> fmt::Debug for AsyncSubject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSubject").finish_non_exhaustive()
    }
}
