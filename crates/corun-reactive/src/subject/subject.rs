//! [`Subject`].

use std::fmt;

use corun_core::Error;

use super::{Shared, attach, new_hub};
use crate::{Notification, Observable, Observer};

/// An observable and an observer at once (RxPY: `Subject`): what it is
/// given goes to every observer subscribed at that moment; late
/// subscribers see only what comes after, or the end.
///
/// Ported behaviour: RxPY `tests/test_subject/test_subject.py`.
///
/// ```
/// use corun::reactive::Subject;
/// use std::sync::{Arc, Mutex};
///
/// let subject = Subject::new();
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// subject.on_next(0); // nobody listens yet
/// for name in ["a", "b"] {
///     let seen = seen.clone();
///     subject.observable().subscribe(move |x| seen.lock().unwrap().push(format!("{name}{x}")));
/// }
/// subject.on_next(1);
/// subject.on_completed();
/// subject.on_next(2); // after the end: dropped
/// assert_eq!(*seen.lock().unwrap(), ["a1", "b1"]);
/// ```
pub struct Subject<T> {
    hub: Shared<T, ()>,
}

impl<T> Clone for Subject<T> {
    fn clone(&self) -> Self {
        Self {
            hub: self.hub.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Subject<T> {
    /// A subject with no observer.
    pub fn new() -> Self {
        Self { hub: new_hub(()) }
    }

    /// Hands `value` to every observer subscribed now.
    pub fn on_next(&self, value: T) {
        self.hub.next_unlocked(value);
    }

    /// Ends every observer with `error`; later subscribers get it too.
    pub fn on_error(&self, error: Error) {
        self.hub.fail(error);
    }

    /// Ends every observer; later subscribers get the end too.
    pub fn on_completed(&self) {
        self.hub.complete();
    }

    /// Hands `notification` on.
    pub fn notify(&self, notification: Notification<T>) {
        match notification {
            Notification::Next(value) => self.on_next(value),
            Notification::Error(error) => self.on_error(error),
            Notification::Completed => self.on_completed(),
        }
    }

    /// The observable side: each subscription adds an observer.
    pub fn observable(&self) -> Observable<T> {
        let hub = self.hub.clone();
        Observable::new(move |mut subscriber| {
            let state = hub.lock();
            if let Some(end) = state.end() {
                drop(state);
                subscriber.notify(end);
                return;
            }
            attach(&hub, state, subscriber, Vec::new());
        })
    }

    /// Whether any observer is subscribed (RxPY: `has_observers`).
    pub fn has_observers(&self) -> bool {
        self.hub.lock().observer_count() != 0
    }

    /// How many observers are subscribed.
    pub fn observer_count(&self) -> usize {
        self.hub.lock().observer_count()
    }
}

impl<T: Clone + Send + 'static> Default for Subject<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> Observer<T> for Subject<T> {
    fn on_next(&mut self, value: T) {
        Subject::on_next(self, value);
    }
    fn on_error(&mut self, error: Error) {
        Subject::on_error(self, error);
    }
    fn on_completed(&mut self) {
        Subject::on_completed(self);
    }
}

impl<T> fmt::Debug for Subject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject").finish_non_exhaustive()
    }
}
