//! `ProcessPoolExecutor`, the `Executor` face of the process pool: submit,
//! map, shutdown, tasks mixed with a thread pool's in `wait` and
//! `as_completed`, and the same generic code run over threads and
//! processes — ported from CPython's
//! `Lib/test/test_concurrent_futures/` (`test_process_pool.py`,
//! `test_shutdown.py`, `test_wait.py`, `test_as_completed.py`) where it has
//! the same test. Each test checks that it leaves nothing behind.

mod common;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::Duration;

use common::{Gate, is_gone, isolated, pairs, rendezvous, temp_path, wait_at_gate};
use corun_concurrent::{
    Executor, ReturnWhen, Submit, Task, ThreadPoolExecutor, as_completed, wait,
};
use corun_multiprocessing::test_hooks::Pipelines;
use corun_multiprocessing::{ProcessPoolExecutor, Value, current_process};
use corun_test_support::{DEADLINE, Probe, poll_until};
use rustix::process::{Pid, Signal, kill_process};

corun_multiprocessing::enable_test_workers!();

fn square(x: u64) -> u64 {
    x * x
}

fn pid(_: ()) -> u32 {
    current_process().pid()
}

fn gated(gate: String) -> u64 {
    wait_at_gate(&gate);
    u64::from(current_process().pid())
}

/// Leaves a mark at `path`, proof that it ran, and says which worker ran
/// it.
fn mark_and_pid(path: String) -> u32 {
    std::fs::write(path, b"ran").unwrap();
    current_process().pid()
}

fn square_but_not_five(x: u64) -> u64 {
    assert_ne!(x, 5, "five is not welcome");
    x * x
}

fn init_greeting(greeting: String) {
    GREETING.set(greeting).unwrap();
}

static GREETING: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn greet(name: String) -> String {
    format!("{} {name}", GREETING.get().map_or("(none)", String::as_str))
}

/// Generic over the executor: the same code for threads and processes.
fn squares_via<E>(executor: &E, n: u64) -> (Vec<u64>, u64)
where
    E: Executor + Submit<fn(u64) -> u64, u64, u64>,
{
    let f: fn(u64) -> u64 = square;
    let mapped: Vec<u64> = executor.map(f, 0..n).map(Result::unwrap).collect();
    let submitted = executor.submit(f, n).unwrap().result().unwrap();
    (mapped, submitted)
}

fn build(workers: usize) -> ProcessPoolExecutor {
    ProcessPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .unwrap()
}

// Port of `ExecutorTest.test_submit`: `submit` returns a task with the
// value.
#[test]
fn test_submit() {
    isolated(|| {
        let pool = build(2);
        assert_eq!(pool.max_workers(), 2);
        assert_eq!(pool.submit(square, 8).unwrap().result().unwrap(), 64);
        let worker = pool.submit(pid, ()).unwrap().result().unwrap();
        assert!(pool.pids().contains(&worker));
        assert_ne!(worker, std::process::id());
        pool.shutdown(true, false);
    });
}

// Port of `ExecutorTest.test_map`: results in input order; and one
// generic function over a thread pool and a process pool gives the same
// results.
#[test]
fn test_map_on_threads_and_processes() {
    isolated(|| {
        let expected: Vec<u64> = (0..100).map(|x| x * x).collect();
        let threads = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let processes = build(2);
        assert_eq!(squares_via(&threads, 100), (expected.clone(), 10_000));
        assert_eq!(squares_via(&processes, 100), (expected, 10_000));
        threads.shutdown(true, false);
        processes.shutdown(true, false);
    });
}

// Port of `ExecutorTest.test_map_exception`: the map yields the results
// before the failing item, then its error, then ends.
#[test]
fn test_map_exception() {
    isolated(|| {
        let pool = build(2);
        let f: fn(u64) -> u64 = square_but_not_five;
        let mut it = pool.map(f, 0..20);
        for x in 0..5 {
            assert_eq!(it.next().unwrap().unwrap(), x * x);
        }
        let err = it.next().unwrap().unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert!(err.panic_message().unwrap().contains("five is not welcome"));
        assert!(it.next().is_none());
        drop(it);
        assert_eq!(pool.submit(square, 5).unwrap().result().unwrap(), 25);
    });
}

// Port of `test_shutdown.py`'s `test_cancel_futures`: shutdown(wait=true,
// cancel_pending=true) cancels the tasks still queued, lets the running
// one finish, and returns once the workers are gone; then submissions are
// refused (`test_submit_after_interpreter_shutdown`'s error).
#[test]
fn test_cancel_futures() {
    isolated(|| {
        let pool = build(1);
        let gate = Gate::new();
        let running = pool.submit(gated, gate.path()).unwrap();
        let held = gate.hold();
        let queued: Vec<Task<u64>> = (0..10).map(|i| pool.submit(square, i).unwrap()).collect();
        let workers = pool.pids();
        std::thread::scope(|s| {
            let shutting = s.spawn(|| pool.shutdown(true, true));
            poll_until("the queued tasks are cancelled", || {
                queued.iter().all(Task::cancelled)
            });
            assert!(!running.done());
            drop(held);
            shutting.join().unwrap();
        });
        assert_eq!(running.result().unwrap(), u64::from(workers[0]));
        for task in queued {
            assert!(task.result().unwrap_err().is_cancelled());
        }
        assert!(pool.pids().is_empty());
        assert!(is_gone(workers[0]));
        let err = pool.submit(square, 1).unwrap_err();
        assert!(err.is_shutdown(), "{err}");
        pool.shutdown(true, true); // harmless twice
    });
}

// Python's shutdown(wait=True) waits for the pending work in every thread
// that calls it (each joins the executor's threads; CPython's tests call it
// from one thread at a time). Checks two threads shutting down at once:
// neither returns before the running task is done.
#[test]
fn concurrent_shutdowns_both_wait() {
    isolated(|| {
        let pool = build(1);
        let gate = Gate::new();
        let running = pool.submit(gated, gate.path()).unwrap();
        let held = gate.hold();
        let (pool, running) = (&pool, &running);
        std::thread::scope(|s| {
            let shutters: Vec<_> = (0..2)
                .map(|_| {
                    let (tx, rx) = mpsc::channel();
                    let shutter = s.spawn(move || {
                        tx.send(Probe::current()).unwrap();
                        pool.shutdown(true, false);
                        running.done()
                    });
                    (shutter, rx.recv().unwrap())
                })
                .collect();
            for (shutter, probe) in &shutters {
                if !shutter.is_finished() {
                    probe.wait_until_blocked();
                }
            }
            let early = shutters.iter().filter(|(s, _)| s.is_finished()).count();
            drop(held);
            let done_at_return: Vec<bool> = shutters
                .into_iter()
                .map(|(s, _)| s.join().unwrap())
                .collect();
            assert_eq!(
                early, 0,
                "a shutdown(wait) returned while the task still ran"
            );
            assert_eq!(done_at_return, [true, true]);
        });
        assert!(running.done());
        assert!(pool.pids().is_empty());
    });
}

// Checks `test_cancel_futures` where the worker has taken the queued tasks
// along behind its running one (as it does after short calls): they are
// still pending, so shutdown(cancel_pending=true) cancels them too, and
// none runs (Python's executor marks a call running as soon as it is
// queued for a worker, and cannot cancel it).
#[test]
fn shutdown_cancels_the_tasks_taken_behind_a_running_one() {
    isolated(|| {
        let pool = build(1);
        let f: fn(u64) -> u64 = square;
        let warm: Vec<u64> = pool.map(f, 0..50).map(Result::unwrap).collect();
        assert_eq!(warm.len(), 50);
        let gate = Gate::new();
        let running = pool.submit(gated, gate.path()).unwrap();
        let queued: Vec<Task<u64>> = (0..10).map(|i| pool.submit(square, i).unwrap()).collect();
        let held = gate.hold();
        std::thread::scope(|s| {
            let shutting = s.spawn(|| pool.shutdown(true, true));
            poll_until("the queued tasks are cancelled", || {
                queued.iter().all(Task::cancelled)
            });
            assert!(running.running());
            drop(held);
            shutting.join().unwrap();
        });
        running.result().unwrap();
        for task in queued {
            assert!(task.result().unwrap_err().is_cancelled());
        }
        assert!(pool.pids().is_empty());
    });
}

// Checks that two long tasks submitted back to back on a warm executor of
// two run at once, one on each worker, as in Python, however far it was
// writing short calls ahead: each, once started, sees the other start. In
// even rounds the executor has answered its short calls; in odd ones the
// long tasks queue right behind 2 000 short calls not yet run, so that a
// worker writing calls ahead may take both along. Twenty rounds, to catch
// races.
#[test]
fn two_long_tasks_on_a_warm_executor_run_at_once() {
    isolated(|| {
        let pool = build(2);
        let f: fn(u64) -> u64 = square;
        for round in 0..20 {
            let started = Value::new(0u32).unwrap();
            common::watch_segment(started.name());
            let short: Vec<Task<u64>> = if round % 2 == 0 {
                assert_eq!(pool.map(f, 0..2_000).filter(Result::is_ok).count(), 2_000);
                Vec::new()
            } else {
                (0..2_000)
                    .map(|i| pool.submit(square, i).unwrap())
                    .collect()
            };
            let long: Vec<Task<bool>> = (0..2)
                .map(|_| pool.submit(rendezvous, (started.clone(), 2)).unwrap())
                .collect();
            let met: Vec<bool> = long.into_iter().map(|t| t.result().unwrap()).collect();
            assert_eq!(met, [true, true], "round {round}: one ran after the other");
            for (i, task) in (0..).zip(short) {
                assert_eq!(task.result().unwrap(), i * i);
            }
        }
        pool.shutdown(true, false);
    });
}

// Checks that long tasks submitted back to back on a warm executor, or
// given to its `map`, keep both workers busy at once, in the order given
// (as Python's executor): eight meeting two by two all meet. Five rounds
// of each.
#[test]
fn long_tasks_on_a_warm_executor_use_both_workers() {
    isolated(|| {
        let pool = build(2);
        let f: fn(u64) -> u64 = square;
        let meet: fn((Value<u32>, u32)) -> bool = rendezvous;
        for round in 0..5 {
            for how in ["submit", "map"] {
                let warm: Vec<Task<u64>> = (0..2_000).map(|i| pool.submit(f, i).unwrap()).collect();
                assert!(warm.into_iter().all(|t| t.result().is_ok()));
                let started = Value::new(0u32).unwrap();
                common::watch_segment(started.name());
                let items = pairs(&started, 8, 1);
                let met: Vec<bool> = if how == "map" {
                    pool.map(meet, items).map(Result::unwrap).collect()
                } else {
                    let tasks: Vec<Task<bool>> = items
                        .into_iter()
                        .map(|item| pool.submit(meet, item).unwrap())
                        .collect();
                    tasks.into_iter().map(|t| t.result().unwrap()).collect()
                };
                assert!(
                    met.iter().all(|&m| m),
                    "round {round}: {how}: tasks that should run side by side did not: {met:?}"
                );
            }
        }
        pool.shutdown(true, false);
    });
}

// Checks calls written ahead behind a long task, in its worker's socket,
// while the other worker is busy too: each is pending and cancels; once
// the other worker is free it takes back those not cancelled and runs them
// all while the long task still runs; the cancelled ones never run (their
// marks are absent once the workers are gone). How many calls the worker
// has written ahead when it reaches the long task is up to the threads'
// timing: an executor with none written ahead is shut down, cancelling
// everything queued, and the next try starts afresh.
#[test]
fn calls_written_ahead_are_taken_back_or_cancelled() {
    isolated(|| {
        let marks: Vec<_> = (0..10).map(|_| temp_path("mark")).collect();
        let f: fn(u64) -> u64 = square;
        for _ in 0..20 {
            let pool = build(2);
            assert_eq!(pool.map(f, 0..2_000).filter(Result::is_ok).count(), 2_000);
            let gates = [Gate::new(), Gate::new()];
            let first = pool.submit(gated, gates[0].path()).unwrap();
            let held_first = gates[0].hold();
            // The other worker runs short calls (so it writes calls ahead,
            // no worker being idle), then the long one, then `queued`.
            let short: Vec<Task<u64>> = (0..2_000)
                .map(|i| pool.submit(square, i).unwrap())
                .collect();
            let long = pool.submit(gated, gates[1].path()).unwrap();
            let queued: Vec<Task<u32>> = marks
                .iter()
                .map(|m| {
                    pool.submit(mark_and_pid, m.to_str().unwrap().to_owned())
                        .unwrap()
                })
                .collect();
            let held_long = gates[1].hold();
            for (i, task) in (0..).zip(short) {
                assert_eq!(task.result().unwrap(), i * i);
            }
            // The worker topped up before its last short reply was decoded:
            // what it holds now stays there until a worker is freed.
            if pool.written_ahead().iter().sum::<usize>() == 0 {
                pool.shutdown(false, true);
                drop((held_first, held_long));
                continue;
            }
            for (i, task) in queued.iter().enumerate() {
                assert!(!task.running(), "task {i} is reported running");
                if i % 2 == 0 {
                    assert!(task.cancel(), "task {i} cannot be cancelled");
                }
            }
            drop(held_first);
            let free = u32::try_from(first.result().unwrap()).unwrap();
            for (i, task) in queued.into_iter().enumerate() {
                if i % 2 == 0 {
                    assert!(task.result().unwrap_err().is_cancelled(), "task {i}");
                } else {
                    assert!(
                        task.wait_timeout(DEADLINE),
                        "task {i} waits behind the long one while a worker is idle"
                    );
                    assert_eq!(task.result().unwrap(), free, "task {i}");
                }
            }
            assert!(long.running());
            drop(held_long);
            assert_ne!(long.result().unwrap(), u64::from(free));
            pool.shutdown(true, false);
            for (i, mark) in marks.iter().enumerate() {
                assert_eq!(mark.exists(), i % 2 == 1, "task {i}");
                if i % 2 == 1 {
                    std::fs::remove_file(mark).unwrap();
                }
            }
            return;
        }
        panic!("no try left calls written ahead behind the long task");
    });
}

// Port of `test_shutdown.py`'s `test_processes_terminate`-style check
// without cancelling: shutdown(wait=true) runs the queue first.
#[test]
fn shutdown_runs_the_queue() {
    isolated(|| {
        let pool = build(2);
        let tasks: Vec<Task<u64>> = (0..30).map(|i| pool.submit(square, i).unwrap()).collect();
        pool.shutdown(true, false);
        assert!(pool.pids().is_empty());
        for (i, task) in (0..).zip(tasks) {
            assert!(task.done());
            assert_eq!(task.result().unwrap(), i * i);
        }
        assert!(pool.submit(square, 1).unwrap_err().is_shutdown());
    });
}

// Port of `test_wait.py` (`test_first_completed`, `test_all_completed`) and
// `test_as_completed.py`: tasks of a process pool and a thread pool waited
// on together.
#[test]
fn wait_and_as_completed_mix_threads_and_processes() {
    isolated(|| {
        let threads = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let processes = build(2);
        let gate = Gate::new();
        let blocked = processes.submit(gated, gate.path()).unwrap();
        let held = gate.hold();
        let quick = threads.submit(square as fn(u64) -> u64, 3).unwrap();
        let w = wait([blocked, quick], None, ReturnWhen::FirstCompleted);
        assert_eq!(w.done.len(), 1);
        assert_eq!(w.not_done.len(), 1);
        drop(held);
        let mut done = w.done;
        done.extend(w.not_done);
        let w = wait(done, None, ReturnWhen::AllCompleted);
        assert_eq!(w.done.len(), 2);
        assert!(w.not_done.is_empty());
        let results: BTreeSet<u64> = w.done.into_iter().map(|t| t.result().unwrap()).collect();
        assert!(results.contains(&9));

        let mut tasks = Vec::new();
        for i in 0..10 {
            tasks.push(processes.submit(square, i).unwrap());
            tasks.push(threads.submit(square as fn(u64) -> u64, i + 10).unwrap());
        }
        let mut all: Vec<u64> = as_completed(tasks, Some(Duration::from_secs(60)))
            .map(|t| t.unwrap().result().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..20).map(|x| x * x).collect::<Vec<_>>());
        threads.shutdown(true, false);
        processes.shutdown(true, false);
    });
}

// Port of `ProcessPoolExecutorTest.test_killed_child`: a worker killed from
// outside while it runs fails that task — in CPython the pool breaks; here
// the worker is replaced and the executor goes on.
#[test]
fn test_killed_child() {
    isolated(|| {
        let pool = build(1);
        let gate = Gate::new();
        let task = pool.submit(gated, gate.path()).unwrap();
        let _held = gate.hold();
        let victim = pool.pids()[0];
        kill_process(Pid::from_raw(victim as i32).unwrap(), Signal::KILL).unwrap();
        let err = task.result().unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("SIGKILL"), "{err}");
        assert_eq!(pool.submit(square, 4).unwrap().result().unwrap(), 16);
        assert!(!pool.pids().contains(&victim));
    });
}

// Port of `ProcessPoolExecutorTest.test_max_tasks_per_child`: one worker
// serves three tasks, then a new one serves the fourth.
#[test]
fn test_max_tasks_per_child() {
    isolated(|| {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(1)
            .max_tasks_per_child(3)
            .build()
            .unwrap();
        let pids: Vec<u32> = (0..3)
            .map(|_| pool.submit(pid, ()).unwrap().result().unwrap())
            .collect();
        assert!(pids.iter().all(|&p| p == pids[0]), "{pids:?}");
        let fourth = pool.submit(pid, ()).unwrap().result().unwrap();
        assert_ne!(fourth, pids[0]);
        assert!(is_gone(pids[0]));
    });
}

// Port of `test_init.py`'s `InitializerMixin.test_initializer`: each
// worker runs the initializer with its argument before its tasks; a
// failing one makes `build` fail (`FailingInitializerMixin`: there the
// pool breaks at the first submission).
#[test]
fn test_initializer() {
    isolated(|| {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(2)
            .initializer(init_greeting, "hello".to_owned())
            .build()
            .unwrap();
        let f: fn(String) -> String = greet;
        let names = ["a", "b", "c", "d"].map(str::to_owned);
        let greetings: Vec<String> = pool.map(f, names).map(Result::unwrap).collect();
        assert_eq!(greetings, ["hello a", "hello b", "hello c", "hello d"]);

        let err = ProcessPoolExecutor::builder()
            .max_workers(2)
            .initializer(|_: ()| panic!("initializer says no"), ())
            .build()
            .unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert!(err.to_string().contains("initializer says no"), "{err}");
    });
}

// Checks the builder's range check (Python: `ValueError("max_workers must
// be greater than 0")`).
#[test]
fn zero_workers_is_refused() {
    isolated(|| {
        let err = ProcessPoolExecutor::builder()
            .max_workers(0)
            .build()
            .unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
    });
}
