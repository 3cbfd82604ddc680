//! Behaviour of [`as_completed`], ported from CPython's
//! `Lib/test/test_concurrent_futures/test_as_completed.py`
//! (`AsCompletedTests`), adapted to the Rust API: the iterator yields each
//! task by value (`Ok(task)`), and a time-out is one `Err` item after which
//! the iteration ends (Python raises `TimeoutError` from `__next__`).
//!
//! Not ported: `test_duplicate_futures` (a `Task` cannot be cloned),
//! `test_free_reference_yielded_future` (the iterator gives up each task it
//! yields by moving it out; there is no reference left to free), and
//! `test_correct_timeout_exception_msg` (the error does not say how many
//! tasks were unfinished: `Error::timeout` carries no detail).

mod common;

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{Gate, Probe, assert_timeout, cancelled, describe, failed, new_pool, successful};
use corun_concurrent::{AsCompleted, Task, as_completed};

/// The time-out used where a wait must really run out.
const SHORT: Duration = Duration::from_millis(50);

/// The outcome of each yielded item: the task's (`ok:…`, `cancelled`, …),
/// or `timeout` for the time-out error.
fn drain(iter: AsCompleted<i32>) -> Vec<String> {
    iter.map(|item| match item {
        Ok(task) => {
            assert!(task.done(), "a yielded task is done");
            describe(task.result())
        }
        Err(e) => describe::<()>(Err(e)),
    })
    .collect()
}

/// Sorted, for comparing sets of outcomes (Python's test compares sets).
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

// Ports test_as_completed.py AsCompletedTests.test_no_timeout: every task is
// yielded once — the done ones (cancelled, failed, successful) and the pool's.
#[test]
fn test_no_timeout() {
    let pool = new_pool(2);
    let tasks = vec![
        cancelled(),
        failed(),
        successful(1),
        pool.spawn(|| 2 * 21).unwrap(),
        pool.spawn(|| 7 * 6).unwrap(),
    ];
    let got = drain(as_completed(tasks, None));
    assert_eq!(
        sorted(got),
        sorted(
            [
                "cancelled",
                "error:task failed in worker: boom",
                "ok:1",
                "ok:42",
                "ok:42"
            ]
            .map(str::to_owned)
            .to_vec()
        )
    );
}

// Ports test_as_completed.py AsCompletedTests.test_future_times_out, for
// time-outs of 0 and a short one: the done tasks are yielded, then one
// time-out error after about the time-out, then the iteration ends; the
// task that was not done is never yielded.
#[test]
fn test_future_times_out() {
    let pool = new_pool(1);
    for timeout in [Duration::ZERO, SHORT] {
        let gate = Gate::new();
        let slow = {
            let gate = Arc::clone(&gate);
            pool.spawn(move || {
                gate.wait();
                0
            })
            .unwrap()
        };
        let t = Instant::now();
        let got = drain(as_completed(
            [cancelled(), failed(), slow, successful(1)],
            Some(timeout),
        ));
        assert_timeout(t.elapsed(), timeout);
        assert_eq!(
            got,
            [
                "cancelled",
                "error:task failed in worker: boom",
                "ok:1",
                "timeout"
            ]
        );
        gate.open();
    }
}

// Checks that tasks already done are yielded first (in input order), then
// the others in the order they complete.
#[test]
fn done_first_then_completion_order() {
    let mut promises: Vec<_> = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (t, p) = Task::pending();
        tasks.push(t);
        promises.push(Some(p));
    }
    tasks.insert(1, successful(100));
    tasks.push(cancelled());
    let mut iter = as_completed(tasks, None);
    // Completed after the call, before iterating: completion order counts.
    for i in [2, 0] {
        promises[i].take().unwrap().complete(Ok(i as i32));
    }
    let mut next = || describe(iter.next().unwrap().unwrap().result());
    assert_eq!(next(), "ok:100", "done at the call: first");
    assert_eq!(next(), "cancelled", "done at the call: in input order");
    assert_eq!(next(), "ok:2");
    assert_eq!(next(), "ok:0");
    for i in [3, 1] {
        promises[i].take().unwrap().complete(Ok(i as i32));
    }
    assert_eq!(next(), "ok:3");
    assert_eq!(next(), "ok:1");
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
}

// Checks completion order with tasks completing in pool workers while the
// iterator waits: each is yielded as its gate opens.
#[test]
fn completion_order_across_threads() {
    let pool = new_pool(3);
    let gates: Vec<_> = (0..3).map(|_| Gate::new()).collect();
    let tasks: Vec<_> = gates
        .iter()
        .enumerate()
        .map(|(i, gate)| {
            let gate = Arc::clone(gate);
            pool.spawn(move || {
                gate.wait();
                i as i32
            })
            .unwrap()
        })
        .collect();
    let mut iter = as_completed(tasks, None);
    for i in [2, 0, 1] {
        gates[i].open();
        let task = iter.next().unwrap().unwrap();
        assert_eq!(task.result().unwrap(), i as i32);
    }
    assert!(iter.next().is_none());
}

// Checks that a blocked iteration is woken by a completion in another
// thread.
#[test]
fn wakes_on_completion() {
    let (task, promise) = Task::pending();
    let (tx, rx) = mpsc::channel();
    let completer = thread::spawn(move || {
        let waiter: Probe = rx.recv().unwrap();
        waiter.wait_until_blocked();
        promise.complete(Ok(5));
    });
    let mut iter = as_completed([task], None);
    tx.send(Probe::current()).unwrap();
    assert_eq!(iter.next().unwrap().unwrap().result().unwrap(), 5);
    assert!(iter.next().is_none());
    completer.join().unwrap();
}

// Checks that the time-out is one deadline from the call, not per item:
// with it already past, a done task is still yielded, then the time-out
// error comes at once.
#[test]
fn timeout_is_one_deadline_from_the_call() {
    let (pending, _promise) = Task::pending();
    let mut iter = as_completed([pending, successful(1)], Some(SHORT));
    thread::sleep(SHORT + Duration::from_millis(30)); // time is the subject
    let t = Instant::now();
    assert_eq!(iter.next().unwrap().unwrap().result().unwrap(), 1);
    assert!(iter.next().unwrap().unwrap_err().is_timeout());
    assert!(t.elapsed() < SHORT, "{:?}", t.elapsed());
    assert!(iter.next().is_none(), "a time-out ends the iteration");
}

// Checks that as_completed accepts tasks from several executors (and made
// by hand): "accept futures from any mix of executors".
#[test]
fn tasks_from_different_executors() {
    let a = new_pool(1);
    let b = new_pool(1);
    let gate = Gate::new();
    let (by_hand, promise) = Task::pending();
    let gated_a = {
        let gate = Arc::clone(&gate);
        a.spawn(move || {
            gate.wait();
            1
        })
        .unwrap()
    };
    let mut iter = as_completed([gated_a, by_hand, b.spawn(|| 2).unwrap()], None);
    assert_eq!(iter.next().unwrap().unwrap().result().unwrap(), 2);
    promise.complete(Ok(3));
    assert_eq!(iter.next().unwrap().unwrap().result().unwrap(), 3);
    gate.open();
    assert_eq!(iter.next().unwrap().unwrap().result().unwrap(), 1);
    assert!(iter.next().is_none());
}

// Checks that no tasks give an empty iteration at once, with or without a
// time-out.
#[test]
fn zero_tasks() {
    let t = Instant::now();
    assert!(as_completed(Vec::<Task<i32>>::new(), None).next().is_none());
    let mut iter = as_completed(Vec::<Task<i32>>::new(), Some(Duration::ZERO));
    assert!(
        iter.next().is_none(),
        "no time-out error when nothing waits"
    );
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(format!("{iter:?}").contains("remaining: 0"));
}
