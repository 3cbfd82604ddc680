//! Model checks of [`Semaphore`] and [`BoundedSemaphore`] under loom.
#![cfg(corun_loom)]

use corun_threading::threading::{BoundedSemaphore, Semaphore};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// A one-permit semaphore admits one thread at a time, and every permit
/// comes back.
#[test]
fn mutual_exclusion() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let enter = |sem: &Semaphore, inside: &AtomicUsize| {
            let _permit = sem.acquire();
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
            inside.fetch_sub(1, Ordering::SeqCst);
        };
        let other = {
            let (s, i) = (Arc::clone(&sem), Arc::clone(&inside));
            thread::spawn(move || enter(&s, &i))
        };
        enter(&sem, &inside);
        other.join().unwrap();
        assert_eq!(sem.value(), 1);
    });
}

/// `release(2)` wakes both of two blocked acquirers: no lost wake-up.
#[test]
fn release_n_wakes_n() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = Arc::clone(&sem);
                thread::spawn(move || s.acquire().forget())
            })
            .collect();
        sem.release(2).unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

/// A bounded semaphore never exceeds its bound: an explicit release racing
/// a guard's drop is refused while the guard is out, and accepted after a
/// `forget`.
#[test]
fn bounded_release_races_guard() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        let holder = {
            let s = Arc::clone(&sem);
            thread::spawn(move || drop(s.acquire()))
        };
        // Whatever the interleaving, one free permit or one held guard
        // exists, so an extra release must fail.
        assert!(sem.release(1).unwrap_err().is_over_release());
        holder.join().unwrap();
        assert_eq!(sem.value(), 1);

        let taken = {
            let s = Arc::clone(&sem);
            thread::spawn(move || s.acquire().forget())
        };
        taken.join().unwrap();
        sem.release(1).unwrap();
        assert_eq!(sem.value(), 1);
    });
}
