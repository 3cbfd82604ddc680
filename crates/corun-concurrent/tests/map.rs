//! Behaviour of [`Executor::map`], ported from CPython's
//! `Lib/test/test_concurrent_futures/executor.py` (`ExecutorTest.test_map`,
//! `test_map_exception`, `test_map_timeout`, `test_map_buffersize*`) and
//! `test_thread_pool.py` (`test_map_submits_without_iteration`), adapted to
//! the Rust API: `map` takes one iterable (zip several into tuples), reads it
//! lazily with `256 × max_workers` tasks in flight (not done; Python 3.14's
//! `buffersize` counts results not yet taken instead), and its items are
//! `Result`s: the first `Err` ends it.
//!
//! Not ported: `test_map_buffersize_on_infinite_iterable` needs nothing
//! special here (inputs are always lazy; see `inputs_are_read_lazily`);
//! `test_map_buffersize_validation` (no such argument); `chunksize` (a
//! process-pool option).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use common::{Gate, assert_timeout, describe, new_pool, poll_until};
use corun_concurrent::Executor;

// Ports executor.py ExecutorTest.test_map: results come in input order,
// even when the tasks finish in another order.
#[test]
fn test_map() {
    let pool = new_pool(4);
    let results: Vec<i64> = pool
        .map(|x: i64| x.pow(2), -50..50)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        results,
        (-50..50).map(|x: i64| x.pow(2)).collect::<Vec<_>>()
    );

    // Item 0 finishes only after item 1 has: map still yields 0 first.
    let pool = new_pool(2);
    let one_done = Gate::new();
    let f = {
        let one_done = Arc::clone(&one_done);
        move |i: i32| {
            if i == 0 {
                one_done.wait();
            } else if i == 1 {
                one_done.open();
            }
            i * 10
        }
    };
    let results: Vec<i32> = pool.map(f, 0..6).map(Result::unwrap).collect();
    assert_eq!(results, [0, 10, 20, 30, 40, 50]);
}

// Checks that an empty input gives an empty map, without starting a thread.
#[test]
fn map_of_nothing() {
    let pool = new_pool(2);
    assert_eq!(pool.map(|x: i32| x, Vec::new()).count(), 0);
    assert_eq!(pool.workers(), 0);
}

// Ports executor.py ExecutorTest.test_map_exception: `map(divmod, [1, 1,
// 1, 1], [2, 3, 0, 5])` yields two results, then the division's error; the
// iteration ends there.
#[test]
fn test_map_exception() {
    let pool = new_pool(2);
    let mut results = pool.map(|(a, b): (i32, i32)| a / b, [(1, 2), (1, 3), (1, 0), (1, 5)]);
    assert_eq!(results.next().unwrap().unwrap(), 0);
    assert_eq!(results.next().unwrap().unwrap(), 0);
    let err = results.next().unwrap().unwrap_err();
    assert!(err.is_panic(), "{err}");
    assert!(
        err.panic_message().unwrap().contains("divide by zero"),
        "{err}"
    );
    assert!(results.next().is_none(), "the first error ends the map");
    assert!(results.next().is_none());
}

// Checks that a map stops at the first error even with many inputs left:
// nothing after it is yielded, and inputs past what the window holds (16 ×
// its 512 in flight) are never read.
#[test]
fn map_stops_at_first_error() {
    let pool = new_pool(2);
    let read = Arc::new(AtomicUsize::new(0));
    let inputs = {
        let read = Arc::clone(&read);
        (0..100_000).inspect(move |_| {
            read.fetch_add(1, SeqCst);
        })
    };
    let outcomes: Vec<String> = pool
        .map(
            |i: i32| {
                assert!(i != 3, "bad input {i}");
                i
            },
            inputs,
        )
        .map(describe)
        .collect();
    assert_eq!(outcomes, ["ok:0", "ok:1", "ok:2", "panic:bad input 3"]);
    assert!(
        read.load(SeqCst) <= 16 * 512 + 4,
        "read {} inputs",
        read.load(SeqCst)
    );
}

// Ports executor.py ExecutorTest.test_map_timeout: `map(time.sleep, [0, 0,
// 6], timeout=5)` yields two results, then a time-out error, after about
// the time-out; the iteration ends there.
#[test]
fn test_map_timeout() {
    let timeout = Duration::from_millis(100);
    let pool = new_pool(3);
    let gate = Gate::new();
    let f = {
        let gate = Arc::clone(&gate);
        move |i: i32| {
            if i == 2 {
                gate.wait();
            }
            i
        }
    };
    let t = Instant::now();
    let outcomes: Vec<String> = pool.map_timeout(f, 0..3, timeout).map(describe).collect();
    assert_timeout(t.elapsed(), timeout);
    assert_eq!(outcomes, ["ok:0", "ok:1", "timeout"]);
    gate.open();
}

// Checks that map's time-out is one deadline counted from the map call
// (Python: "timeout is a total deadline measured from the map() call"):
// with the deadline already past, done items are still yielded, and the
// first unfinished one is a time-out error at once, not after another
// full time-out.
#[test]
fn map_timeout_is_one_deadline_from_the_call() {
    let timeout = Duration::from_millis(100);
    let pool = new_pool(2);
    let gate = Gate::new();
    let f = {
        let gate = Arc::clone(&gate);
        move |i: i32| {
            if i == 1 {
                gate.wait();
            }
            i
        }
    };
    let mut results = pool.map_timeout(f, 0..4, timeout);
    thread::sleep(timeout + Duration::from_millis(50)); // time is the subject
    let t = Instant::now();
    assert_eq!(
        results.next().unwrap().unwrap(),
        0,
        "a done item is yielded"
    );
    assert!(results.next().unwrap().unwrap_err().is_timeout());
    assert!(
        t.elapsed() < timeout / 2,
        "the time-out came after {:?}, not at the deadline",
        t.elapsed()
    );
    assert!(results.next().is_none(), "a time-out ends the map");
    gate.open();
}

// Checks that the deadline covers the whole map: items that each take less
// than the time-out, one after another on one worker, together exceed it.
#[test]
fn map_timeout_is_total_not_per_item() {
    let timeout = Duration::from_millis(100);
    let pool = new_pool(1);
    let t = Instant::now();
    let outcomes: Vec<String> = pool
        .map_timeout(
            |i: i32| {
                thread::sleep(Duration::from_millis(40)); // time is the subject
                i
            },
            0..10,
            timeout,
        )
        .map(describe)
        .collect();
    assert_timeout(t.elapsed(), timeout);
    let (last, done) = outcomes.split_last().unwrap();
    assert_eq!(last, "timeout", "{outcomes:?}");
    assert!(done.len() < 3, "{outcomes:?}");
    assert!(done.iter().all(|o| o.starts_with("ok:")), "{outcomes:?}");
}

// Ports test_thread_pool.py ThreadPoolExecutorTest.test_map_submits_without_iteration:
// the work starts when map is called, before the first `next` — here all
// ten inputs, as in Python, since they fit the window of 256 × 2 workers.
#[test]
fn test_map_submits_without_iteration() {
    let pool = new_pool(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let f = {
        let ran = Arc::clone(&ran);
        move |_: i32| {
            ran.fetch_add(1, SeqCst);
        }
    };
    let results = pool.map(f, 0..10);
    pool.shutdown(true, false);
    assert_eq!(ran.load(SeqCst), 10);
    drop(results);
}

// Ports executor.py ExecutorTest.test_map_buffersize_on_infinite_iterable
// / test_map_buffersize_when_buffer_is_full: inputs are read lazily — a
// window of 256 × max_workers at the call, more only as tasks finish, and
// never more than the window holds (16 × in flight) beyond what was taken.
#[test]
fn inputs_are_read_lazily() {
    let pool = new_pool(1);
    let read = Arc::new(AtomicUsize::new(0));
    let inputs = {
        let read = Arc::clone(&read);
        (0..).inspect(move |_| {
            read.fetch_add(1, SeqCst);
        })
    };
    let mut results = pool.map(|i: u64| i + 1, inputs);
    assert_eq!(read.load(SeqCst), 256, "the window is filled at the call");
    assert!(format!("{results:?}").contains("in_flight: 256"));
    let firsts: Vec<u64> = results.by_ref().take(100).map(Result::unwrap).collect();
    assert_eq!(firsts, (1..=100).collect::<Vec<_>>());
    let read_now = read.load(SeqCst);
    assert!(read_now <= 100 + 16 * 256, "read {read_now} inputs");
    drop(results);
    pool.shutdown(true, false);
    assert_eq!(
        read.load(SeqCst),
        read_now,
        "inputs read after the map was dropped"
    );
}

// Checks that a slow task at the head does not stop `map` from keeping the
// workers busy: while the first task is held at a gate, the 2 other
// workers run the next 2000 inputs — far past the 768 tasks in flight — and
// the results come out in input order once the gate opens.
#[test]
fn a_slow_head_does_not_stop_the_others() {
    let pool = new_pool(3);
    let gate = Gate::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let f = {
        let gate = Arc::clone(&gate);
        let ran = Arc::clone(&ran);
        move |i: u32| {
            if i == 0 {
                gate.wait();
            } else {
                ran.fetch_add(1, SeqCst);
            }
            i
        }
    };
    let results: Vec<u32> = thread::scope(|s| {
        let consumer = s.spawn(|| pool.map(f, 0..2001).map(Result::unwrap).collect());
        poll_until("the 2000 tasks behind the head ran", || {
            ran.load(SeqCst) == 2000
        });
        gate.open();
        consumer.join().unwrap()
    });
    assert_eq!(results, (0..2001).collect::<Vec<_>>());
}

// Checks that dropping a map early cancels its tasks that have not started
// (Python: closing the generator cancels the pending futures); the running
// one is not interrupted.
#[test]
fn dropping_the_map_cancels_what_waits() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let started = Arc::new(AtomicUsize::new(0));
    let f = {
        let gate = Arc::clone(&gate);
        let started = Arc::clone(&started);
        move |_: i32| {
            started.fetch_add(1, SeqCst);
            gate.wait();
        }
    };
    let results = pool.map(f, 0..10);
    poll_until("the first task runs", || started.load(SeqCst) == 1);
    drop(results);
    gate.open();
    pool.shutdown(true, false);
    assert_eq!(started.load(SeqCst), 1, "the queued task was cancelled");
}

// Checks that a map on a pool that was shut down yields one shut-down
// error and ends.
#[test]
fn map_after_shutdown() {
    let pool = new_pool(1);
    pool.shutdown(true, false);
    let outcomes: Vec<String> = pool.map(|x: i32| x, 0..5).map(describe).collect();
    assert_eq!(outcomes, ["shutdown"]);
}

// Checks that a submission refused part-way (the pool was shut down while
// the map read its inputs) comes at its place in input order: the tasks
// already accepted are yielded first (shutdown(wait=false) lets them run),
// then the error, then the end.
#[test]
fn refused_submission_comes_after_the_accepted_tasks() {
    let pool = new_pool(1);
    let inputs = (0..10).inspect(|&i| {
        if i == 3 {
            pool.shutdown(false, false);
        }
    });
    let outcomes: Vec<String> = pool.map(|x: i32| x, inputs).map(describe).collect();
    assert_eq!(outcomes, ["ok:0", "ok:1", "ok:2", "shutdown"]);
}

// Checks the shared window in completion order (what `Pool::imap_unordered`
// uses): a task that finishes first is yielded first, however it was
// submitted; the deadline ends the iteration with a time-out, and the task
// still waiting is cancelled.
#[test]
fn unordered_window_yields_in_completion_order_until_its_deadline() {
    use corun_concurrent::{Submit, Window};

    let pool = new_pool(2);
    let gate = Gate::new();
    let submit = |i: u32| {
        let gate = Arc::clone(&gate);
        pool.submit(
            move |()| {
                if i == 0 {
                    gate.wait(); // the first input finishes last
                }
                i
            },
            (),
        )
    };
    let mut window = Window::unordered(0..2_u32, 2, submit, None);
    assert_eq!(window.next().unwrap().unwrap(), 1);
    gate.open();
    assert_eq!(window.next().unwrap().unwrap(), 0);
    assert!(window.next().is_none());

    let blocked = Gate::new();
    let submit = |()| {
        let blocked = Arc::clone(&blocked);
        pool.submit(move |()| blocked.wait(), ())
    };
    let t = Instant::now();
    let timeout = Duration::from_millis(50);
    let mut window = Window::unordered(std::iter::repeat_n((), 3), 1, submit, Some(timeout));
    assert!(window.next().unwrap().unwrap_err().is_timeout());
    assert_timeout(t.elapsed(), timeout);
    assert!(window.next().is_none(), "a time-out ends the iteration");
    blocked.open();
    pool.shutdown(true, false);
}

// Checks that memory stays bounded past a slow head: with the first task
// held at a gate and an endless input, the window reads inputs until it
// holds 16 × its 512 tasks in flight, and no further.
#[test]
fn past_a_slow_head_the_window_holds_a_bounded_number() {
    let pool = new_pool(2);
    let gate = Gate::new();
    let read = Arc::new(AtomicUsize::new(0));
    let inputs = {
        let read = Arc::clone(&read);
        (0_u64..).inspect(move |_| {
            read.fetch_add(1, SeqCst);
        })
    };
    let f = {
        let gate = Arc::clone(&gate);
        move |i: u64| {
            if i == 0 {
                gate.wait();
            }
            i
        }
    };
    thread::scope(|s| {
        let consumer = s.spawn(|| {
            let mut results = pool.map(f, inputs);
            let firsts: Vec<u64> = results.by_ref().take(3).map(Result::unwrap).collect();
            (firsts, format!("{results:?}"))
        });
        poll_until("the window is full", || read.load(SeqCst) >= 8192);
        assert_eq!(read.load(SeqCst), 8192, "read past the window's bound");
        gate.open();
        let (firsts, debug) = consumer.join().unwrap();
        assert_eq!(firsts, [0, 1, 2]);
        assert!(debug.contains("in_flight: 512"), "{debug}");
    });
}
