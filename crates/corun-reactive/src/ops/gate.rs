//! What operators in time share: the lock between their source's callbacks
//! and their scheduled actions (RxPY: `source.lock`, an `RLock`), and the
//! subscriptions they link to their downstream.

use std::cell::RefCell;
use std::sync::Arc;

use parking_lot::ReentrantMutex;

use crate::{SerialSubscription, SharedSubscriber, Subscriber, Subscription};

/// An operator's per-subscription state behind a re-entrant lock: the
/// source's callbacks and the operator's timers take it in turn, and keep
/// it while they emit (so a timer's element and the source's end cannot
/// overtake each other), while the `RefCell` borrow is let go before
/// emitting (so an observer that feeds the operator's own source again on
/// the same thread re-enters instead of deadlocking).
pub(crate) type Gate<S> = Arc<ReentrantMutex<RefCell<S>>>;

/// `state` behind a new [`Gate`].
pub(crate) fn gate<S>(state: S) -> Gate<S> {
    Arc::new(ReentrantMutex::new(RefCell::new(state)))
}

/// `down` made shared, with two subscriptions disposed with it: a serial
/// one (for a timer, or the inner source of the moment) and one for the
/// upstream, in that order.
pub(crate) fn linked<T: Send + 'static>(
    down: Subscriber<T>,
) -> (SharedSubscriber<T>, SerialSubscription, Subscription) {
    let down = down.into_shared();
    let serial = SerialSubscription::new();
    down.subscription().add_subscription(serial.subscription());
    let upstream = Subscription::new();
    down.subscription().add_subscription(upstream.clone());
    (down, serial, upstream)
}
