//! [`Subscription`]: the handle that ends a subscription, and the
//! disposables built on it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

/// A teardown action run once, when its subscription is disposed.
type Teardown = Box<dyn FnOnce() + Send>;

/// The handle of a subscription, or of a scheduled action (RxPY:
/// `Disposable`, `CompositeDisposable`): [`dispose`](Self::dispose) ends
/// it, once; teardown actions [`add`](Self::add)ed to it run then.
///
/// Disposal is **explicit**: dropping a `Subscription` does not dispose it
/// (as in RxPY, `obs.subscribe(print)` with the handle ignored runs to the
/// end). A subscription also disposes itself when its observer receives
/// `on_error` or `on_completed`, so its teardown (timers, inner
/// subscriptions) runs then. For dispose-on-drop, hold a
/// [`guard`](Self::guard).
///
/// Cloning gives another handle to the same subscription.
///
/// ```
/// use corun::reactive::Subscription;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let subscription = Subscription::new();
/// let torn_down = Arc::new(AtomicBool::new(false));
/// let t = torn_down.clone();
/// subscription.add(move || t.store(true, Ordering::SeqCst));
/// subscription.dispose();
/// assert!(subscription.is_disposed() && torn_down.load(Ordering::SeqCst));
/// ```
#[derive(Clone)]
pub struct Subscription {
    inner: Arc<Inner>,
}

struct Inner {
    disposed: AtomicBool,
    teardowns: Mutex<Teardowns>,
}

#[derive(Default)]
struct Teardowns {
    next_key: u64,
    list: Vec<(u64, Teardown)>,
}

/// Names a teardown added to a [`Subscription`], to
/// [`remove`](Subscription::remove) it (an inner subscription that ended
/// on its own, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TeardownKey(u64);

impl Subscription {
    /// A subscription not yet disposed, with no teardown.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                disposed: AtomicBool::new(false),
                teardowns: Mutex::new(Teardowns::default()),
            }),
        }
    }

    /// A subscription disposed already (RxPY: `Disposable()` after use):
    /// what a scheduler returns for an action it ran at once.
    pub fn disposed() -> Self {
        let subscription = Self::new();
        subscription.inner.disposed.store(true, Ordering::Release);
        subscription
    }

    /// Ends the subscription: marks it disposed, then runs its teardown
    /// actions in the order they were added, in this thread. Calling it
    /// again does nothing.
    pub fn dispose(&self) {
        if self.inner.disposed.swap(true, Ordering::AcqRel) {
            return;
        }
        let list = std::mem::take(&mut self.inner.teardowns.lock().list);
        for (_, teardown) in list {
            teardown();
        }
    }

    /// Whether [`dispose`](Self::dispose) was called (or the observer got
    /// its end). Producers ask this to stop producing.
    #[inline]
    pub fn is_disposed(&self) -> bool {
        self.inner.disposed.load(Ordering::Acquire)
    }

    /// Runs `teardown` when this subscription is disposed; at once if it is
    /// disposed already.
    pub fn add(&self, teardown: impl FnOnce() + Send + 'static) -> TeardownKey {
        let mut teardowns = self.inner.teardowns.lock();
        let key = TeardownKey(teardowns.next_key);
        teardowns.next_key += 1;
        // Checked under the lock that `dispose` takes after setting the
        // flag: a teardown added now is either taken by `dispose` or run
        // here, never left behind.
        if self.is_disposed() {
            drop(teardowns);
            teardown();
        } else {
            teardowns.list.push((key.0, Box::new(teardown)));
        }
        key
    }

    /// Disposes `other` with this subscription (RxPY:
    /// `CompositeDisposable.add`).
    pub fn add_subscription(&self, other: Subscription) -> TeardownKey {
        self.add(move || other.dispose())
    }

    /// Forgets the teardown `key` without running it; returns whether it
    /// was still there.
    pub fn remove(&self, key: TeardownKey) -> bool {
        let mut teardowns = self.inner.teardowns.lock();
        match teardowns.list.iter().position(|(k, _)| *k == key.0) {
            Some(i) => {
                let (_, teardown) = teardowns.list.remove(i);
                drop(teardowns);
                drop(teardown);
                true
            }
            None => false,
        }
    }

    /// A guard that disposes this subscription when dropped.
    pub fn guard(self) -> DisposeGuard {
        DisposeGuard(self)
    }

    /// Whether `self` and `other` are handles to the same subscription.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for Subscription {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("disposed", &self.is_disposed())
            .finish()
    }
}

/// Disposes its [`Subscription`] when dropped ([`Subscription::guard`]).
#[derive(Debug)]
#[must_use = "dropping the guard disposes the subscription at once"]
pub struct DisposeGuard(Subscription);

impl DisposeGuard {
    /// The subscription, no longer disposed on drop.
    pub fn into_inner(self) -> Subscription {
        let this = std::mem::ManuallyDrop::new(self);
        this.0.clone()
    }
}

impl Drop for DisposeGuard {
    fn drop(&mut self) {
        self.0.dispose();
    }
}

/// A slot holding one subscription at a time, disposing the one it held
/// when given the next (RxPY: `SerialDisposable`): what `switch_map` and
/// recursive scheduling need.
///
/// Disposing [`subscription`](Self::subscription) disposes the one held,
/// and any set afterwards at once.
#[derive(Clone)]
pub struct SerialSubscription {
    outer: Subscription,
    current: Arc<Mutex<Option<Subscription>>>,
}

impl SerialSubscription {
    /// An empty slot.
    pub fn new() -> Self {
        let outer = Subscription::new();
        let current: Arc<Mutex<Option<Subscription>>> = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&current);
        outer.add(move || {
            if let Some(held) = slot.lock().take() {
                held.dispose();
            }
        });
        Self { outer, current }
    }

    /// Holds `next`, disposing the one held before; disposes `next` at once
    /// if this slot is disposed.
    pub fn set(&self, next: Subscription) {
        let previous = {
            let mut current = self.current.lock();
            if self.outer.is_disposed() {
                drop(current);
                next.dispose();
                return;
            }
            current.replace(next)
        };
        if let Some(previous) = previous {
            previous.dispose();
        }
    }

    /// The subscription that disposes this slot.
    pub fn subscription(&self) -> Subscription {
        self.outer.clone()
    }

    /// Disposes this slot and what it holds.
    pub fn dispose(&self) {
        self.outer.dispose();
    }

    /// Whether this slot was disposed.
    pub fn is_disposed(&self) -> bool {
        self.outer.is_disposed()
    }
}

impl Default for SerialSubscription {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SerialSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialSubscription")
            .field("disposed", &self.is_disposed())
            .finish()
    }
}
