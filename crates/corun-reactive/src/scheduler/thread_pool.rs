//! [`ThreadPoolScheduler`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_concurrent::ThreadPoolExecutor;

use super::{Action, Scheduler, guarded, timer};
use crate::Subscription;

/// Runs actions on a [`ThreadPoolExecutor`] (RxPY: `ThreadPoolScheduler`).
/// Delayed actions wait on the process's one timer thread, not on a
/// worker, and go to the pool when due. An action the pool refuses (it was
/// shut down) is dropped and its subscription disposed.
#[derive(Clone)]
pub struct ThreadPoolScheduler {
    pool: Arc<ThreadPoolExecutor>,
}

impl ThreadPoolScheduler {
    /// A scheduler on a pool of its own, with Python's default size.
    pub fn new() -> Self {
        Self::with_pool(Arc::new(ThreadPoolExecutor::new()))
    }

    /// A scheduler on `pool`.
    pub fn with_pool(pool: Arc<ThreadPoolExecutor>) -> Self {
        Self { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &Arc<ThreadPoolExecutor> {
        &self.pool
    }

    fn submit(pool: &ThreadPoolExecutor, subscription: &Subscription, action: Action) {
        if pool.spawn(action).is_err() {
            subscription.dispose();
        }
    }
}

impl Default for ThreadPoolScheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler for ThreadPoolScheduler {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn schedule(&self, action: Action) -> Subscription {
        let subscription = Subscription::new();
        Self::submit(&self.pool, &subscription, guarded(&subscription, action));
        subscription
    }

    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        if delay.is_zero() {
            return self.schedule(action);
        }
        let subscription = Subscription::new();
        let action = guarded(&subscription, action);
        let pool = Arc::clone(&self.pool);
        let s = subscription.clone();
        timer::schedule_at(
            Instant::now() + delay,
            &subscription,
            Box::new(move || Self::submit(&pool, &s, action)),
        );
        subscription
    }
}

impl fmt::Debug for ThreadPoolScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolScheduler")
            .field("pool", &self.pool)
            .finish()
    }
}
