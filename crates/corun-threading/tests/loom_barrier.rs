//! Model checks of [`Barrier`] generations, abort and reset under loom.
//!
//! Run with `RUSTFLAGS="--cfg corun_loom" cargo test -p corun-threading
//! --release --test loom_barrier`. Loom explores every interleaving of the
//! barrier's mutex and condition variable (timeouts are not modelled).
#![cfg(corun_loom)]

use corun_threading::threading::Barrier;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// Two threads pass a 2-party barrier twice: each generation hands out the
/// indices {0, 1}, and the action runs exactly once per generation, before
/// anyone of that generation is released.
#[test]
fn generations_and_action() {
    loom::model(|| {
        let actions = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&actions);
        let barrier = Arc::new(
            Barrier::builder(2)
                .action(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap(),
        );
        let run = |barrier: Arc<Barrier>, actions: Arc<AtomicUsize>| {
            let mut indices = Vec::new();
            for generation in 1..=2 {
                indices.push(barrier.wait().unwrap());
                // The action of this generation ran before our release.
                assert!(actions.load(Ordering::SeqCst) >= generation);
            }
            indices
        };
        let other = {
            let (b, a) = (Arc::clone(&barrier), Arc::clone(&actions));
            thread::spawn(move || run(b, a))
        };
        let mine = run(Arc::clone(&barrier), Arc::clone(&actions));
        let theirs = other.join().unwrap();
        for generation in 0..2 {
            let mut pair = [mine[generation], theirs[generation]];
            pair.sort();
            assert_eq!(pair, [0, 1]);
        }
        assert_eq!(actions.load(Ordering::SeqCst), 2);
        assert!(!barrier.broken());
    });
}

/// `abort` breaks a waiter whether it arrived before or after the abort;
/// after `reset` the barrier works again for a full generation.
#[test]
fn abort_then_reset() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let waiter = {
            let b = Arc::clone(&barrier);
            thread::spawn(move || b.wait())
        };
        barrier.abort();
        let err = waiter.join().unwrap().unwrap_err();
        assert!(err.is_broken_barrier());
        assert!(barrier.broken());

        barrier.reset();
        let other = {
            let b = Arc::clone(&barrier);
            thread::spawn(move || b.wait().unwrap())
        };
        let mine = barrier.wait().unwrap();
        let theirs = other.join().unwrap();
        assert_eq!(mine + theirs, 1);
    });
}

/// A `reset` racing a waiter: the waiter either is broken out (and retries)
/// or arrives after the reset; either way the two parties then meet, and
/// nobody is left blocked or counted into the wrong generation.
#[test]
fn reset_racing_a_waiter() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let wait_until_passed = |b: &Barrier| {
            loop {
                match b.wait() {
                    Ok(index) => return index,
                    Err(e) => assert!(e.is_broken_barrier()),
                }
            }
        };
        let other = {
            let b = Arc::clone(&barrier);
            thread::spawn(move || wait_until_passed(&b))
        };
        barrier.reset();
        let mine = wait_until_passed(&barrier);
        let theirs = other.join().unwrap();
        assert_eq!(mine + theirs, 1);
        assert_eq!(barrier.n_waiting(), 0);
    });
}
