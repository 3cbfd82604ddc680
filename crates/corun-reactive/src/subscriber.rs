//! [`Subscriber`]: the Rx contract, enforced by construction; and
//! [`SharedSubscriber`], its serialised form for producers on several
//! threads.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use corun_core::Error;
use parking_lot::{Mutex, MutexGuard};

use crate::{Notification, Observer, Subscription};

/// What a producer emits into: an [`Observer`] with the Rx contract
/// enforced (RxPY: `AutoDetachObserver`).
///
/// - `on_next` any number of times, then at most one of `on_error` and
///   `on_completed`: anything after the end is dropped.
/// - Calls never overlap: the methods take `&mut self`, and a
///   `Subscriber` is not `Clone`, so a producer on several threads must
///   share it through [`into_shared`](Self::into_shared), which
///   serialises.
/// - After [`Subscription::dispose`] (from any thread) nothing more is
///   delivered, and [`is_closed`](Self::is_closed) tells the producer to
///   stop.
/// - The end disposes the subscription, which runs its teardown.
/// - A panic in the observer's `on_next` (an operator's callback: a
///   `map` function, say) fails this subscription only: the observer
///   gets `on_error` with a [`Panicked`](corun_core::ErrorKind::Panicked)
///   error, and the producer sees the subscription closed. A panic in
///   `on_error` / `on_completed` is reported by the panic hook and
///   swallowed.
///
/// The single-threaded path costs one flag test, one atomic load and one
/// dynamic call per element: no lock, no allocation.
pub struct Subscriber<T> {
    /// `None` once the end was delivered.
    observer: Option<Box<dyn Observer<T>>>,
    subscription: Subscription,
}

impl<T: 'static> Subscriber<T> {
    /// `observer` on a subscription of its own.
    pub fn new(observer: impl Observer<T>) -> Self {
        Self::with_subscription(observer, Subscription::new())
    }

    /// `observer`, ended by `subscription`.
    pub fn with_subscription(observer: impl Observer<T>, subscription: Subscription) -> Self {
        Self {
            observer: Some(Box::new(observer)),
            subscription,
        }
    }

    /// A subscriber for an upstream of this one, on the same subscription:
    /// `make` wraps `self` (as the downstream) into the observer of the
    /// upstream elements. What a simple operator does (see
    /// [`Observable::lift`](crate::Observable::lift)).
    pub fn chain<S: 'static, O: Observer<S>>(self, make: impl FnOnce(Self) -> O) -> Subscriber<S> {
        let subscription = self.subscription.clone();
        Subscriber::with_subscription(make(self), subscription)
    }

    /// Delivers `value`, unless the sequence ended or was disposed.
    #[inline(always)]
    pub fn on_next(&mut self, value: T) {
        if self.subscription.is_disposed() {
            return;
        }
        let Some(observer) = self.observer.as_mut() else {
            return;
        };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| observer.on_next(value))) {
            self.on_error(Error::from_panic(&*payload));
        }
    }

    /// Ends the sequence with `error` (unless it ended or was disposed),
    /// then disposes the subscription.
    pub fn on_error(&mut self, error: Error) {
        if let Some(mut observer) = self.observer.take() {
            if !self.subscription.is_disposed() {
                let _ = catch_unwind(AssertUnwindSafe(|| observer.on_error(error)));
            }
            self.subscription.dispose();
        }
    }

    /// Ends the sequence (unless it ended or was disposed), then disposes
    /// the subscription.
    pub fn on_completed(&mut self) {
        if let Some(mut observer) = self.observer.take() {
            if !self.subscription.is_disposed() {
                let _ = catch_unwind(AssertUnwindSafe(|| observer.on_completed()));
            }
            self.subscription.dispose();
        }
    }

    /// Delivers `notification`.
    pub fn notify(&mut self, notification: Notification<T>) {
        match notification {
            Notification::Next(value) => self.on_next(value),
            Notification::Error(error) => self.on_error(error),
            Notification::Completed => self.on_completed(),
        }
    }

    /// Whether nothing more will be delivered: the end was, or the
    /// subscription is disposed. Producers stop when it is.
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.observer.is_none() || self.subscription.is_disposed()
    }

    /// This subscriber's subscription: to add teardown actions (cancel a
    /// timer, dispose an inner subscription) or to dispose it.
    pub fn subscription(&self) -> &Subscription {
        &self.subscription
    }

    /// Runs `teardown` when the subscription is disposed (or ends).
    pub fn add(&self, teardown: impl FnOnce() + Send + 'static) {
        self.subscription.add(teardown);
    }
}

impl<T: Send + 'static> Subscriber<T> {
    /// This subscriber, shared and serialised: for producers that emit
    /// from several threads or from scheduled actions.
    pub fn into_shared(self) -> SharedSubscriber<T> {
        SharedSubscriber {
            inner: Arc::new(Serialized::new(self)),
        }
    }
}

impl<T: 'static> Observer<T> for Subscriber<T> {
    fn on_next(&mut self, value: T) {
        Subscriber::on_next(self, value);
    }
    fn on_error(&mut self, error: Error) {
        Subscriber::on_error(self, error);
    }
    fn on_completed(&mut self) {
        Subscriber::on_completed(self);
    }
}

impl<T> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("ended", &self.observer.is_none())
            .field("subscription", &self.subscription)
            .finish()
    }
}

/// A [`Subscriber`] shared between threads (`Clone + Send + Sync`), whose
/// calls are serialised (RxPY: `synchronize`, Rx.NET's `Synchronize`):
/// a call that finds another in progress queues its notification, which
/// the caller in progress delivers before it returns, so no call blocks
/// on another's observer, a call from inside the observer (re-entrance)
/// is delivered after the one in progress, and each thread's
/// notifications arrive in the order it made them.
pub struct SharedSubscriber<T> {
    inner: Arc<Serialized<T>>,
}

impl<T> Clone for SharedSubscriber<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: Send + 'static> SharedSubscriber<T> {
    /// Delivers `value`, serialised.
    pub fn on_next(&self, value: T) {
        self.inner.push(Notification::Next(value));
    }

    /// Ends with `error`, serialised.
    pub fn on_error(&self, error: Error) {
        self.inner.push(Notification::Error(error));
    }

    /// Ends, serialised.
    pub fn on_completed(&self) {
        self.inner.push(Notification::Completed);
    }

    /// Delivers `notification`, serialised.
    pub fn notify(&self, notification: Notification<T>) {
        self.inner.push(notification);
    }

    /// Whether nothing more will be delivered: the subscription was
    /// disposed, or ended (which disposes it).
    pub fn is_closed(&self) -> bool {
        self.inner.subscription.is_disposed()
    }

    /// The subscription.
    pub fn subscription(&self) -> &Subscription {
        &self.inner.subscription
    }

    /// Queues `notification` without delivering it now; it goes out, in
    /// order, with the next delivery or [`flush`](Self::flush). For
    /// emitting under a lock of one's own (an operator combining sources).
    pub(crate) fn enqueue(&self, notification: Notification<T>) {
        self.inner.serial.enqueue(notification);
    }

    /// Delivers what is queued, unless another call is delivering.
    pub(crate) fn flush(&self) {
        self.inner.serial.drain();
    }
}

impl<T: Send + 'static> Observer<T> for SharedSubscriber<T> {
    fn on_next(&mut self, value: T) {
        SharedSubscriber::on_next(self, value);
    }
    fn on_error(&mut self, error: Error) {
        SharedSubscriber::on_error(self, error);
    }
    fn on_completed(&mut self) {
        SharedSubscriber::on_completed(self);
    }
}

impl<T> fmt::Debug for SharedSubscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSubscriber")
            .field("subscription", &self.inner.subscription)
            .finish_non_exhaustive()
    }
}

/// A target that takes queued messages: a subscriber its notifications, a
/// subject's observers its operations.
pub(crate) trait Deliver<M> {
    /// Carries out `message` (the delivery lock held).
    fn deliver(&mut self, message: M);
}

impl<T: Send + 'static> Deliver<Notification<T>> for Subscriber<T> {
    fn deliver(&mut self, notification: Notification<T>) {
        self.notify(notification);
    }
}

/// The queue-drain serialiser: whoever holds `target` delivers, its own
/// messages and what is queued, in order; a caller that cannot take it
/// queues. Every holder, after letting go, looks at `pending` once more and
/// drains if it can, so nothing queued is left behind.
pub(crate) struct Serial<K, M> {
    target: Mutex<K>,
    queue: Mutex<VecDeque<M>>,
    /// Messages in `queue`; read without its lock.
    pending: AtomicUsize,
}

impl<K, M> Serial<K, M> {
    pub(crate) fn new(target: K) -> Self {
        Self {
            target: Mutex::new(target),
            queue: Mutex::new(VecDeque::new()),
            pending: AtomicUsize::new(0),
        }
    }
}

impl<K: Deliver<M>, M> Serial<K, M> {
    /// The target, when nothing is queued and nobody holds it.
    pub(crate) fn hold(&self) -> Option<MutexGuard<'_, K>> {
        if self.pending.load(Ordering::SeqCst) == 0 {
            self.target.try_lock()
        } else {
            None
        }
    }

    pub(crate) fn enqueue(&self, message: M) {
        let mut queue = self.queue.lock();
        queue.push_back(message);
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    /// Delivers what is queued until nothing is, or another caller holds
    /// the target (it will deliver it).
    pub(crate) fn drain(&self) {
        while self.pending.load(Ordering::SeqCst) != 0 {
            let Some(mut target) = self.target.try_lock() else {
                return;
            };
            self.deliver_queued(&mut target);
        }
    }

    /// Delivers what is queued to `target`, held by the caller.
    pub(crate) fn deliver_queued(&self, target: &mut K) {
        // Nothing counted, nothing to take: no lock. A message queued but
        // not yet counted is delivered by the drain that follows every
        // delivery (its sender's, or the holder's after letting go).
        while self.pending.load(Ordering::SeqCst) != 0 {
            let next = {
                let mut queue = self.queue.lock();
                let next = queue.pop_front();
                if next.is_some() {
                    self.pending.fetch_sub(1, Ordering::SeqCst);
                }
                next
            };
            match next {
                Some(message) => target.deliver(message),
                None => return,
            }
        }
    }
}

/// A subscriber behind the serialiser.
struct Serialized<T> {
    serial: Serial<Subscriber<T>, Notification<T>>,
    subscription: Subscription,
}

impl<T: Send + 'static> Serialized<T> {
    fn new(subscriber: Subscriber<T>) -> Self {
        Self {
            subscription: subscriber.subscription.clone(),
            serial: Serial::new(subscriber),
        }
    }

    fn push(&self, notification: Notification<T>) {
        if let Some(mut target) = self.serial.hold() {
            self.serial.deliver_queued(&mut target);
            target.notify(notification);
            self.serial.deliver_queued(&mut target);
            drop(target);
            self.serial.drain();
            return;
        }
        self.serial.enqueue(notification);
        self.serial.drain();
    }
}
