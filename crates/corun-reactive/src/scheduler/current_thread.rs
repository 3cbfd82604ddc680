//! [`CurrentThreadScheduler`]: a trampoline.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{Action, Scheduler, guarded};
use crate::Subscription;

/// Runs actions in the calling thread, one after another (RxPY:
/// `CurrentThreadScheduler`, a trampoline): an action scheduled while
/// another runs on this thread waits in this thread's queue until it
/// returns, instead of nesting, so recursive scheduling uses no stack. The
/// outermost call runs the queue dry, by due time (waiting for actions due
/// later), then returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct CurrentThreadScheduler;

struct Trampoline {
    queue: BTreeMap<(Instant, u64), Action>,
    next: u64,
}

thread_local! {
    /// This thread's queue while a trampoline runs on it.
    static TRAMPOLINE: RefCell<Option<Trampoline>> = const { RefCell::new(None) };
}

impl CurrentThreadScheduler {
    /// The scheduler.
    pub fn new() -> Self {
        Self
    }

    fn enqueue(due: Instant, action: Action) -> Subscription {
        let subscription = Subscription::new();
        let action = guarded(&subscription, action);
        let queued = TRAMPOLINE.with(|t| match t.borrow_mut().as_mut() {
            Some(trampoline) => {
                trampoline.next += 1;
                let key = (due, trampoline.next);
                trampoline.queue.insert(key, action);
                None
            }
            None => Some(action),
        });
        if let Some(action) = queued {
            Self::run(due, action);
        }
        subscription
    }

    /// Runs `first` then everything queued meanwhile, as the outermost
    /// call on this thread.
    fn run(due: Instant, first: Action) {
        TRAMPOLINE.with(|t| {
            *t.borrow_mut() = Some(Trampoline {
                queue: BTreeMap::new(),
                next: 0,
            });
        });
        // Leaves the thread without a trampoline even if an action panics.
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                TRAMPOLINE.with(|t| t.borrow_mut().take());
            }
        }
        let _reset = Reset;
        let mut next = Some((due, first));
        while let Some((due, action)) = next {
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            action();
            next = TRAMPOLINE.with(|t| {
                t.borrow_mut()
                    .as_mut()
                    .and_then(|trampoline| trampoline.queue.pop_first())
                    .map(|((due, _), action)| (due, action))
            });
        }
    }
}

impl Scheduler for CurrentThreadScheduler {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn schedule(&self, action: Action) -> Subscription {
        Self::enqueue(Instant::now(), action)
    }

    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        Self::enqueue(Instant::now() + delay, action)
    }
}
