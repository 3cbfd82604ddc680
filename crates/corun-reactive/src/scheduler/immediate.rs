//! [`ImmediateScheduler`].

use std::time::{Duration, Instant};

use super::{Action, Scheduler};
use crate::Subscription;

/// Runs each action at once, in the calling thread (RxPY:
/// `ImmediateScheduler`). A relative action blocks the caller for its delay
/// first (RxPY raises `WouldBlockException` instead).
#[derive(Debug, Clone, Copy, Default)]
pub struct ImmediateScheduler;

impl ImmediateScheduler {
    /// The scheduler.
    pub fn new() -> Self {
        Self
    }
}

impl Scheduler for ImmediateScheduler {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn schedule(&self, action: Action) -> Subscription {
        action();
        Subscription::disposed()
    }

    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        std::thread::sleep(delay);
        self.schedule(action)
    }
}
