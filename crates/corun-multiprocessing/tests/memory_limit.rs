//! `memory_limit` of the process pools (beyond Python: CPython has no such
//! option, so no test is ported). A task that allocates past its worker's
//! limit fails — with small allocations as with one large one, at 2, 8 and
//! 64 times the limit, under a limit of 1 MiB and of 64 MiB — with an error
//! that says the worker ran out of memory under its limit; the worker is
//! replaced and the pool goes on. A task well under the limit succeeds, as
//! often as it runs; the limit is on what the worker holds, so memory a
//! task keeps counts against the tasks after it.
//!
//! Each test says whether its workers print a backtrace when they abort
//! (`RUST_BACKTRACE`): printing one can hide from the worker that a failed
//! allocation caused the abort, and the error then says less.

mod common;

use common::isolated;
use corun_concurrent::{Error, Executor, Submit};
use corun_multiprocessing::{Pool, ProcessPoolExecutor, current_process};

corun_multiprocessing::enable_test_workers!();

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// Allocates `bytes` in 1 KiB boxes, every byte written, all held until
/// the end; how many bytes it held.
fn small_allocations(bytes: usize) -> usize {
    let mut held: Vec<Box<[u8; KIB]>> = Vec::new();
    while held.len() * KIB < bytes {
        held.push(std::hint::black_box(Box::new([1; KIB])));
    }
    held.iter().map(|b| b.len()).sum()
}

/// Allocates one vector of `bytes`, every byte written; its length.
fn large_allocation(bytes: usize) -> usize {
    std::hint::black_box(vec![1_u8; bytes]).len()
}

/// Allocates `bytes` (every byte written) and never frees them.
fn keep(bytes: usize) -> usize {
    Box::leak(vec![1_u8; bytes].into_boxed_slice()).len()
}

/// An initializer that keeps `bytes`.
fn hoard(bytes: usize) {
    keep(bytes);
}

fn pid(_: ()) -> u32 {
    current_process().pid()
}

/// Sets whether the workers started from now on print a backtrace when a
/// failed allocation (or a panic) aborts them.
#[allow(unsafe_code)]
fn worker_backtraces(on: bool) {
    // SAFETY: every test of this binary runs under `isolated`, one at a
    // time, and nothing else in this process reads the environment but
    // std, which holds its environment lock while it reads (to start a
    // worker) and while it writes here.
    unsafe {
        if on {
            std::env::set_var("RUST_BACKTRACE", "1");
        } else {
            std::env::remove_var("RUST_BACKTRACE");
        }
    }
}

type Task = fn(usize) -> usize;

const HOW: [(&str, Task); 2] = [
    ("small allocations", small_allocations),
    ("one large allocation", large_allocation),
];

/// Checks that `err` says the task's worker died under its memory limit
/// of `limit` bytes.
fn assert_died_under_limit(err: &Error, limit: usize, what: &str) {
    assert!(err.is_worker_died(), "{what}: {err}");
    assert!(
        err.to_string()
            .contains(&format!("memory limit of {limit} bytes")),
        "{what}: {err}"
    );
}

/// Checks that `err` says the task's worker ran out of memory under its
/// limit of `limit` bytes.
fn assert_out_of_memory(err: &Error, limit: usize, what: &str) {
    assert_died_under_limit(err, limit, what);
    assert!(
        err.to_string().contains(&format!(
            "ran out of memory (an allocation failed past its memory limit of {limit} bytes) \
             and aborted (SIGABRT)"
        )),
        "{what}: {err}"
    );
}

/// Runs every over-limit case on a one-worker pool limited to `limit`:
/// each fails and replaces the worker, and a task under the limit still
/// runs after each.
fn past_the_limit_fails(limit: usize) {
    worker_backtraces(false);
    let pool = Pool::builder()
        .processes(1)
        .memory_limit(limit as u64)
        .build()
        .unwrap();
    for factor in [2, 8, 64] {
        for (how, task) in HOW {
            let what = format!("{how} of {factor} x {limit} bytes");
            let before = pool.pids();
            let err = pool.apply(task, factor * limit).unwrap_err();
            assert_out_of_memory(&err, limit, &what);
            assert_eq!(pool.apply(task, limit / 4).unwrap(), limit / 4, "{what}");
            assert_ne!(pool.pids(), before, "{what}: the worker was not replaced");
        }
    }
}

// Checks allocations past a 1 MiB limit: each fails its task with an
// out-of-memory error, and the pool goes on with a new worker.
#[test]
fn past_a_1_mib_limit_fails() {
    isolated(|| past_the_limit_fails(MIB));
}

// Checks allocations past a 64 MiB limit, as above.
#[test]
fn past_a_64_mib_limit_fails() {
    isolated(|| past_the_limit_fails(64 * MIB));
}

// Checks allocations past the limit in workers that print a backtrace
// when they abort: the error names the limit, and says the worker ran out
// of memory when printing the backtrace did not hide it — always when
// the allocation failed with little room left, as small ones do.
#[test]
fn past_the_limit_fails_with_backtraces() {
    isolated(|| {
        worker_backtraces(true);
        for limit in [MIB, 64 * MIB] {
            let pool = Pool::builder()
                .processes(1)
                .memory_limit(limit as u64)
                .build()
                .unwrap();
            for factor in [2, 64] {
                let what = format!("small allocations of {factor} x {limit} bytes");
                let err = pool.apply(small_allocations, factor * limit).unwrap_err();
                assert_out_of_memory(&err, limit, &what);
                let what = format!("one large allocation of {factor} x {limit} bytes");
                let err = pool.apply(large_allocation, factor * limit).unwrap_err();
                assert_died_under_limit(&err, limit, &what);
            }
            assert_eq!(pool.apply(large_allocation, limit / 4).unwrap(), limit / 4);
        }
        worker_backtraces(false);
    });
}

// Checks that tasks well under the limit succeed, again and again in the
// same worker: what a task frees is not counted against the next.
#[test]
fn well_under_the_limit_succeeds() {
    isolated(|| {
        worker_backtraces(false);
        for limit in [MIB, 64 * MIB] {
            let pool = Pool::builder()
                .processes(1)
                .memory_limit(limit as u64)
                .build()
                .unwrap();
            let first = pool.pids();
            for _ in 0..10 {
                for (how, task) in HOW {
                    let bytes = limit / 4;
                    assert_eq!(
                        pool.apply(task, bytes).unwrap(),
                        bytes,
                        "{how} under {limit}"
                    );
                }
            }
            assert_eq!(pool.pids(), first, "a worker died under {limit}");
        }
    });
}

// Checks that the limit is on the worker, not on each task: memory a task
// keeps counts against the tasks after it in the same worker.
#[test]
fn memory_a_task_keeps_counts_for_the_next() {
    isolated(|| {
        worker_backtraces(false);
        let limit = 64 * MIB;
        let pool = Pool::builder()
            .processes(1)
            .memory_limit(limit as u64)
            .build()
            .unwrap();
        let first = pool.pids();
        let share = limit * 2 / 5;
        assert_eq!(pool.apply(keep, share).unwrap(), share);
        assert_eq!(pool.apply(keep, share).unwrap(), share);
        assert_eq!(pool.pids(), first);
        let err = pool.apply(keep, share).unwrap_err();
        assert_out_of_memory(&err, limit, "a third share");
        // A new worker starts with nothing kept.
        assert_eq!(pool.apply(keep, share).unwrap(), share);
        assert_ne!(pool.pids(), first);
    });
}

// Checks that the initializer's allocations count: one that allocates
// past the limit fails `build`, saying the worker ran out of memory.
#[test]
fn an_initializer_past_the_limit_fails_build() {
    isolated(|| {
        worker_backtraces(false);
        let err = Pool::builder()
            .processes(1)
            .memory_limit(MIB as u64)
            .initializer(hoard, 8 * MIB)
            .build()
            .unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert!(
            err.to_string().contains(
                "ran out of memory (an allocation failed past its memory limit of 1048576 bytes)"
            ),
            "{err}"
        );
    });
}

// Checks the same through `ProcessPoolExecutor`, which shares the engine.
#[test]
fn process_pool_executor_past_the_limit_fails() {
    isolated(|| {
        worker_backtraces(false);
        let limit = MIB;
        let pool = ProcessPoolExecutor::builder()
            .max_workers(1)
            .memory_limit(limit as u64)
            .build()
            .unwrap();
        let small: Task = small_allocations;
        let err = pool.submit(small, 8 * limit).unwrap().result().unwrap_err();
        assert_out_of_memory(&err, limit, "small allocations");
        assert_eq!(
            pool.submit(small, limit / 4).unwrap().result().unwrap(),
            limit / 4
        );
        let pid: fn(()) -> u32 = pid;
        assert_ne!(pool.submit(pid, ()).unwrap().result().unwrap(), 0);
        pool.shutdown(true, false);
    });
}
