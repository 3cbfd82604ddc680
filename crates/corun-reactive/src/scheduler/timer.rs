//! The process's timer thread: one thread, started on first use, that runs
//! the due actions of [`ThreadPoolScheduler`](super::ThreadPoolScheduler)
//! (which hands each to its pool) — so a delayed action holds no worker
//! while it waits.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::Action;
use crate::Subscription;

struct Timers {
    queue: Mutex<Queue>,
    wake: Condvar,
}

struct Queue {
    entries: BTreeMap<(Instant, u64), Action>,
    next: u64,
}

fn timers() -> &'static Arc<Timers> {
    static TIMERS: OnceLock<Arc<Timers>> = OnceLock::new();
    TIMERS.get_or_init(|| {
        let timers = Arc::new(Timers {
            queue: Mutex::new(Queue {
                entries: BTreeMap::new(),
                next: 0,
            }),
            wake: Condvar::new(),
        });
        let t = Arc::clone(&timers);
        std::thread::Builder::new()
            .name("corun-reactive-timer".into())
            .spawn(move || t.run())
            .expect("cannot start the reactive timer thread");
        timers
    })
}

impl Timers {
    fn run(&self) {
        let mut queue = self.queue.lock();
        loop {
            let now = Instant::now();
            match queue.entries.first_key_value().map(|(k, _)| *k) {
                Some(key) if key.0 <= now => {
                    let action = queue.entries.remove(&key).expect("the first key is there");
                    drop(queue);
                    // An action only hands work on (to a pool); a panic in
                    // it must not stop the timers of everybody else.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(action));
                    queue = self.queue.lock();
                }
                Some((due, _)) => {
                    self.wake.wait_until(&mut queue, due);
                }
                None => self.wake.wait(&mut queue),
            }
        }
    }
}

/// Runs `action` on the timer thread at `due`; disposing the subscription
/// first removes it (and drops what it holds) at once.
pub(crate) fn schedule_at(due: Instant, subscription: &Subscription, action: Action) {
    let timers = timers();
    let key = {
        let mut queue = timers.queue.lock();
        queue.next += 1;
        let key = (due, queue.next);
        queue.entries.insert(key, action);
        key
    };
    timers.wake.notify_one();
    let t = Arc::clone(timers);
    subscription.add(move || {
        let removed = t.queue.lock().entries.remove(&key);
        drop(removed);
    });
}
