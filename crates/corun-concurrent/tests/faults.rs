//! Faults and lifetimes: what happens when a task or a callback panics, when
//! an executor is dropped with work queued, when a promise is dropped
//! unfinished, when a task shuts down its own pool — and `Task` as a Rust
//! `Future`, driven by a one-future executor written here with `std` only.
//!
//! CPython's counterparts, where there are any: a task that raises (even
//! `SystemExit`) does not kill its worker (reference §1.1, "Task
//! exceptions"); a raising done-callback is logged and ignored (§2.1); a
//! `with` block waits for pending work (`test_shutdown.py`).

mod common;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

use common::{DEADLINE, Gate, Probe, describe, new_pool, outcomes, poll_until};
use corun_concurrent::{Error, Executor, Task};

// ---------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------

// Checks that a panicking task fails only its own task, with the panic's
// message (a `&str` or a formatted `String`), and that its worker goes on:
// on a one-worker pool the next tasks run, on the same thread, and no
// worker is added.
#[test]
fn panicking_task_fails_only_itself() {
    let pool = new_pool(1);
    let first_thread = pool.spawn(|| thread::current().id()).unwrap();
    let first_thread = first_thread.result().unwrap();
    let err = pool
        .spawn(|| -> i32 { panic!("boom") })
        .unwrap()
        .result()
        .unwrap_err();
    assert!(err.is_panic(), "{err}");
    assert_eq!(err.panic_message(), Some("boom"));
    assert!(err.to_string().contains("boom"), "{err}");
    for n in 0..3 {
        let err = pool
            .spawn(move || -> i32 { panic!("boom {n}") })
            .unwrap()
            .result()
            .unwrap_err();
        assert_eq!(err.panic_message(), Some(format!("boom {n}").as_str()));
        let ok = pool.spawn(move || (n, thread::current().id())).unwrap();
        assert_eq!(ok.result().unwrap(), (n, first_thread));
    }
    assert_eq!(pool.workers(), 1, "no worker died or was added");

    // With several workers, too: panics do not change the worker count.
    let pool = new_pool(2);
    let gate = Gate::new();
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let gate = Arc::clone(&gate);
            pool.spawn(move || -> i32 {
                gate.wait();
                panic!("both")
            })
            .unwrap()
        })
        .collect();
    poll_until("both run", || tasks.iter().all(Task::running));
    assert_eq!(pool.workers(), 2);
    gate.open();
    assert_eq!(outcomes(tasks), ["panic:both", "panic:both"]);
    let after: Vec<_> = (0..10).map(|i| pool.spawn(move || i).unwrap()).collect();
    assert_eq!(outcomes(after).len(), 10);
    assert_eq!(pool.workers(), 2);
}

// Checks that a panic with a payload that is not a string still fails the
// task (with a placeholder message).
#[test]
fn panic_with_other_payload() {
    let pool = new_pool(1);
    let err = pool
        .spawn(|| std::panic::panic_any(42_u8))
        .unwrap()
        .result()
        .unwrap_err();
    assert!(err.is_panic());
    assert!(
        err.panic_message().unwrap().contains("unknown type"),
        "{err}"
    );
    assert_eq!(pool.spawn(|| 1).unwrap().result().unwrap(), 1);
}

// Checks that a done-callback that panics in a worker (the task completes
// there) is caught: the callbacks after it run, the task keeps its value,
// and the worker goes on serving.
#[test]
fn panicking_callback_does_not_kill_the_worker() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let task = {
        let gate = Arc::clone(&gate);
        pool.spawn(move || {
            gate.wait();
            thread::current().id()
        })
        .unwrap()
    };
    let ran_in = Arc::new(Mutex::new(Vec::new()));
    task.add_done_callback(|_| panic!("callback panics"));
    {
        let ran_in = Arc::clone(&ran_in);
        task.add_done_callback(move |_| ran_in.lock().unwrap().push(thread::current().id()));
    }
    gate.open();
    let worker_thread = task.result().unwrap();
    assert_eq!(
        *ran_in.lock().unwrap(),
        [worker_thread],
        "ran in the worker"
    );
    for i in 0..3 {
        let next = pool.spawn(move || (i, thread::current().id())).unwrap();
        assert_eq!(next.result().unwrap(), (i, worker_thread));
    }
    assert_eq!(pool.workers(), 1);
}

// ---------------------------------------------------------------------------
// Dropping things
// ---------------------------------------------------------------------------

// Checks that dropping a pool with tasks queued waits for them: when the
// drop returns, every task is done with its value.
#[test]
fn dropping_the_pool_waits_for_pending_tasks() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let first = {
        let gate = Arc::clone(&gate);
        pool.spawn(move || {
            gate.wait();
            0
        })
        .unwrap()
    };
    let mut tasks = vec![first];
    tasks.extend((1..5).map(|i| pool.spawn(move || i).unwrap()));
    poll_until("the first task runs", || tasks[0].running());
    let (tx, rx) = mpsc::channel();
    let opener = {
        let gate = Arc::clone(&gate);
        thread::spawn(move || {
            let dropper: Probe = rx.recv().unwrap();
            dropper.wait_until_blocked();
            gate.open();
        })
    };
    tx.send(Probe::current()).unwrap();
    drop(pool); // blocks until the opener opens the gate and all is done
    assert!(tasks.iter().all(|t| t.done() && !t.cancelled()));
    assert_eq!(outcomes(tasks), ["ok:0", "ok:1", "ok:2", "ok:3", "ok:4"]);
    opener.join().unwrap();
}

// Checks that shutdown(wait=true, cancel_pending=true) before dropping
// cancels the queued tasks, lets the running one finish, and the drop is
// then harmless.
#[test]
fn shutdown_cancel_pending_then_drop() {
    let pool = Arc::new(new_pool(1));
    let gate = Gate::new();
    let first = {
        let gate = Arc::clone(&gate);
        pool.spawn(move || {
            gate.wait();
            0
        })
        .unwrap()
    };
    let mut tasks = vec![first];
    tasks.extend((1..5).map(|i| pool.spawn(move || i).unwrap()));
    poll_until("the first task runs", || tasks[0].running());
    let shutter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.shutdown(true, true))
    };
    poll_until("the queued tasks are cancelled", || {
        tasks[1..].iter().all(Task::cancelled)
    });
    gate.open();
    shutter.join().unwrap();
    drop(Arc::try_unwrap(pool).unwrap());
    assert_eq!(
        outcomes(tasks),
        ["ok:0", "cancelled", "cancelled", "cancelled", "cancelled"]
    );
}

// Checks a promise dropped before it was started: the task is cancelled,
// its callbacks run (in the dropping thread), and a blocked waiter wakes.
#[test]
fn promise_dropped_unstarted_cancels() {
    let (task, promise) = Task::<i32>::pending();
    let seen = Arc::new(Mutex::new(None));
    {
        let seen = Arc::clone(&seen);
        task.add_done_callback(move |r| {
            *seen.lock().unwrap() = Some((
                describe(r.copied().map_err(Error::clone)),
                thread::current().id(),
            ));
        });
    }
    let (tx, rx) = mpsc::channel();
    let dropper = thread::spawn(move || {
        let waiter: Probe = rx.recv().unwrap();
        waiter.wait_until_blocked();
        drop(promise);
        thread::current().id()
    });
    tx.send(Probe::current()).unwrap();
    task.wait();
    let dropper = dropper.join().unwrap();
    assert!(task.cancelled());
    assert_eq!(
        *seen.lock().unwrap(),
        Some(("cancelled".to_owned(), dropper))
    );
    assert!(task.result().unwrap_err().is_cancelled());
}

// Checks a promise dropped after it was started: the task fails as broken
// (no waiter hangs on lost work), with its callbacks run.
#[test]
fn promise_dropped_started_breaks() {
    let (task, promise) = Task::<i32>::pending();
    assert!(promise.start());
    let seen = Arc::new(Mutex::new(None));
    {
        let seen = Arc::clone(&seen);
        task.add_done_callback(move |r| {
            *seen.lock().unwrap() = Some(describe(r.copied().map_err(Error::clone)))
        });
    }
    let (tx, rx) = mpsc::channel();
    let dropper = thread::spawn(move || {
        let waiter: Probe = rx.recv().unwrap();
        waiter.wait_until_blocked();
        drop(promise);
    });
    tx.send(Probe::current()).unwrap();
    let err = task.result().unwrap_err();
    assert!(err.is_broken(), "{err}");
    assert!(!err.is_cancelled());
    assert_eq!(seen.lock().unwrap().as_deref(), Some("broken"));
    dropper.join().unwrap();
}

// Checks Promise::cancel: on a pending task it cancels (true); on a started
// one it cannot (false), and the task must not be left running forever —
// it fails as broken, as when the promise is dropped.
#[test]
fn promise_cancel() {
    let (task, promise) = Task::<i32>::pending();
    assert!(promise.cancel());
    assert!(task.cancelled());

    let (mut task, promise) = Task::<i32>::pending();
    assert!(promise.start());
    assert!(!promise.cancel());
    assert!(!task.cancelled());
    let err = task.result_timeout(DEADLINE).unwrap_err();
    assert!(err.is_broken(), "{err}");
}

// ---------------------------------------------------------------------------
// A task that shuts down its own pool
// ---------------------------------------------------------------------------

// Checks that a task calling shutdown(wait=true) on its own pool does not
// deadlock (it must not join its own thread): the other work finishes, the
// call returns, and later submissions are refused.
#[test]
fn task_shuts_down_its_own_pool() {
    let pool = Arc::new(new_pool(2));
    let other = pool.spawn(|| 1).unwrap();
    let task = {
        let me = Arc::clone(&pool);
        pool.spawn(move || {
            me.shutdown(true, false);
            "returned"
        })
        .unwrap()
    };
    assert!(
        task.wait_timeout(DEADLINE),
        "shutdown from a task deadlocked"
    );
    assert_eq!(task.result().unwrap(), "returned");
    assert_eq!(other.result().unwrap(), 1);
    assert!(pool.spawn(|| 0).unwrap_err().is_shutdown());
}

// Checks that a task holding the last handle to its pool, which it then
// drops (Drop = shutdown(wait=true)) inside its worker, does not deadlock.
#[test]
fn task_drops_the_last_handle_to_its_pool() {
    let pool = Arc::new(new_pool(2));
    let gate = Gate::new();
    let task = {
        let me = Arc::clone(&pool);
        let gate = Arc::clone(&gate);
        pool.spawn(move || {
            gate.wait();
            drop(me); // the last handle: the pool shuts down here
            "dropped"
        })
        .unwrap()
    };
    drop(pool);
    gate.open();
    assert!(
        task.wait_timeout(DEADLINE),
        "dropping from a task deadlocked"
    );
    assert_eq!(task.result().unwrap(), "dropped");
}

// ---------------------------------------------------------------------------
// Task as a Rust Future
// ---------------------------------------------------------------------------

/// Wakes by unparking the thread that polls, and counts the wake-ups.
struct ThreadWaker {
    thread: Thread,
    wakes: AtomicUsize,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        self.thread.unpark();
    }
}

fn thread_waker() -> (Arc<ThreadWaker>, Waker) {
    let state = Arc::new(ThreadWaker {
        thread: thread::current(),
        wakes: AtomicUsize::new(0),
    });
    (Arc::clone(&state), Waker::from(state))
}

/// Drives one future to completion on this thread: polls, and parks until
/// woken between polls (failing the test after [`DEADLINE`]).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let (_, waker) = thread_waker();
    let mut cx = Context::from_waker(&waker);
    let end = Instant::now() + DEADLINE;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the future was never ready");
        thread::park_timeout(left);
    }
}

/// Parks until `waker` counted at least `n` wake-ups.
fn park_until_woken(waker: &ThreadWaker, n: usize) {
    let end = Instant::now() + DEADLINE;
    while waker.wakes.load(SeqCst) < n {
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "never woken");
        thread::park_timeout(left);
    }
}

// Checks that `.await` on a task gives its outcome: a value, a panic, a
// cancellation.
#[test]
fn await_gives_the_outcome() {
    let pool = new_pool(2);
    let task = pool.spawn(|| 6 * 7).unwrap();
    assert_eq!(block_on(task).unwrap(), 42);

    let gate = Gate::new();
    let slow = {
        let gate = Arc::clone(&gate);
        pool.spawn(move || {
            gate.wait();
            "late"
        })
        .unwrap()
    };
    let opener = {
        let gate = Arc::clone(&gate);
        thread::spawn(move || gate.open())
    };
    let both = block_on(async {
        let a = slow.await.unwrap();
        let b = pool.spawn(|| "second").unwrap().await.unwrap();
        (a, b)
    });
    assert_eq!(both, ("late", "second"));
    opener.join().unwrap();

    let panicking = pool.spawn(|| -> i32 { panic!("async boom") }).unwrap();
    let err = block_on(panicking).unwrap_err();
    assert_eq!(err.panic_message(), Some("async boom"));

    let (cancelled, _promise) = Task::<i32>::pending();
    assert!(cancelled.cancel());
    assert!(block_on(cancelled).unwrap_err().is_cancelled());
}

// Checks the waker contract: a pending poll registers the waker, a
// completion on another thread wakes it, and the next poll is ready.
#[test]
fn waker_is_woken_by_completion_on_another_thread() {
    let (mut task, promise) = Task::pending();
    let (counter, waker) = thread_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
    assert_eq!(counter.wakes.load(SeqCst), 0);
    let completer = thread::spawn(move || {
        assert!(promise.start());
        promise.complete(Ok(9));
    });
    park_until_woken(&counter, 1);
    match Pin::new(&mut task).poll(&mut cx) {
        Poll::Ready(r) => assert_eq!(r.unwrap(), 9),
        Poll::Pending => panic!("woken but not ready"),
    }
    completer.join().unwrap();
}

// Checks that a cancellation from another thread wakes the waker too, and
// that only the waker of the latest poll is woken (a future moved between
// tasks must wake the new one).
#[test]
fn latest_waker_is_woken_by_cancellation() {
    let (task, _promise) = Task::<i32>::pending();
    let mut task = Arc::new(Mutex::new(task));
    let (old, old_waker) = thread_waker();
    let (new, new_waker) = thread_waker();
    {
        let mut t = task.lock().unwrap();
        assert!(
            Pin::new(&mut *t)
                .poll(&mut Context::from_waker(&old_waker))
                .is_pending()
        );
        assert!(
            Pin::new(&mut *t)
                .poll(&mut Context::from_waker(&new_waker))
                .is_pending()
        );
    }
    let canceller = {
        let task = Arc::clone(&task);
        thread::spawn(move || assert!(task.lock().unwrap().cancel()))
    };
    park_until_woken(&new, 1);
    canceller.join().unwrap();
    assert_eq!(old.wakes.load(SeqCst), 0, "the replaced waker is not woken");
    let t = Arc::get_mut(&mut task).unwrap().get_mut().unwrap();
    match Pin::new(t).poll(&mut Context::from_waker(&new_waker)) {
        Poll::Ready(r) => assert!(r.unwrap_err().is_cancelled()),
        Poll::Pending => panic!("woken but not ready"),
    }
}

// Checks that many tasks awaited together from one async block, completed
// by several workers, all arrive.
#[test]
fn await_many_tasks() {
    let pool = new_pool(3);
    let tasks: Vec<_> = (0..20)
        .map(|i| pool.spawn(move || i * i).unwrap())
        .collect();
    let got: BTreeSet<i32> = block_on(async {
        let mut got = BTreeSet::new();
        for task in tasks {
            got.insert(task.await.unwrap());
        }
        got
    });
    assert_eq!(got, (0..20).map(|i| i * i).collect());
}
