//! `Pool`: apply, apply_async, map, starmap, imap, imap_unordered, close,
//! join, max_tasks_per_child, initializer and recording — ported from
//! CPython's `Lib/test/_test_multiprocessing.py` (`_TestPool`,
//! `_TestPoolWorkerLifetime`) where it has the same test. Each test checks
//! that it leaves no process, descriptor or supervisor thread behind.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::sync::mpsc;

use common::{Gate, isolated, pairs, rendezvous, temp_path, wait_at_gate};
use corun::trace::{Outcome, Recorder};
use corun_concurrent::{ReturnWhen, Task, wait};
use corun_multiprocessing::test_hooks::Pipelines;
use corun_multiprocessing::{Array, Pool, Value, current_process};
use corun_test_support::DEADLINE;
use serde::{Deserialize, Serialize};

corun_multiprocessing::enable_test_workers!();

fn square(x: u64) -> u64 {
    x * x
}

fn power(base: u64, exp: u32) -> u64 {
    base.pow(exp)
}

fn echo(text: String) -> String {
    text
}

fn pid(_: ()) -> u32 {
    current_process().pid()
}

fn pid_of(_: u64) -> u32 {
    current_process().pid()
}

/// The square, and which worker computed it.
fn square_on(x: u64) -> (u64, u32) {
    (x * x, current_process().pid())
}

/// Waits at the gate, then says which worker ran it.
fn gated(gate: String) -> u32 {
    wait_at_gate(&gate);
    current_process().pid()
}

/// Leaves a file at `path`: proof that the call ran.
fn leave_mark(path: String) {
    std::fs::write(path, b"ran").unwrap();
}

/// Counts one run of call `i` in the shared `runs`.
fn count_run((runs, i): (Array<u32>, usize)) {
    runs.lock().expect("no holder died")[i] += 1;
}

/// Panics on 5 (Python's `raise_large_valuerror`-style failing task).
fn square_but_not_five(x: u64) -> u64 {
    assert_ne!(x, 5, "five is not welcome");
    x * x
}

/// A number that cannot be sent when it is 13: an item of the input that
/// fails, the analogue of CPython's iterable that raises.
#[derive(Debug)]
struct Picky(u64);

impl Serialize for Picky {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            return Err(serde::ser::Error::custom("13 cannot be sent"));
        }
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Picky {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64::deserialize(d).map(Picky)
    }
}

fn picky_square(p: Picky) -> u64 {
    p.0 * p.0
}

static TAG: OnceLock<String> = OnceLock::new();

fn set_tag(tag: String) {
    TAG.set(tag).unwrap();
}

/// The tag the worker's initializer set, and the worker's pid.
fn read_tag(_: u64) -> (Option<String>, u32) {
    (TAG.get().cloned(), current_process().pid())
}

// Port of `_TestPool.test_apply`: `apply` returns the function's value,
// with one argument or a tuple of them.
#[test]
fn test_apply() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        assert_eq!(pool.apply(square, 12).unwrap(), 144);
        assert_eq!(pool.apply(square, 0).unwrap(), 0);
        let worker = pool.apply(pid, ()).unwrap();
        assert!(
            pool.pids().contains(&worker),
            "{worker} not in {:?}",
            pool.pids()
        );
        assert_ne!(worker, std::process::id());
    });
}

// Port of `_TestPool.test_async`: `apply_async` returns at once, its task
// gives the value; a done callback (Python's `callback=`) sees it too.
#[test]
fn test_apply_async() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let tasks: Vec<_> = (0..10)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        let (tx, rx) = mpsc::channel();
        let watched = pool.apply_async(square, 11).unwrap();
        watched.add_done_callback(move |r| tx.send(*r.unwrap()).unwrap());
        for (i, task) in (0..).zip(tasks) {
            assert_eq!(task.result().unwrap(), i * i);
        }
        assert_eq!(rx.recv().unwrap(), 121);
        assert_eq!(watched.result().unwrap(), 121);
    });
}

// Checks that a task queued behind busy workers can be cancelled: it never
// runs, its result says cancelled, and the pool goes on.
#[test]
fn apply_async_cancel_while_queued() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let gates = [Gate::new(), Gate::new()];
        let busy: Vec<_> = gates
            .iter()
            .map(|g| pool.apply_async(gated, g.path()).unwrap())
            .collect();
        let held: Vec<_> = gates.iter().map(Gate::hold).collect(); // both workers busy
        let queued = pool.apply_async(square, 3).unwrap();
        assert!(!queued.running());
        assert!(queued.cancel());
        assert!(queued.cancelled());
        drop(held);
        let pids: BTreeSet<u32> = busy.into_iter().map(|t| t.result().unwrap()).collect();
        assert_eq!(pids.len(), 2);
        assert!(queued.result().unwrap_err().is_cancelled());
        assert_eq!(pool.apply(square, 4).unwrap(), 16);
    });
}

/// A pool of two whose workers both run a gated task, the second with
/// `queued` written ahead behind it, in its socket.
struct BusyPool<T> {
    pool: Pool,
    /// The gated task of the worker freed first, and its hold.
    first: Task<u32>,
    held_first: UnixStream,
    /// The gated task submitted just before `queued`, and its hold.
    long: Task<u32>,
    held_long: UnixStream,
    queued: T,
    _gates: [Gate; 2],
}

/// Makes a [`BusyPool`]: while the first worker waits at its gate, the
/// second runs short calls (so it writes calls ahead, no worker being
/// idle), then the long one and, written ahead behind it, `queued`. How
/// many calls it has written ahead when it reaches the long one is up to
/// the threads' timing: a pool with none written ahead is terminated
/// (nothing queued has run there) and the next try starts afresh.
fn busy_pool_with<T>(mut queued: impl FnMut(&Pool) -> T) -> BusyPool<T> {
    let expected: Vec<u64> = (0..2_000).map(|x| x * x).collect();
    for _ in 0..20 {
        let pool = Pool::builder().processes(2).build().unwrap();
        assert_eq!(pool.map_chunked(square, 0..2_000, 1).unwrap(), expected);
        let gates = [Gate::new(), Gate::new()];
        let first = pool.apply_async(gated, gates[0].path()).unwrap();
        let held_first = gates[0].hold();
        let short: Vec<_> = (0..2_000)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        let long = pool.apply_async(gated, gates[1].path()).unwrap();
        let queued = queued(&pool);
        let held_long = gates[1].hold();
        for (i, task) in (0..).zip(short) {
            assert_eq!(task.result().unwrap(), i * i);
        }
        // The worker topped up before its last short reply was decoded:
        // what it holds now stays there until a worker is freed.
        if pool.written_ahead().iter().sum::<usize>() > 0 {
            return BusyPool {
                pool,
                first,
                held_first,
                long,
                held_long,
                queued,
                _gates: gates,
            };
        }
        pool.terminate();
        drop((held_first, held_long));
    }
    panic!("no try left calls written ahead behind the long task");
}

// Checks that no task waits behind a running one while a worker is idle
// (Python's idle worker takes the next task): quick tasks written ahead
// behind a long one (and any still queued) are taken back by the other
// worker once it is free, and all run there while the long one still runs.
#[test]
fn quick_tasks_do_not_wait_behind_a_long_one() {
    isolated(|| {
        let busy = busy_pool_with(|pool| {
            (0..20)
                .map(|i| pool.apply_async(square_on, i).unwrap())
                .collect::<Vec<_>>()
        });
        for (i, task) in busy.queued.iter().enumerate() {
            assert!(!task.running(), "task {i} is reported running");
        }
        drop(busy.held_first);
        let free = busy.first.result().unwrap();
        for (i, task) in (0..).zip(busy.queued) {
            assert!(
                task.wait_timeout(DEADLINE),
                "task {i} waits behind the long one while a worker is idle"
            );
            assert_eq!(task.result().unwrap(), (i * i, free), "task {i}");
        }
        assert!(busy.long.running());
        drop(busy.held_long);
        assert_ne!(busy.long.result().unwrap(), free);
        drop(busy.pool);
    });
}

// Checks that tasks queued behind busy workers stay pending until they
// run, wherever they wait — the first ones written ahead behind a long
// task, in its worker's socket: each cancels, and a cancelled one never
// runs — its mark is absent once the workers are gone — while the others
// run.
#[test]
fn tasks_queued_behind_a_long_one_can_be_cancelled() {
    isolated(|| {
        let marks: Vec<_> = (0..10).map(|_| temp_path("mark")).collect();
        let busy = busy_pool_with(|pool| {
            marks
                .iter()
                .map(|m| {
                    let path = m.to_str().unwrap().to_owned();
                    pool.apply_async(leave_mark, path).unwrap()
                })
                .collect::<Vec<_>>()
        });
        for (i, task) in busy.queued.iter().enumerate() {
            assert!(!task.running(), "task {i} is reported running");
            if i % 2 == 0 {
                assert!(task.cancel(), "task {i} cannot be cancelled");
            }
        }
        drop((busy.held_first, busy.held_long));
        busy.first.result().unwrap();
        busy.long.result().unwrap();
        for (i, task) in busy.queued.into_iter().enumerate() {
            if i % 2 == 0 {
                assert!(task.result().unwrap_err().is_cancelled());
            } else {
                task.result().unwrap();
            }
        }
        busy.pool.close();
        busy.pool.join().unwrap();
        for (i, mark) in marks.iter().enumerate() {
            assert_eq!(mark.exists(), i % 2 == 1, "task {i}");
            if i % 2 == 1 {
                std::fs::remove_file(mark).unwrap();
            }
        }
    });
}

// Checks cancellation racing the workers, three rounds to catch races:
// 400 short tasks are submitted, then every third is cancelled, wherever
// it is by then (queued, written ahead behind other calls, begun, done). A
// cancel that succeeds means the task never ran; one that fails means it
// ran, exactly once — as every task not cancelled did.
#[test]
fn cancel_races_the_workers_and_a_task_runs_once_or_never() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        for round in 0..3 {
            let runs = Array::<u32>::new(400).unwrap();
            common::watch_segment(runs.name());
            let tasks: Vec<_> = (0..400)
                .map(|i| pool.apply_async(count_run, (runs.clone(), i)).unwrap())
                .collect();
            let cancelled: Vec<bool> = (0..)
                .zip(&tasks)
                .map(|(i, task)| i % 3 == 0 && task.cancel())
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                match task.result() {
                    Ok(()) => assert!(!cancelled[i], "round {round}: task {i}"),
                    Err(e) => assert!(e.is_cancelled() && cancelled[i], "round {round}: {i}: {e}"),
                }
            }
            let counts = runs.to_vec();
            for (i, &count) in counts.iter().enumerate() {
                let expected = u32::from(!cancelled[i]);
                assert_eq!(count, expected, "round {round}: task {i} ran {count} times");
            }
        }
    });
}

// Checks that two long tasks submitted back to back on a warm pool of two
// run at once, one on each worker, as in Python, however far the pool was
// writing short calls ahead: each, once started, sees the other start. In
// even rounds the pool has answered its short calls; in odd ones the long
// tasks queue right behind 2 000 short calls not yet run, so that a worker
// writing calls ahead may take both along. Twenty rounds, to catch races.
#[test]
fn two_long_tasks_on_a_warm_pool_run_at_once() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let expected: Vec<u64> = (0..2_000).map(|x| x * x).collect();
        for round in 0..20 {
            let started = Value::new(0u32).unwrap();
            common::watch_segment(started.name());
            let short = if round % 2 == 0 {
                assert_eq!(pool.map_chunked(square, 0..2_000, 1).unwrap(), expected);
                Vec::new()
            } else {
                (0..2_000)
                    .map(|i| pool.apply_async(square, i).unwrap())
                    .collect()
            };
            let long: Vec<_> = (0..2)
                .map(|_| pool.apply_async(rendezvous, (started.clone(), 2)).unwrap())
                .collect();
            let met: Vec<bool> = long.into_iter().map(|t| t.result().unwrap()).collect();
            assert_eq!(met, [true, true], "round {round}: one ran after the other");
            for (i, task) in (0..).zip(short) {
                assert_eq!(task.result().unwrap(), i * i);
            }
        }
    });
}

// Checks that `map` with its automatic chunk size (2 items a chunk for 64
// items on 2 workers), `imap` and `imap_unordered` on a warm pool keep both
// workers busy at once, starting chunks in input order as Python's pool
// does: long items whose chunks meet two by two all meet. (Two chunks
// written ahead to one busy worker, or a younger chunk run while an older
// one waits behind a running one, would each wait for a partner that
// cannot start.) Five rounds of each.
#[test]
fn map_and_imap_on_a_warm_pool_use_both_workers() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let expected: Vec<u64> = (0..2_000).map(|x| x * x).collect();
        for round in 0..5 {
            for how in ["map", "imap", "imap_unordered"] {
                assert_eq!(pool.map_chunked(square, 0..2_000, 1).unwrap(), expected);
                let started = Value::new(0u32).unwrap();
                common::watch_segment(started.name());
                let met: Vec<bool> = match how {
                    "map" => pool.map(rendezvous, pairs(&started, 64, 2)).unwrap(),
                    "imap" => pool
                        .imap(rendezvous, pairs(&started, 8, 1))
                        .map(Result::unwrap)
                        .collect(),
                    _ => pool
                        .imap_unordered(rendezvous, pairs(&started, 8, 1))
                        .map(Result::unwrap)
                        .collect(),
                };
                assert!(
                    met.iter().all(|&m| m),
                    "round {round}: {how}: items that should run side by side did not: {met:?}"
                );
            }
        }
    });
}

// Port of `_TestPool.test_map`: results in input order, for a small input
// and for 10 000 items (automatic chunks of 313: a chunk lost, repeated
// or out of order would show).
#[test]
fn test_map() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let expected: Vec<u64> = (0..10).map(|x| x * x).collect();
        assert_eq!(pool.map(square, 0..10).unwrap(), expected);
        let expected: Vec<u64> = (0..10_000).map(|x| x * x).collect();
        assert_eq!(pool.map(square, 0..10_000).unwrap(), expected);
    });
}

// Port of `_TestPool.test_map_chunksize`: any chunk size gives the same
// results; a chunk size of 0 is refused (Python: `ValueError`).
#[test]
fn test_map_chunksize() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let expected: Vec<u64> = (0..100).map(|x| x * x).collect();
        for chunksize in [1, 3, 7, 100, 1_000] {
            assert_eq!(
                pool.map_chunked(square, 0..100, chunksize).unwrap(),
                expected
            );
        }
        let err = pool.map_chunked(square, 0..100, 0).unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        assert!(
            pool.imap_chunked(square, 0..10, 0)
                .unwrap_err()
                .is_invalid_argument()
        );
        let lazily: Vec<u64> = pool
            .imap_chunked(square, 0..100, 7)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(lazily, expected);
    });
}

// Checks that `map` fails with the first failure in input order, and the
// pool goes on.
#[test]
fn map_fails_with_the_first_failure() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let err = pool.map_chunked(square_but_not_five, 0..20, 2).unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert!(
            err.panic_message().unwrap().contains("five is not welcome"),
            "{err}"
        );
        assert_eq!(pool.map(square, [3]).unwrap(), [9]);
    });
}

// Port of `_TestPool.test_starmap`: two-argument functions over pairs,
// in order.
#[test]
fn test_starmap() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let pairs: Vec<(u64, u32)> = (0..50).map(|i| (i, 2)).collect();
        let expected: Vec<u64> = (0..50).map(|i| i * i).collect();
        assert_eq!(pool.starmap(power, pairs).unwrap(), expected);
        assert_eq!(pool.starmap(power, [(2, 10), (3, 0)]).unwrap(), [1024, 1]);
    });
}

// Port of `_TestPool.test_empty_iterable`: map, starmap, imap and
// imap_unordered over nothing give nothing.
#[test]
fn test_empty_iterable() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        assert!(pool.map(square, []).unwrap().is_empty());
        assert!(pool.map_chunked(square, [], 5).unwrap().is_empty());
        assert!(pool.starmap(power, []).unwrap().is_empty());
        assert_eq!(pool.imap(square, []).count(), 0);
        assert_eq!(pool.imap_unordered(square, []).count(), 0);
    });
}

// Port of `_TestPool.test_imap`: results in input order, lazily — an
// endless input gives its first results, as many as are taken.
#[test]
fn test_imap() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let all: Vec<u64> = pool.imap(square, 0..100).map(Result::unwrap).collect();
        assert_eq!(all, (0..100).map(|x| x * x).collect::<Vec<_>>());
        let first: Vec<u64> = pool
            .imap(square, 0..)
            .take(50)
            .map(Result::unwrap)
            .collect();
        assert_eq!(first, (0..50).map(|x| x * x).collect::<Vec<_>>());
        // The iterator dropped above cancelled what it had queued: the
        // pool is free for the next call.
        assert_eq!(pool.apply(square, 9).unwrap(), 81);
    });
}

// Port of `_TestPool.test_imap_unordered`: every result comes, once.
#[test]
fn test_imap_unordered() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let mut all: Vec<u64> = pool
            .imap_unordered(square, 0..200)
            .map(Result::unwrap)
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..200).map(|x| x * x).collect::<Vec<_>>());
        let some: Vec<u64> = pool
            .imap_unordered(square, 0..)
            .take(20)
            .map(Result::unwrap)
            .collect();
        assert_eq!(some.len(), 20);
    });
}

// Checks a task that fails inside `imap`: the results before the failing
// item, then its error, then the end; `imap_unordered` yields the error
// and ends.
#[test]
fn imap_stops_after_the_first_error() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let mut it = pool.imap(square_but_not_five, 0..20);
        for x in 0..5 {
            assert_eq!(it.next().unwrap().unwrap(), x * x);
        }
        let err = it.next().unwrap().unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert!(err.panic_message().unwrap().contains("five is not welcome"));
        assert!(it.next().is_none());
        drop(it);

        let results: Vec<_> = pool.imap_unordered(square_but_not_five, 0..20).collect();
        let last = results.last().unwrap().as_ref().unwrap_err();
        assert!(last.is_panic(), "{last}");
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(pool.apply(square, 5).unwrap(), 25);
    });
}

// Port of `_TestPool.test_imap_handle_iterable_exception`: an item that
// cannot be sent (here: does not serialise) ends `imap` at its place in
// input order — the results before it first, then its error, then nothing.
#[test]
fn test_imap_handle_iterable_exception() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let mut it = pool.imap(picky_square, (0..20).map(Picky));
        for x in 0..13 {
            assert_eq!(it.next().unwrap().unwrap(), x * x);
        }
        let err = it.next().unwrap().unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(it.next().is_none());
        drop(it);
        let mut it = pool
            .imap_chunked(picky_square, (0..20).map(Picky), 2)
            .unwrap();
        for x in 0..12 {
            assert_eq!(it.next().unwrap().unwrap(), x * x);
        }
        assert!(it.next().unwrap().unwrap_err().is_serialization());
        assert!(it.next().is_none());
        drop(it);
        let results: Vec<_> = pool
            .imap_unordered(picky_square, (0..20).map(Picky))
            .collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 13);
        assert!(
            results
                .last()
                .unwrap()
                .as_ref()
                .unwrap_err()
                .is_serialization()
        );
        let err = pool.map(picky_square, (0..20).map(Picky)).unwrap_err();
        assert!(err.is_serialization(), "{err}");
    });
}

// Checks `close` and `join` as Python's `Pool` has them: after `close`,
// submissions are refused (Python: `ValueError("Pool not running")`), the
// queued work still runs, `join` while running is refused (Python:
// `ValueError`), and `join` after `close` leaves no worker.
#[test]
fn close_and_join() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let err = pool.join().unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        let queued: Vec<_> = (0..20)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        pool.close();
        assert!(pool.apply_async(square, 1).unwrap_err().is_shutdown());
        assert!(pool.apply(square, 1).unwrap_err().is_shutdown());
        assert!(pool.map(square, [1]).unwrap_err().is_shutdown());
        assert!(pool.starmap(power, [(1, 1)]).unwrap_err().is_shutdown());
        assert!(
            pool.imap(square, [1])
                .next()
                .unwrap()
                .unwrap_err()
                .is_shutdown()
        );
        pool.close(); // harmless twice
        pool.join().unwrap();
        assert!(pool.pids().is_empty(), "{:?}", pool.pids());
        for (i, task) in (0..).zip(queued) {
            assert!(task.done());
            assert_eq!(task.result().unwrap(), i * i);
        }
        pool.join().unwrap(); // and again
    });
}

// Checks the builder's range checks (Python: `ValueError`), which start
// nothing.
#[test]
fn invalid_settings_are_refused() {
    isolated(|| {
        let err = Pool::builder().processes(0).build().unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        let err = Pool::builder().max_tasks_per_child(0).build().unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        let err = Pool::builder()
            .task_timeout(std::time::Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        let err = Pool::builder().memory_limit(0).build().unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
    });
}

// Checks the default size: one worker per CPU this process may use.
#[test]
fn default_size_is_cpu_count() {
    isolated(|| {
        let pool = Pool::new().unwrap();
        assert_eq!(pool.processes(), corun_multiprocessing::cpu_count());
        assert_eq!(pool.pids().len(), pool.processes());
    });
}

// Port of `_TestPoolWorkerLifetime.test_pool_worker_lifetime`
// (`maxtasksperchild`): workers are replaced as they serve their share,
// no worker serves more than 2 tasks, and every task succeeds.
#[test]
fn test_pool_worker_lifetime() {
    isolated(|| {
        let pool = Pool::builder()
            .processes(2)
            .max_tasks_per_child(2)
            .build()
            .unwrap();
        let first = pool.pids();
        assert_eq!(first.len(), 2);
        let tasks: Vec<_> = (0..20)
            .map(|_| pool.apply_async(pid, ()).unwrap())
            .collect();
        let mut served: BTreeMap<u32, usize> = BTreeMap::new();
        for task in tasks {
            *served.entry(task.result().unwrap()).or_default() += 1;
        }
        assert!(served.values().all(|&n| n <= 2), "{served:?}");
        assert!(served.len() >= 10, "{served:?}");
        assert!(
            served.keys().any(|p| !first.contains(p)),
            "{served:?} {first:?}"
        );
        // Work given in chunks counts chunks: a map still gives every result.
        let expected: Vec<u64> = (0..100).map(|x| x * x).collect();
        assert_eq!(pool.map_chunked(square, 0..100, 10).unwrap(), expected);
    });
}

// Checks `initializer` and `initargs` (as test_concurrent_futures'
// `test_init.py` `test_initializer`): every worker runs the initializer
// before its tasks, replacements too.
#[test]
fn test_pool_initializer() {
    isolated(|| {
        let pool = Pool::builder()
            .processes(2)
            .initializer(set_tag, "ready".to_owned())
            .max_tasks_per_child(3)
            .build()
            .unwrap();
        let seen = pool.map_chunked(read_tag, 0..12, 1).unwrap();
        let pids: BTreeSet<u32> = seen.iter().map(|(_, pid)| *pid).collect();
        assert!(pids.len() >= 4, "{pids:?}");
        for (tag, pid) in seen {
            assert_eq!(tag.as_deref(), Some("ready"), "worker {pid}");
        }
        // The parent's own static is untouched.
        assert_eq!(TAG.get(), None);
    });
}

// Checks recording: each task is in the recorder's timeline, labelled,
// finished with its outcome, on a lane named by the pid that ran it.
#[test]
fn recorder_has_a_lane_per_worker_pid() {
    isolated(|| {
        let recorder = Recorder::new();
        let pool = Pool::builder()
            .processes(2)
            .recorder(recorder.clone())
            .build()
            .unwrap();
        let ran: Vec<u32> = (0..6).map(|i| pool.apply(pid_of, i).unwrap()).collect();
        assert!(pool.apply(square_but_not_five, 5).unwrap_err().is_panic());
        let timeline = recorder.timeline();
        let tasks = timeline.tasks();
        assert_eq!(tasks.len(), 7);
        for (task, pid) in tasks.iter().zip(&ran) {
            assert_eq!(task.label, "apply");
            assert_eq!(task.worker.as_deref(), Some(format!("pid {pid}").as_str()));
            assert_eq!(task.outcome, Some(Outcome::Ok));
            assert!(task.started.is_some() && task.finished >= task.started);
        }
        assert_eq!(tasks[6].outcome, Some(Outcome::Panicked));
        let lanes: BTreeSet<String> = timeline.workers().iter().map(|w| w.to_string()).collect();
        let pids: BTreeSet<String> = pool.pids().iter().map(|p| format!("pid {p}")).collect();
        assert!(lanes.is_subset(&pids), "{lanes:?} {pids:?}");
        // A map records its chunks.
        pool.map_chunked(square, 0..10, 5).unwrap();
        let timeline = recorder.timeline();
        let chunks: Vec<_> = timeline.tasks()[7..]
            .iter()
            .map(|t| t.label.to_string())
            .collect();
        assert_eq!(chunks, ["map chunk 0", "map chunk 1"]);
    });
}

// Checks that calls and results larger than the socket buffers, queued
// behind quick calls (which make the pool keep several calls in a worker's
// socket), all come back: the pool must not write a second large call
// while the worker, blocked writing the first one's large result, cannot
// read it.
#[test]
fn large_calls_after_quick_ones_do_not_deadlock() {
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let gate = Gate::new();
        let first = pool.apply_async(gated, gate.path()).unwrap();
        let held = gate.hold();
        // Queued while the worker waits: quick calls, then large ones.
        let quick: Vec<_> = (0..20)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        let large_text = "x".repeat(1 << 20);
        let large: Vec<_> = (0..4)
            .map(|_| pool.apply_async(echo, large_text.clone()).unwrap())
            .collect();
        drop(held);
        let all_back = |pool: &Pool, not_done: usize| {
            if not_done > 0 {
                pool.terminate(); // unblocks the pool, so the test can end
                panic!("{not_done} calls never came back");
            }
        };
        let quick = wait(quick, Some(DEADLINE), ReturnWhen::AllCompleted);
        all_back(&pool, quick.not_done.len());
        let large = wait(large, Some(DEADLINE), ReturnWhen::AllCompleted);
        all_back(&pool, large.not_done.len());
        first.result().unwrap();
        for (i, task) in (0..).zip(quick.done) {
            assert_eq!(task.result().unwrap(), i * i);
        }
        for task in large.done {
            assert_eq!(task.result().unwrap(), large_text);
        }
    });
}
