//! Model checks of [`Task`] and [`Promise`] under loom: the races of the
//! state machine in `task.rs` — cancel against start, a callback added
//! against completion, waiters against completion and cancellation, and the
//! `wait`/`as_completed` watchers against completion.
//!
//! Built with `RUSTFLAGS="--cfg corun_loom"`, the task's `Condition` (from
//! corun-threading) runs on loom's mutex and condition variable, so loom
//! explores every interleaving of the lock sections. Each model has at most
//! two spawned threads besides the main one. Loom does not model time, so
//! only untimed waits are checked; time-outs are covered by the ordinary
//! tests.
//!
//! ```text
//! RUSTFLAGS="--cfg corun_loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p corun-concurrent --release --test loom_task
//! ```
#![cfg(corun_loom)]

use corun_concurrent::{ReturnWhen, Task, as_completed, wait};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// Cancel racing start: exactly one wins; a cancelled task's work never
/// runs; the end state is cancelled or finished with the value, never both
/// and never neither.
#[test]
fn cancel_races_start() {
    loom::model(|| {
        let (task, promise) = Task::<i32>::pending();
        let ran = Arc::new(AtomicBool::new(false));
        let canceller = thread::spawn(move || {
            let cancelled = task.cancel();
            (task, cancelled)
        });
        let worker = {
            let ran = Arc::clone(&ran);
            thread::spawn(move || {
                if promise.start() {
                    ran.store(true, SeqCst); // the work
                    promise.complete(Ok(7));
                    true
                } else {
                    false // the promise is dropped: nothing to do
                }
            })
        };
        let (task, cancelled) = canceller.join().unwrap();
        let started = worker.join().unwrap();
        assert!(
            cancelled != started,
            "cancelled {cancelled}, started {started}"
        );
        assert_eq!(ran.load(SeqCst), started, "cancelled work never runs");
        assert!(task.done());
        assert_eq!(task.cancelled(), cancelled);
        assert!(!task.running());
        match task.result() {
            Ok(v) => assert!(started && v == 7),
            Err(e) => assert!(cancelled && e.is_cancelled(), "{e}"),
        }
    });
}

/// A callback added while another thread completes the task runs exactly
/// once, with the value — whether it joined the queue or was added after.
#[test]
fn callback_races_completion() {
    loom::model(|| {
        let (task, promise) = Task::<i32>::pending();
        assert!(promise.start());
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(AtomicUsize::new(0));
        let adder = {
            let calls = Arc::clone(&calls);
            let seen = Arc::clone(&seen);
            thread::spawn(move || {
                task.add_done_callback(move |r| {
                    calls.fetch_add(1, SeqCst);
                    seen.store(*r.unwrap() as usize, SeqCst);
                });
                task
            })
        };
        let completer = thread::spawn(move || promise.complete(Ok(7)));
        let task = adder.join().unwrap();
        completer.join().unwrap();
        assert_eq!(calls.load(SeqCst), 1, "exactly once");
        assert_eq!(seen.load(SeqCst), 7);
        assert_eq!(task.result().unwrap(), 7, "the value is still there");
    });
}

/// Two callbacks added from two threads while the main thread completes the
/// task: both run, each exactly once, with the value — never under the
/// task's lock, and each sees its task done, whichever thread runs it.
#[test]
fn two_callbacks_race_completion() {
    loom::model(|| {
        let (task, promise) = Task::<i32>::pending();
        assert!(promise.start());
        let task = Arc::new(task);
        let calls: Vec<_> = (0..2).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let adders: Vec<_> = calls
            .iter()
            .map(|count| {
                let task = Arc::clone(&task);
                let count = Arc::clone(count);
                thread::spawn(move || {
                    let me = Arc::clone(&task);
                    task.add_done_callback(move |r| {
                        assert_eq!(*r.unwrap(), 7);
                        assert!(me.done() && !me.running());
                        count.fetch_add(1, SeqCst);
                    });
                })
            })
            .collect();
        promise.complete(Ok(7));
        for adder in adders {
            adder.join().unwrap();
        }
        for count in &calls {
            assert_eq!(count.load(SeqCst), 1, "each callback exactly once");
        }
    });
}

/// A callback added racing a cancellation runs once, with the cancellation.
#[test]
fn callback_races_cancel() {
    loom::model(|| {
        let (task, _promise) = Task::<i32>::pending();
        let task = Arc::new(task);
        let calls = Arc::new(AtomicUsize::new(0));
        let adder = {
            let task = Arc::clone(&task);
            let calls = Arc::clone(&calls);
            thread::spawn(move || {
                task.add_done_callback(move |r| {
                    assert!(r.unwrap_err().is_cancelled());
                    calls.fetch_add(1, SeqCst);
                });
            })
        };
        assert!(task.cancel());
        adder.join().unwrap();
        assert_eq!(calls.load(SeqCst), 1);
    });
}

/// A waiter blocked in `result()` wakes on completion and gets the value.
#[test]
fn waiter_wakes_on_completion() {
    loom::model(|| {
        let (task, promise) = Task::<i32>::pending();
        let waiter = thread::spawn(move || task.result());
        assert!(promise.start());
        promise.complete(Ok(7));
        assert_eq!(waiter.join().unwrap().unwrap(), 7);
    });
}

/// A waiter blocked in `wait()` wakes on a cancellation from another thread
/// and sees the task cancelled.
#[test]
fn waiter_wakes_on_cancellation() {
    loom::model(|| {
        let (task, promise) = Task::<i32>::pending();
        let task = Arc::new(task);
        let waiter = {
            let task = Arc::clone(&task);
            thread::spawn(move || {
                task.wait();
                assert!(task.cancelled() && task.done());
            })
        };
        let canceller = {
            let task = Arc::clone(&task);
            thread::spawn(move || assert!(task.cancel()))
        };
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert!(!promise.start());
    });
}

/// A waiter blocked in `result()` wakes when a started promise is dropped,
/// with a broken-executor error.
#[test]
fn waiter_wakes_on_dropped_promise() {
    loom::model(|| {
        let (task, promise) = Task::<i32>::pending();
        assert!(promise.start());
        let waiter = thread::spawn(move || task.result());
        drop(promise);
        assert!(waiter.join().unwrap().unwrap_err().is_broken());
    });
}

/// `wait(FIRST_COMPLETED)` registering its watcher while the task completes
/// never misses the completion.
#[test]
fn wait_races_completion() {
    loom::model(|| {
        let (pending, _keep) = Task::<i32>::pending();
        let (task, promise) = Task::<i32>::pending();
        let waiter = thread::spawn(move || wait([pending, task], None, ReturnWhen::FirstCompleted));
        promise.complete(Ok(7));
        let w = waiter.join().unwrap();
        assert_eq!(w.done.len(), 1);
        assert_eq!(w.not_done.len(), 1);
        assert_eq!(w.done.into_iter().next().unwrap().result().unwrap(), 7);
    });
}

/// `as_completed` yields a task completed, and one cancelled, from other
/// threads while it sets up or waits: no lost wake-up, each task once.
#[test]
fn as_completed_races_completion() {
    loom::model(|| {
        let (a, pa) = Task::<i32>::pending();
        let (b, pb) = Task::<i32>::pending();
        let iterator = thread::spawn(move || {
            let mut got: Vec<_> = as_completed([a, b], None)
                .map(|t| match t.unwrap().result() {
                    Ok(v) => v,
                    Err(e) => {
                        assert!(e.is_cancelled(), "{e}");
                        -1
                    }
                })
                .collect();
            got.sort_unstable();
            got
        });
        let canceller = thread::spawn(move || drop(pb)); // cancels b
        pa.complete(Ok(1));
        assert_eq!(iterator.join().unwrap(), [-1, 1]);
        canceller.join().unwrap();
    });
}
