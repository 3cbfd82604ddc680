//! [`NewThreadScheduler`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{Action, Scheduler, guarded};
use crate::Subscription;

/// Runs each action on a thread of its own (RxPY: `NewThreadScheduler`).
/// A delayed action's thread waits for its time and leaves at once when
/// the action is disposed first, so no thread outlives its work.
#[derive(Debug, Clone, Default)]
pub struct NewThreadScheduler {
    name: Option<Arc<str>>,
}

impl NewThreadScheduler {
    /// The scheduler; its threads are named `corun-reactive`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The scheduler whose threads carry `name`.
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: Some(name.into()),
        }
    }

    fn spawn(&self, due: Instant, action: Action) -> Subscription {
        let subscription = Subscription::new();
        let action = guarded(&subscription, action);
        // Disposal wakes the waiting thread.
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let g = Arc::clone(&gate);
        subscription.add(move || {
            *g.0.lock() = true;
            g.1.notify_all();
        });
        let name = self.name.as_deref().unwrap_or("corun-reactive").to_owned();
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let (disposed, wake) = &*gate;
            let mut disposed = disposed.lock();
            while !*disposed && Instant::now() < due {
                wake.wait_until(&mut disposed, due);
            }
            let cancelled = *disposed;
            drop(disposed);
            if !cancelled {
                action();
            }
        });
        if spawned.is_err() {
            subscription.dispose();
        }
        subscription
    }
}

impl Scheduler for NewThreadScheduler {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn schedule(&self, action: Action) -> Subscription {
        self.spawn(Instant::now(), action)
    }

    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        self.spawn(Instant::now() + delay, action)
    }
}
