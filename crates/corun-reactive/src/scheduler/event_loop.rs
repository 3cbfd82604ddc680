//! [`EventLoopScheduler`]: actions on a corun asyncio event loop.

use std::time::{Duration, Instant};

use corun_asyncio::{EventLoop, LoopHandle, get_running_loop};

use super::{Action, Scheduler, guarded};
use crate::Subscription;

/// Runs actions on a corun asyncio [`EventLoop`] (RxPY:
/// `AsyncIOScheduler` / `AsyncIOThreadSafeScheduler` in one): called on
/// the loop's own thread while it runs, through `call_soon` /
/// `call_later`; from anywhere else, through
/// [`LoopHandle::call_soon_threadsafe`] (a delayed action then starts its
/// `call_later` on the loop, for what is left of its delay). Either way
/// actions run on the loop's thread, in the loop's order.
///
/// A disposed action that waits on a loop timer stays there until due and
/// then does nothing (loop timers cannot be cancelled from other
/// threads). An action scheduled on a closed loop is dropped and its
/// subscription disposed.
#[derive(Debug, Clone)]
pub struct EventLoopScheduler {
    handle: LoopHandle,
}

impl EventLoopScheduler {
    /// The scheduler of `event_loop`.
    pub fn new(event_loop: &EventLoop) -> Self {
        Self::from_handle(event_loop.handle())
    }

    /// The scheduler of the loop behind `handle` (from any thread).
    pub fn from_handle(handle: LoopHandle) -> Self {
        Self { handle }
    }

    fn at(&self, due: Instant, action: Action) -> Subscription {
        let subscription = Subscription::new();
        let action = guarded(&subscription, action);
        if self.handle.is_running_here() {
            let event_loop = get_running_loop().expect("this loop runs here");
            later(&event_loop, due, action);
        } else {
            let sent = self
                .handle
                .call_soon_threadsafe(move || match get_running_loop() {
                    Ok(event_loop) => later(&event_loop, due, action),
                    Err(_) => action(),
                });
            if sent.is_err() {
                subscription.dispose();
            }
        }
        subscription
    }
}

/// `call_soon` for an action due now, `call_later` for one due later.
fn later(event_loop: &EventLoop, due: Instant, action: Action) {
    let delay = due.saturating_duration_since(Instant::now());
    if delay.is_zero() {
        event_loop.call_soon(action);
    } else {
        event_loop.call_later(delay, action);
    }
}

impl Scheduler for EventLoopScheduler {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn schedule(&self, action: Action) -> Subscription {
        self.at(Instant::now(), action)
    }

    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        self.at(Instant::now() + delay, action)
    }

    fn schedule_absolute(&self, due: Instant, action: Action) -> Subscription {
        self.at(due, action)
    }
}
