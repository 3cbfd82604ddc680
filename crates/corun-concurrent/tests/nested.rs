//! Tasks that wait on tasks of their own pool. Python's
//! `ThreadPoolExecutor` deadlocks when every worker waits on a task still
//! queued behind it (its docs warn of it); corun's pool threads run the
//! pool's queued tasks while they wait, so nested submission completes
//! on any number of workers. What helping cannot untie (a wait on an event
//! only a queued task sets) still blocks, and is checked here to, as the
//! docs say.
//!
//! Every check that could deadlock runs under [`finishes`], which fails the
//! test after [`DEADLINE`] instead of hanging it.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use common::{DEADLINE, Gate, new_pool, poll_until};
use corun::threading::Event;
use corun_concurrent::{Executor, ReturnWhen, Task, ThreadPoolExecutor, as_completed, wait};

/// Runs `body` on its own thread and returns its value; fails the test if
/// it has not finished within [`DEADLINE`] (the thread is then left
/// behind, blocked).
#[track_caller]
fn finishes<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(body());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: deadlocked (not done after {DEADLINE:?})"))
}

/// How an outer task waits for its sub-tasks.
#[derive(Debug, Clone, Copy)]
enum Waiting {
    Result,
    ResultTimeout,
    Wait,
    AsCompleted,
    Map,
}

/// `outer` tasks on a pool of `workers`, each submitting ten sub-tasks to
/// the same pool and waiting for them `how`; the sum of every sub-task's
/// value.
fn nested(workers: usize, outer: usize, how: Waiting) -> u64 {
    let pool = Arc::new(new_pool(workers));
    let outers: Vec<Task<u64>> = (0..outer as u64)
        .map(|o| {
            let inner_pool = Arc::clone(&pool);
            pool.spawn(move || sub_tasks(&inner_pool, o, how)).unwrap()
        })
        .collect();
    let total = outers.into_iter().map(|t| t.result().unwrap()).sum();
    pool.shutdown(true, false);
    total
}

fn sub_tasks(pool: &ThreadPoolExecutor, o: u64, how: Waiting) -> u64 {
    let inputs = (0..10).map(move |i| o * 10 + i);
    if let Waiting::Map = how {
        return pool.map(|x: u64| x * x, inputs).map(Result::unwrap).sum();
    }
    let subs: Vec<Task<u64>> = inputs.map(|x| pool.spawn(move || x * x).unwrap()).collect();
    match how {
        Waiting::Result => subs.into_iter().map(|t| t.result().unwrap()).sum(),
        Waiting::ResultTimeout => subs
            .into_iter()
            .map(|mut t| t.result_timeout(DEADLINE).unwrap())
            .sum(),
        Waiting::Wait => {
            let waited = wait(subs, None, ReturnWhen::AllCompleted);
            assert!(waited.not_done.is_empty());
            waited.done.into_iter().map(|t| t.result().unwrap()).sum()
        }
        Waiting::AsCompleted => as_completed(subs, None)
            .map(|t| t.unwrap().result().unwrap())
            .sum(),
        Waiting::Map => unreachable!(),
    }
}

fn expected(outer: usize) -> u64 {
    (0..outer as u64 * 10).map(|x| x * x).sum()
}

#[test]
fn nested_waits_complete_on_one_two_and_eight_workers() {
    for workers in [1, 2, 8] {
        for outer in [1, workers, 2 * workers] {
            let total = finishes(
                &format!("{outer} outer tasks on {workers} workers"),
                move || nested(workers, outer, Waiting::Result),
            );
            assert_eq!(total, expected(outer), "{outer} outer on {workers} workers");
        }
    }
}

#[test]
fn every_kind_of_wait_helps() {
    for how in [
        Waiting::ResultTimeout,
        Waiting::Wait,
        Waiting::AsCompleted,
        Waiting::Map,
    ] {
        let total = finishes(&format!("waiting by {how:?}"), move || nested(2, 2, how));
        assert_eq!(total, expected(2), "{how:?}");
    }
}

// Deeper nesting: each level submits two sub-tasks and waits for both, down
// to a depth of 6 (64 leaves) on 2 workers.
#[test]
fn recursive_nesting_completes() {
    fn fib_like(pool: &Arc<ThreadPoolExecutor>, depth: u32) -> u64 {
        if depth == 0 {
            return 1;
        }
        let halves: Vec<Task<u64>> = (0..2)
            .map(|_| {
                let pool2 = Arc::clone(pool);
                pool.spawn(move || fib_like(&pool2, depth - 1)).unwrap()
            })
            .collect();
        halves.into_iter().map(|t| t.result().unwrap()).sum()
    }
    let leaves = finishes("recursive nesting", || {
        let pool = Arc::new(new_pool(2));
        let root = Arc::clone(&pool);
        pool.spawn(move || fib_like(&root, 6))
            .unwrap()
            .result()
            .unwrap()
    });
    assert_eq!(leaves, 64);
}

// A task cancelled while queued is not run by a helping worker: the one
// worker waits on the first sub-task, the second was cancelled first.
#[test]
fn helping_skips_cancelled_tasks() {
    let ran = Arc::new(AtomicBool::new(false));
    let ran2 = Arc::clone(&ran);
    let (skipped, first) = finishes("cancel while helping", move || {
        let pool = Arc::new(new_pool(1));
        let inner = Arc::clone(&pool);
        let outer = pool.spawn(move || {
            let first = inner.spawn(|| 1).unwrap();
            let second = inner.spawn(move || ran2.store(true, SeqCst)).unwrap();
            assert!(second.cancel());
            let value = first.result().unwrap();
            (second.result().unwrap_err().is_cancelled(), value)
        });
        outer.unwrap().result().unwrap()
    });
    assert!(skipped);
    assert_eq!(first, 1);
    assert!(!ran.load(SeqCst), "a cancelled task ran");
}

// A wait with a time-out on a task nobody completes still times out on a
// pool thread, after running what was queued meanwhile.
#[test]
fn helping_honours_time_outs() {
    let (timed_out, helped) = finishes("a timed wait while helping", || {
        let pool = Arc::new(new_pool(1));
        let inner = Arc::clone(&pool);
        pool.spawn(move || {
            let queued: Vec<Task<u32>> = (0..5).map(|i| inner.spawn(move || i).unwrap()).collect();
            let (mut never, _promise) = Task::<()>::pending();
            let timed_out = never
                .result_timeout(Duration::from_millis(50))
                .unwrap_err()
                .is_timeout();
            assert!(!never.wait_timeout(Duration::from_millis(10)));
            let waited = wait(
                [never],
                Some(Duration::from_millis(10)),
                ReturnWhen::AllCompleted,
            );
            assert_eq!(waited.not_done.len(), 1);
            let helped = queued.iter().all(Task::done);
            (timed_out, helped)
        })
        .unwrap()
        .result()
        .unwrap()
    });
    assert!(timed_out);
    assert!(
        helped,
        "the queued tasks did not run while the worker waited"
    );
}

// Shutting the pool down (cancelling what is queued) while its only worker
// helps: the helper stops taking tasks, the queued ones are cancelled and
// never run, and the waiting task goes on once its own task is done.
#[test]
fn helping_honours_shutdown() {
    let pool = Arc::new(new_pool(1));
    let inner = Arc::clone(&pool);
    let gate = Gate::new();
    let gate2 = Arc::clone(&gate);
    let ran = Arc::new(AtomicUsize::new(0));
    let ran2 = Arc::clone(&ran);
    let (awaited, promise) = Task::<u32>::pending();
    let (queued_tx, queued_rx) = mpsc::channel();
    let outer = pool
        .spawn(move || {
            // The worker helps with this one first, and stays in it until
            // the test opens the gate.
            let holder = inner.spawn(move || gate2.wait()).unwrap();
            let queued: Vec<Task<()>> = (0..5)
                .map(|_| {
                    let ran = Arc::clone(&ran2);
                    inner
                        .spawn(move || {
                            ran.fetch_add(1, SeqCst);
                        })
                        .unwrap()
                })
                .collect();
            queued_tx.send((holder, queued)).unwrap();
            awaited.result().unwrap()
        })
        .unwrap();
    let (holder, queued) = queued_rx.recv_timeout(DEADLINE).unwrap();
    poll_until("the helper runs the gated task", || holder.running());
    pool.shutdown(false, true);
    assert!(queued.iter().all(Task::cancelled));
    gate.open();
    holder.wait();
    promise.complete(Ok(7));
    assert_eq!(outer.result().unwrap(), 7);
    pool.shutdown(true, false);
    assert_eq!(ran.load(SeqCst), 0, "a cancelled task ran");
}

// What helping cannot untie, as the docs say: a wait on something other
// than a task — here an `Event` that only a queued task sets — runs
// nothing meanwhile. On one worker it times out; the setter runs after.
#[test]
fn a_wait_on_an_event_set_by_a_queued_task_does_not_help() {
    let (set_in_time, set_later) = finishes("an event wait", || {
        let pool = Arc::new(new_pool(1));
        let inner = Arc::clone(&pool);
        let event = Arc::new(Event::new());
        let seen = Arc::clone(&event);
        let set_in_time = pool
            .spawn(move || {
                let setter = Arc::clone(&seen);
                let _setter = inner.spawn(move || setter.set()).unwrap();
                seen.wait_timeout(Duration::from_millis(100))
            })
            .unwrap()
            .result()
            .unwrap();
        pool.shutdown(true, false);
        (set_in_time, event.is_set())
    });
    assert!(
        !set_in_time,
        "the event was set while its setter was queued"
    );
    assert!(set_later);
}

// A thread that is not a pool thread waits as before: it runs nothing.
#[test]
fn other_threads_do_not_help() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let gate2 = Arc::clone(&gate);
    let blocker = pool.spawn(move || gate2.wait()).unwrap();
    let queued = pool
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap();
    let (never, _promise) = Task::<()>::pending();
    assert!(!never.wait_timeout(Duration::from_millis(20)));
    assert!(!queued.done(), "the main thread ran a queued task");
    gate.open();
    blocker.result().unwrap();
    let name = queued.result().unwrap().unwrap();
    assert!(name.starts_with("ThreadPoolExecutor"), "{name}");
}

// The other knot the docs name: a helped task runs on the waiting task's
// thread, under it, so it cannot take a lock the waiting task holds. Here
// the helped task tries for 100 ms and gives up; with a plain `lock()` it
// would wait forever.
#[test]
fn a_helped_task_cannot_take_a_lock_its_waiter_holds() {
    let got_it = finishes("a lock held across a wait", || {
        let pool = Arc::new(new_pool(1));
        let inner = Arc::clone(&pool);
        let lock = Arc::new(parking_lot::Mutex::new(()));
        pool.spawn(move || {
            let _held = lock.lock();
            let wanted = Arc::clone(&lock);
            let sub = inner
                .spawn(move || wanted.try_lock_for(Duration::from_millis(100)).is_some())
                .unwrap();
            sub.result().unwrap()
        })
        .unwrap()
        .result()
        .unwrap()
    });
    assert!(!got_it, "the helped task took a lock its waiter held");
}
