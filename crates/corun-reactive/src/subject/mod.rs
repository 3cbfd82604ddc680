//! Subjects: observables that are also observers, multicasting what they
//! are given (RxPY: `reactivex.subject`).
//!
//! Every subject is thread-safe (`Send + Sync`, cheap to clone): its
//! `on_next` may be called from any thread. Deliveries are serialised per
//! subject: one caller at a time delivers, to each observer in turn, and a
//! call that finds another delivering queues its notification, which that
//! caller delivers before it returns. So calls to an observer never
//! overlap, even when `on_next` races on several threads; no call blocks
//! on another's observers; an observer that feeds the subject back has its
//! element delivered after the one in progress, not inside it; and every
//! observer sees the elements in the same order. Each element goes to the
//! observers subscribed when its `on_next` was called (a subscription made
//! meanwhile, from an observer say, starts with the next one), and nothing
//! reaches an observer after its end or after it was disposed. After the
//! subject's own end, `on_next` does nothing and new subscribers get the
//! end at once.
//!
//! The delivering caller holds one lock for the whole fan-out, so each
//! observer costs a plain call: no lock, no reference count. A
//! [`Subject`]'s `on_next` takes that lock only (its end is a flag); the
//! subjects that keep values take their state's lock first, so that a new
//! observer's replay and what follows it never miss or repeat an element.

mod async_subject;
mod behavior;
mod replay;
#[allow(clippy::module_inception)]
mod subject;

pub use async_subject::AsyncSubject;
pub use behavior::BehaviorSubject;
pub use replay::ReplaySubject;
pub use subject::Subject;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use corun_core::Error;
use parking_lot::{Mutex, MutexGuard};

use crate::subscriber::{Deliver, Serial};
use crate::{Notification, Subscriber};

/// The state every subject keeps: who is subscribed, and its end.
pub(crate) struct Hub<T, X> {
    /// The ids of the observers attached and not yet gone.
    ids: Vec<u64>,
    next_id: u64,
    /// `Error` or `Completed`, once ended.
    end: Option<Notification<T>>,
    /// What the kind of subject keeps besides (a value, a buffer).
    pub(crate) extra: X,
}

/// A subject's shared state and its observers.
pub(crate) struct Core<T, X> {
    state: Mutex<Hub<T, X>>,
    /// Whether the subject ended: set under `state` with the end, read
    /// without it by [`Core::next_unlocked`].
    ended: AtomicBool,
    fan: Fan<T>,
}

/// A subject's shared state.
pub(crate) type Shared<T, X> = Arc<Core<T, X>>;

pub(crate) fn new_hub<T, X>(extra: X) -> Shared<T, X> {
    Arc::new(Core {
        state: Mutex::new(Hub {
            ids: Vec::new(),
            next_id: 0,
            end: None,
            extra,
        }),
        ended: AtomicBool::new(false),
        fan: Serial::new(Vec::new()),
    })
}

impl<T: Send + 'static, X> Hub<T, X> {
    /// Whether the subject ended.
    pub(crate) fn ended(&self) -> bool {
        self.end.is_some()
    }

    /// How many observers are subscribed.
    pub(crate) fn observer_count(&self) -> usize {
        self.ids.len()
    }

    /// Records the end, forgetting the observers (they are told by
    /// [`Core::end`]); `false` if it had ended already.
    pub(crate) fn finish(&mut self, end: Notification<T>) -> bool {
        if self.end.is_some() {
            return false;
        }
        self.end = Some(end);
        self.ids.clear();
        true
    }

    /// The end, for a late subscriber.
    pub(crate) fn end(&self) -> Option<Notification<T>> {
        self.end.as_ref().map(|end| match end {
            Notification::Error(error) => Notification::Error(error.clone()),
            _ => Notification::Completed,
        })
    }
}

/// What the delivering caller does for the observers, in the order the
/// subject's calls made them.
pub(crate) enum Op<T> {
    /// An element for every observer.
    Next(T),
    /// The end for every observer, who are then let go: `Some` error, or
    /// `None` for completion.
    End(Option<Error>),
    /// A new observer, given `first` (a replay) before anything else.
    Attach(Subscriber<T>, Vec<Notification<T>>),
    /// Let go of the observers that were disposed.
    Prune,
}

/// The observers, behind the queue-drain serialiser: whoever holds them
/// delivers, first its own operations, then what is queued.
type Fan<T> = Serial<Vec<Subscriber<T>>, Op<T>>;

impl<T: Clone + Send + 'static, X> Core<T, X> {
    /// The subject's state, locked (briefly: never while an observer runs).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Hub<T, X>> {
        self.state.lock()
    }

    /// Hands `value` to the observers subscribed now; `state` is the
    /// caller's lock, let go before any observer runs.
    pub(crate) fn next(&self, state: MutexGuard<'_, Hub<T, X>>, value: T) {
        self.submit(state, [Op::Next(value)]);
    }

    /// Hands `value` to the observers subscribed now, unless the subject
    /// ended, without taking the state lock: for a subject that keeps
    /// nothing of what it passes on. The order of the deliveries is the
    /// delivery lock's; one caller's calls keep theirs, and an element that
    /// races the end reaches nobody (the end lets every observer go).
    #[inline]
    pub(crate) fn next_unlocked(&self, value: T) {
        if !self.ended.load(Ordering::Acquire) {
            self.submit((), [Op::Next(value)]);
        }
    }

    /// Ends the observers subscribed now with `error` (or completion),
    /// after `last` if given; the caller has recorded the end in `state`.
    pub(crate) fn end(
        &self,
        state: MutexGuard<'_, Hub<T, X>>,
        last: Option<T>,
        error: Option<Error>,
    ) {
        self.ended.store(true, Ordering::Release);
        self.submit(
            state,
            last.map(Op::Next).into_iter().chain([Op::End(error)]),
        );
    }

    /// Ends the observers with `error`, unless the subject has ended
    /// already; later subscribers get the error too.
    pub(crate) fn fail(&self, error: Error) {
        let mut state = self.lock();
        if state.finish(Notification::Error(error.clone())) {
            self.end(state, None, Some(error));
        }
    }

    /// Completes the observers, unless the subject has ended already;
    /// later subscribers get the end too.
    pub(crate) fn complete(&self) {
        let mut state = self.lock();
        if state.finish(Notification::Completed) {
            self.end(state, None, None);
        }
    }

    /// Runs `ops` in the order of the calls that hold `state` (the state
    /// lock, or nothing for [`next_unlocked`](Self::next_unlocked)): at
    /// once, by this caller, if nobody delivers and nothing is queued
    /// (decided under `state`, so an operation submitted later cannot
    /// overtake), else queued for whoever delivers. `state` is let go
    /// before any observer runs.
    fn submit<S>(&self, state: S, ops: impl IntoIterator<Item = Op<T>>) {
        let fan = &self.fan;
        match fan.hold() {
            Some(mut observers) => {
                drop(state);
                for op in ops {
                    observers.deliver(op);
                }
                fan.deliver_queued(&mut observers);
            }
            None => {
                for op in ops {
                    fan.enqueue(op);
                }
                drop(state);
            }
        }
        fan.drain();
    }
}

/// Carries out an operation on the observers (the delivery lock held).
impl<T: Clone + Send + 'static> Deliver<Op<T>> for Vec<Subscriber<T>> {
    fn deliver(&mut self, op: Op<T>) {
        let observers = self;
        match op {
            Op::Next(value) => {
                if let Some((last, rest)) = observers.split_last_mut() {
                    for observer in rest {
                        observer.on_next(value.clone());
                    }
                    last.on_next(value);
                }
            }
            Op::End(error) => {
                for mut observer in std::mem::take(observers) {
                    match &error {
                        Some(error) => observer.on_error(error.clone()),
                        None => observer.on_completed(),
                    }
                }
            }
            Op::Attach(mut observer, first) => {
                for notification in first {
                    observer.notify(notification);
                }
                if !observer.is_closed() {
                    observers.push(observer);
                }
            }
            Op::Prune => observers.retain(|observer| !observer.is_closed()),
        }
    }
}

/// Subscribes `subscriber` to `hub` (locked by the caller: `state`),
/// giving it `first` before anything else; it is let go again when its
/// subscription is disposed.
pub(crate) fn attach<T: Clone + Send + 'static, X: Send + 'static>(
    hub: &Shared<T, X>,
    mut state: MutexGuard<'_, Hub<T, X>>,
    subscriber: Subscriber<T>,
    first: Vec<Notification<T>>,
) {
    let id = state.next_id;
    state.next_id += 1;
    state.ids.push(id);
    let subscription = subscriber.subscription().clone();
    hub.submit(state, [Op::Attach(subscriber, first)]);
    // Weak: the hub holds the subscriber, whose subscription holds this.
    // Added with no lock held: on a subscription disposed already it runs
    // at once.
    let weak: Weak<Core<T, X>> = Arc::downgrade(hub);
    subscription.add(move || {
        if let Some(hub) = weak.upgrade() {
            let mut state = hub.state.lock();
            if let Some(i) = state.ids.iter().position(|i| *i == id) {
                state.ids.swap_remove(i);
                drop(state);
                hub.fan.enqueue(Op::Prune);
                hub.fan.drain();
            }
        }
    });
}

/// Gives `subscriber`, not attached (the subject has ended), `first` and
/// then `end`.
pub(crate) fn replay_and_end<T: Send + 'static>(
    mut subscriber: Subscriber<T>,
    first: Vec<Notification<T>>,
    end: Notification<T>,
) {
    for notification in first {
        subscriber.notify(notification);
    }
    subscriber.notify(end);
}
