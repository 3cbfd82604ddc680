//! [`BehaviorSubject`].

use std::fmt;

use corun_core::Error;

use super::{Shared, attach, new_hub};
use crate::{Notification, Observable, Observer};

/// A [`Subject`](crate::Subject) with a current value (RxPY:
/// `BehaviorSubject`): a new subscriber gets the latest value first, then
/// what follows. After an error, subscribers get the error only; after
/// completion, the completion only.
///
/// Ported behaviour: RxPY `tests/test_subject/test_behaviorsubject.py`.
///
/// ```
/// use corun::reactive::BehaviorSubject;
/// use std::sync::{Arc, Mutex};
///
/// let temperature = BehaviorSubject::new(20);
/// temperature.on_next(21);
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let s = seen.clone();
/// temperature.observable().subscribe(move |t| s.lock().unwrap().push(t));
/// temperature.on_next(22);
/// assert_eq!(*seen.lock().unwrap(), [21, 22]);
/// assert_eq!(temperature.value(), 22);
/// ```
pub struct BehaviorSubject<T> {
    hub: Shared<T, T>,
}

impl<T> Clone for BehaviorSubject<T> {
    fn clone(&self) -> Self {
        Self {
            hub: self.hub.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> BehaviorSubject<T> {
    /// A subject whose current value is `initial`.
    pub fn new(initial: T) -> Self {
        Self {
            hub: new_hub(initial),
        }
    }

    /// The current value: the last given, or the initial one (RxPY:
    /// `value`).
    pub fn value(&self) -> T {
        self.hub.lock().extra.clone()
    }

    /// Makes `value` current and hands it to every observer.
    pub fn on_next(&self, value: T) {
        let mut state = self.hub.lock();
        if !state.ended() {
            state.extra = value.clone();
            self.hub.next(state, value);
        }
    }

    /// Ends every observer with `error`.
    pub fn on_error(&self, error: Error) {
        self.hub.fail(error);
    }

    /// Ends every observer.
    pub fn on_completed(&self) {
        self.hub.complete();
    }

    /// The observable side: each subscription gets the current value, then
    /// what follows.
    pub fn observable(&self) -> Observable<T> {
        let hub = self.hub.clone();
        Observable::new(move |mut subscriber| {
            let state = hub.lock();
            if let Some(end) = state.end() {
                drop(state);
                subscriber.notify(end);
                return;
            }
            // Given under the lock: an `on_next` that follows reaches this
            // subscriber after the current value.
            let current = vec![Notification::Next(state.extra.clone())];
            attach(&hub, state, subscriber, current);
        })
    }

    /// Whether any observer is subscribed.
    pub fn has_observers(&self) -> bool {
        self.hub.lock().observer_count() != 0
    }
}

impl<T: Clone + Send + 'static> Observer<T> for BehaviorSubject<T> {
    fn on_next(&mut self, value: T) {
        BehaviorSubject::on_next(self, value);
    }
    fn on_error(&mut self, error: Error) {
        BehaviorSubject::on_error(self, error);
    }
    fn on_completed(&mut self) {
        BehaviorSubject::on_completed(self);
    }
}

impl<T> fmt::Debug for BehaviorSubject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BehaviorSubject").finish_non_exhaustive()
    }
}
