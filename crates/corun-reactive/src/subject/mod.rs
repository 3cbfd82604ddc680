//! Subjects: observables that are also observers, multicasting what they
//! are given (RxPY: `reactivex.subject`).
//!
//! Every subject is thread-safe (`Send + Sync`, cheap to clone): its
//! `on_next` may be called from any thread. Each call takes a snapshot of
//! the observers (under a short lock, never held while an observer runs),
//! so observers added or removed meanwhile do not disturb it; each
//! observer is a [`SharedSubscriber`](crate::SharedSubscriber), so calls
//! to one observer never overlap even when `on_next` races on several
//! threads, and nothing reaches it after its end. After the subject's own
//! end, `on_next` does nothing and new subscribers get the end at once.

mod async_subject;
mod behavior;
mod replay;
#[allow(clippy::module_inception)]
mod subject;

pub use async_subject::AsyncSubject;
pub use behavior::BehaviorSubject;
pub use replay::ReplaySubject;
pub use subject::Subject;

use std::sync::{Arc, Weak};

use corun_core::Error;
use parking_lot::{Mutex, MutexGuard};

use crate::{Notification, SharedSubscriber, Subscriber};

/// A subject's observers, as a snapshot.
pub(crate) type Observers<T> = Arc<[(u64, SharedSubscriber<T>)]>;

/// The state every subject keeps: its observers and its end.
pub(crate) struct Hub<T, X> {
    observers: Observers<T>,
    next_id: u64,
    /// `Error` or `Completed`, once ended.
    end: Option<Notification<T>>,
    /// What the kind of subject keeps besides (a value, a buffer).
    pub(crate) extra: X,
}

/// A subject's shared state.
pub(crate) type Shared<T, X> = Arc<Mutex<Hub<T, X>>>;

pub(crate) fn new_hub<T, X>(extra: X) -> Shared<T, X> {
    Arc::new(Mutex::new(Hub {
        observers: Arc::from(Vec::new()),
        next_id: 0,
        end: None,
        extra,
    }))
}

impl<T: Send + 'static, X> Hub<T, X> {
    /// Whether the subject ended.
    pub(crate) fn ended(&self) -> bool {
        self.end.is_some()
    }

    /// The observers now: who gets the next element.
    pub(crate) fn snapshot(&self) -> Observers<T> {
        Arc::clone(&self.observers)
    }

    /// Records the end and hands back the observers to tell, leaving none;
    /// `None` if it had ended already.
    pub(crate) fn finish(&mut self, end: Notification<T>) -> Option<Observers<T>> {
        if self.end.is_some() {
            return None;
        }
        self.end = Some(end);
        Some(std::mem::replace(
            &mut self.observers,
            Arc::from(Vec::new()),
        ))
    }

    /// The end, for a late subscriber.
    pub(crate) fn end(&self) -> Option<Notification<T>> {
        self.end.as_ref().map(|end| match end {
            Notification::Error(error) => Notification::Error(error.clone()),
            _ => Notification::Completed,
        })
    }
}

/// Adds `subscriber` to `hub` (locked by the caller: `state`), removing
/// it again when its subscription is disposed; then, with the lock let go,
/// delivers what the caller queued for it.
pub(crate) fn attach<T: Send + 'static, X: Send + 'static>(
    hub: &Shared<T, X>,
    mut state: MutexGuard<'_, Hub<T, X>>,
    subscriber: SharedSubscriber<T>,
) {
    let id = state.next_id;
    state.next_id += 1;
    let mut observers = state.observers.to_vec();
    observers.push((id, subscriber.clone()));
    state.observers = observers.into();
    drop(state);
    // Weak: the hub holds the subscriber, whose subscription holds this.
    let weak: Weak<Mutex<Hub<T, X>>> = Arc::downgrade(hub);
    subscriber.subscription().add(move || {
        if let Some(hub) = weak.upgrade() {
            let mut state = hub.lock();
            if state.observers.iter().any(|(i, _)| *i == id) {
                let rest: Vec<_> = state
                    .observers
                    .iter()
                    .filter(|(i, _)| *i != id)
                    .cloned()
                    .collect();
                state.observers = rest.into();
            }
        }
    });
    subscriber.flush();
}

/// Hands `value` to each observer of `snapshot`, cloning for all but the
/// last.
pub(crate) fn fan_out<T: Clone + Send + 'static>(
    snapshot: &[(u64, SharedSubscriber<T>)],
    value: T,
) {
    if let Some(((_, last), rest)) = snapshot.split_last() {
        for (_, observer) in rest {
            observer.on_next(value.clone());
        }
        last.on_next(value);
    }
}

/// Tells each observer of `observers` the end.
pub(crate) fn fan_end<T: Send + 'static>(
    observers: &[(u64, SharedSubscriber<T>)],
    error: Option<&Error>,
) {
    for (_, observer) in observers {
        match error {
            Some(error) => observer.on_error(error.clone()),
            None => observer.on_completed(),
        }
    }
}

/// `subscriber` shared, for a hub.
pub(crate) fn share<T: Send + 'static>(subscriber: Subscriber<T>) -> SharedSubscriber<T> {
    subscriber.into_shared()
}
