//! Behaviour of [`wait`], ported from CPython's
//! `Lib/test/test_concurrent_futures/test_wait.py` (`WaitTests`,
//! `ThreadPoolWaitTests`), adapted to the Rust API: `wait` takes the tasks
//! by value and hands them back split into `done` and `not_done`, each in
//! input order (Python returns sets), so the tests compare outcomes in order.
//!
//! Python's fixed futures in `CANCELLED_FUTURE` state (cancelled but not yet
//! notified, which Python's `wait` counts as not done) have no counterpart:
//! a cancelled task is done at once. Where a test used one, it uses a
//! pending task that nobody completes.
//!
//! Not ported: `test_20369` (duplicate futures: a `Task` cannot be cloned).

mod common;

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{Gate, Probe, assert_timeout, cancelled, failed, new_pool, outcomes, successful};
use corun_concurrent::{Promise, ReturnWhen, Task, ThreadPoolExecutor, wait};

/// The time-out used where a wait must really run out.
const SHORT: Duration = Duration::from_millis(50);

/// A task nobody completes while the test runs (its promise is kept).
fn never() -> (Task<i32>, Promise<i32>) {
    Task::pending()
}

/// A pool task that waits at `gate`, then returns `value`.
fn gated(pool: &ThreadPoolExecutor, gate: &Arc<Gate>, value: i32) -> Task<i32> {
    let gate = Arc::clone(gate);
    pool.spawn(move || {
        gate.wait();
        value
    })
    .unwrap()
}

/// Completes the not-done tasks (opening `gate`, completing `promises`
/// with their index) and returns all their outcomes.
fn finish(not_done: Vec<Task<i32>>, gate: &Gate, promises: Vec<Promise<i32>>) -> Vec<String> {
    gate.open();
    for (i, p) in promises.into_iter().enumerate() {
        p.complete(Ok(-(i as i32) - 1));
    }
    outcomes(not_done)
}

// Ports test_wait.py WaitTests.test_first_completed: the quick task is done,
// the slow one and the one never completed are not.
#[test]
fn test_first_completed() {
    let pool = new_pool(2);
    let gate = Gate::new();
    let (pending, promise) = never();
    let quick = pool.spawn(|| 42).unwrap();
    let slow = gated(&pool, &gate, 7);
    let w = wait([pending, quick, slow], None, ReturnWhen::FirstCompleted);
    assert_eq!(outcomes(w.done), ["ok:42"]);
    assert_eq!(finish(w.not_done, &gate, vec![promise]), ["ok:-1", "ok:7"]);
}

// Ports test_wait.py WaitTests.test_first_completed_some_already_completed:
// tasks already done (a cancelled one among them) return at once.
#[test]
fn test_first_completed_some_already_completed() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let slow = gated(&pool, &gate, 7);
    let t = Instant::now();
    let w = wait(
        [cancelled(), successful(1), slow],
        None,
        ReturnWhen::FirstCompleted,
    );
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(outcomes(w.done), ["cancelled", "ok:1"]);
    assert_eq!(finish(w.not_done, &gate, vec![]), ["ok:7"]);
}

// Ports test_wait.py WaitTests.test_first_exception: a task that fails ends
// the wait, with the one that succeeded before it; the slow one is not
// done. (The failing task waits for the first one's done-callback, as in
// CPython.)
#[test]
fn test_first_exception() {
    let pool = new_pool(3);
    let gate = Gate::new();
    let first_done = Gate::new();
    let first = pool.spawn(|| 2 * 21).unwrap();
    {
        let first_done = Arc::clone(&first_done);
        first.add_done_callback(move |_| first_done.open());
    }
    let raising = {
        let first_done = Arc::clone(&first_done);
        pool.spawn(move || -> i32 {
            first_done.wait();
            panic!("wait_and_raise")
        })
        .unwrap()
    };
    let slow = gated(&pool, &gate, 7);
    let w = wait([first, raising, slow], None, ReturnWhen::FirstException);
    assert_eq!(outcomes(w.done), ["ok:42", "panic:wait_and_raise"]);
    assert_eq!(finish(w.not_done, &gate, vec![]), ["ok:7"]);
}

// Ports test_wait.py WaitTests.test_first_exception_some_already_complete:
// already done tasks (success, cancelled) are done, a failure ends the wait,
// the pending ones are not done.
#[test]
fn test_first_exception_some_already_complete() {
    let pool = new_pool(2);
    let gate = Gate::new();
    let (pending, promise) = never();
    let dividing = pool.submit_div(21, 0);
    let slow = gated(&pool, &gate, 7);
    let w = wait(
        [successful(1), pending, cancelled(), dividing, slow],
        None,
        ReturnWhen::FirstException,
    );
    assert_eq!(
        outcomes(w.done),
        ["ok:1", "cancelled", "panic:attempt to divide by zero"]
    );
    assert_eq!(finish(w.not_done, &gate, vec![promise]), ["ok:-1", "ok:7"]);
}

// Ports test_wait.py WaitTests.test_first_exception_one_already_failed.
#[test]
fn test_first_exception_one_already_failed() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let slow = gated(&pool, &gate, 7);
    let w = wait([failed(), slow], None, ReturnWhen::FirstException);
    assert_eq!(outcomes(w.done), ["error:task failed in worker: boom"]);
    assert_eq!(finish(w.not_done, &gate, vec![]), ["ok:7"]);
}

// Checks that FIRST_EXCEPTION behaves like ALL_COMPLETED when nothing fails:
// the wait lasts until the last task is done.
#[test]
fn first_exception_without_failures_waits_for_all() {
    let pool = new_pool(2);
    let gate = Gate::new();
    let quick = pool.spawn(|| 1).unwrap();
    let slow = gated(&pool, &gate, 2);
    let (tx, rx) = mpsc::channel();
    let opener = {
        let gate = Arc::clone(&gate);
        thread::spawn(move || {
            let waiter: Probe = rx.recv().unwrap();
            waiter.wait_until_blocked();
            gate.open();
        })
    };
    tx.send(Probe::current()).unwrap();
    let w = wait([quick, slow], None, ReturnWhen::FirstException);
    assert!(w.not_done.is_empty());
    assert_eq!(outcomes(w.done), ["ok:1", "ok:2"]);
    opener.join().unwrap();
}

// Checks that a cancellation is not an exception for FIRST_EXCEPTION: with
// a cancelled task and a pending one, the wait runs to its time-out.
#[test]
fn cancelled_is_not_an_exception() {
    let (pending, promise) = never();
    let t = Instant::now();
    let w = wait(
        [cancelled(), pending],
        Some(SHORT),
        ReturnWhen::FirstException,
    );
    assert_timeout(t.elapsed(), SHORT);
    assert_eq!(outcomes(w.done), ["cancelled"]);
    promise.complete(Ok(3));
    assert_eq!(outcomes(w.not_done), ["ok:3"]);

    // A task cancelled while the wait runs does not end it either.
    let (to_cancel, to_cancel_promise) = never();
    let (other, other_promise) = never();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        tx.send(Probe::current()).unwrap();
        wait([to_cancel, other], None, ReturnWhen::FirstException)
    });
    let probe = rx.recv().unwrap();
    probe.wait_until_blocked();
    drop(to_cancel_promise); // a promise dropped unstarted cancels its task
    probe.wait_until_blocked();
    assert!(
        !waiter.is_finished(),
        "a cancellation ended FIRST_EXCEPTION"
    );
    other_promise.complete(Ok(4));
    let w = waiter.join().unwrap();
    assert!(w.not_done.is_empty());
    assert_eq!(outcomes(w.done), ["cancelled", "ok:4"]);
}

// Ports test_wait.py WaitTests.test_all_completed: every task, whatever its
// end (success, cancellation, failure, panic), is done.
#[test]
fn test_all_completed() {
    let pool = new_pool(2);
    let dividing = pool.submit_div(2, 0);
    let multiplying = pool.spawn(|| 2 * 21).unwrap();
    let w = wait(
        [successful(1), cancelled(), failed(), dividing, multiplying],
        None,
        ReturnWhen::AllCompleted,
    );
    assert!(w.not_done.is_empty());
    assert_eq!(
        outcomes(w.done),
        [
            "ok:1",
            "cancelled",
            "error:task failed in worker: boom",
            "panic:attempt to divide by zero",
            "ok:42"
        ]
    );
}

// Ports test_wait.py WaitTests.test_timeout: on time-out wait returns the
// split, without an error, after about the time-out.
#[test]
fn test_timeout() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let slow = gated(&pool, &gate, 7);
    let t = Instant::now();
    let w = wait(
        [cancelled(), failed(), successful(1), slow],
        Some(SHORT),
        ReturnWhen::AllCompleted,
    );
    assert_timeout(t.elapsed(), SHORT);
    assert_eq!(
        outcomes(w.done),
        ["cancelled", "error:task failed in worker: boom", "ok:1"]
    );
    assert_eq!(finish(w.not_done, &gate, vec![]), ["ok:7"]);

    // A zero time-out is a poll.
    let (pending, _promise) = never();
    let t = Instant::now();
    let w = wait(
        [successful(1), pending],
        Some(Duration::ZERO),
        ReturnWhen::AllCompleted,
    );
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!((w.done.len(), w.not_done.len()), (1, 1));
}

// Ports test_wait.py ThreadPoolWaitTests.test_pending_calls_race (issue
// #14406): many tasks released at once, waited on all together.
#[test]
fn test_pending_calls_race() {
    let pool = new_pool(4);
    let gate = Gate::new();
    let tasks: Vec<_> = (0..100).map(|i| gated(&pool, &gate, i)).collect();
    gate.open();
    let w = wait(tasks, None, ReturnWhen::AllCompleted);
    assert!(w.not_done.is_empty());
    let expected: Vec<_> = (0..100).map(|i| format!("ok:{i}")).collect();
    assert_eq!(outcomes(w.done), expected);
}

// Checks that wait accepts tasks from several executors at once (and tasks
// made by hand): "accept futures from any mix of executors".
#[test]
fn tasks_from_different_executors() {
    let a = new_pool(1);
    let b = new_pool(1);
    let gate = Gate::new();
    let (by_hand, promise) = Task::pending();
    let tasks = vec![
        gated(&a, &gate, 1),
        gated(&b, &gate, 2),
        by_hand,
        a.spawn(|| 4).unwrap(),
    ];
    let completer = thread::spawn(move || promise.complete(Ok(3)));
    gate.open();
    let w = wait(tasks, None, ReturnWhen::AllCompleted);
    completer.join().unwrap();
    assert!(w.not_done.is_empty());
    assert_eq!(outcomes(w.done), ["ok:1", "ok:2", "ok:3", "ok:4"]);

    // FIRST_COMPLETED across pools: the one from the second pool wins.
    let gate_a = Gate::new();
    let w = wait(
        [gated(&a, &gate_a, 1), b.spawn(|| 2).unwrap()],
        None,
        ReturnWhen::FirstCompleted,
    );
    assert_eq!(outcomes(w.done), ["ok:2"]);
    assert_eq!(finish(w.not_done, &gate_a, vec![]), ["ok:1"]);
}

// Checks that waiting on no tasks returns at once, for every rule.
#[test]
fn zero_tasks() {
    for rule in [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::AllCompleted,
    ] {
        let t = Instant::now();
        let w = wait(Vec::<Task<i32>>::new(), None, rule);
        assert!(w.done.is_empty() && w.not_done.is_empty());
        assert!(t.elapsed() < Duration::from_secs(1));
    }
    assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
}

/// `submit(divmod, a, b)`: an integer division that panics on zero.
trait SubmitDiv {
    fn submit_div(&self, a: i32, b: i32) -> Task<i32>;
}

impl SubmitDiv for ThreadPoolExecutor {
    fn submit_div(&self, a: i32, b: i32) -> Task<i32> {
        use corun_concurrent::Submit;
        self.submit(|(a, b): (i32, i32)| a / b, (a, b)).unwrap()
    }
}
