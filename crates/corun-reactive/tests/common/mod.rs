//! Helpers shared by the operator tests.

#![allow(dead_code)]

use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use corun::reactive::{Action, Observable, Scheduler, Subscription, TestScheduler};
use corun::{Error, ErrorKind};
use parking_lot::Mutex;

/// RxPY's `ex`: the error the marbles carry.
pub(crate) fn ex() -> Error {
    Error::new(ErrorKind::InvalidState, "ex")
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// RxPY's `map_indexed(lambda w, i: w.pipe(ops.map(lambda x: f"{i} {x}")))`
/// then `merge_all()`: each window's elements as "i x", and with `ends`,
/// "i end" when window i completes (RxPY: `concat(return_value(f"{i} end"))`).
pub(crate) fn merge_windows<T: Display + Send + 'static>(
    windows: Observable<Observable<T>>,
    ends: bool,
) -> Observable<String> {
    Observable::new(move |down| {
        let down = down.into_shared();
        let index = Arc::new(AtomicUsize::new(0));
        let (d, e, c) = (down.clone(), down.clone(), down.clone());
        let outer = windows.subscribe_all(
            move |window: Observable<T>| {
                let i = index.fetch_add(1, Ordering::SeqCst);
                let (n, e, c) = (d.clone(), d.clone(), d.clone());
                let inner = window.subscribe_all(
                    move |x| n.on_next(format!("{i} {x}")),
                    move |error| e.on_error(error),
                    move || {
                        if ends {
                            c.on_next(format!("{i} end"));
                        }
                    },
                );
                d.subscription().add_subscription(inner);
            },
            move |error| e.on_error(error),
            move || c.on_completed(),
        );
        down.subscription().add_subscription(outer);
    })
}

/// A `TestScheduler` that keeps the handle of every action scheduled on it,
/// to tell whether any is still waiting: an action that ran or was
/// disposed reads disposed.
#[derive(Clone)]
pub(crate) struct Tracked {
    pub(crate) ts: TestScheduler,
    actions: Arc<Mutex<Vec<Subscription>>>,
}

impl Tracked {
    pub(crate) fn new(ts: &TestScheduler) -> Self {
        Self {
            ts: ts.clone(),
            actions: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Actions scheduled through this handle that neither ran nor were
    /// disposed.
    pub(crate) fn pending(&self) -> usize {
        self.actions
            .lock()
            .iter()
            .filter(|a| !a.is_disposed())
            .count()
    }

    /// Actions scheduled so far.
    pub(crate) fn scheduled(&self) -> usize {
        self.actions.lock().len()
    }

    fn keep(&self, action: Subscription) -> Subscription {
        self.actions.lock().push(action.clone());
        action
    }
}

impl Scheduler for Tracked {
    fn now(&self) -> Instant {
        self.ts.now()
    }
    fn schedule(&self, action: Action) -> Subscription {
        self.keep(self.ts.schedule(action))
    }
    fn schedule_relative(&self, delay: Duration, action: Action) -> Subscription {
        self.keep(self.ts.schedule_relative(delay, action))
    }
    fn schedule_absolute(&self, due: Instant, action: Action) -> Subscription {
        self.keep(self.ts.schedule_absolute(due, action))
    }
}
