//! Model checks of [`Event`] under loom.
#![cfg(corun_loom)]

use corun_threading::threading::Event;
use loom::sync::Arc;
use loom::thread;

/// `set` wakes every waiter, whether it started waiting before or after:
/// no lost wake-up between the flag check and the sleep.
#[test]
fn set_wakes_all_waiters() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let e = Arc::clone(&event);
                thread::spawn(move || {
                    e.wait();
                    assert!(e.is_set());
                })
            })
            .collect();
        event.set();
        for w in waiters {
            w.join().unwrap();
        }
    });
}

/// A timed wait (a plain wait under loom) still sees a `set` that races it,
/// and reports the flag as set.
#[test]
fn timed_wait_sees_set() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let e = Arc::clone(&event);
            thread::spawn(move || e.wait_timeout(std::time::Duration::from_secs(1)))
        };
        event.set();
        assert!(waiter.join().unwrap());
    });
}
