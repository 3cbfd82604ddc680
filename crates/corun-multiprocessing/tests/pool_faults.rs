//! `Pool` under faults, each really injected: a task that panics, aborts,
//! segfaults, exits, is killed from outside, outlives its deadline or its
//! memory limit; arguments and results that do not cross; initializers
//! that fail; terminate, drop, and the death of the pool's owner. Each
//! fault fails only its task, with an error that says what happened; the
//! pool goes on, and nothing is left behind (no child process, descriptor
//! or supervisor thread). CPython's `Pool` hangs on most of these (a dead
//! worker's task is never answered); the ports say where a test follows
//! one of CPython's.

mod common;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use common::{
    Gate, Refuses, is_gone, isolated, make_refuses, read_report, report, stay_at_gate, temp_path,
    wait_at_gate,
};
use corun_multiprocessing::{Error, Pool, Process, current_process};
use corun_test_support::{DEADLINE, poll_until};
use rustix::process::{Pid, Signal, getpid, kill_process};
use serde::Serialize;
use serde::de::DeserializeOwned;

corun_multiprocessing::enable_test_workers!();

fn square(x: u64) -> u64 {
    x * x
}

fn pid(_: ()) -> u32 {
    current_process().pid()
}

fn gated(gate: String) -> u32 {
    wait_at_gate(&gate);
    current_process().pid()
}

fn boom(message: String) -> u32 {
    panic!("{message}")
}

fn abort(_: ()) -> u32 {
    std::process::abort()
}

fn segfault(_: ()) -> u32 {
    // A SIGSEGV, raised the only way safe code can. The first one meets
    // std's stack-overflow handler, which finds no guard-page fault,
    // restores the default action and returns; the next one kills.
    let me = getpid();
    loop {
        kill_process(me, Signal::SEGV).unwrap();
    }
}

fn exit_3(_: ()) -> u32 {
    std::process::exit(3)
}

fn allocate(bytes: usize) -> usize {
    std::hint::black_box(vec![1_u8; bytes]).len()
}

/// Every tenth task aborts its worker.
fn storm(i: u64) -> u64 {
    if i % 10 == 9 {
        std::process::abort();
    }
    2 * i
}

fn panicking_initializer(_: ()) {
    panic!("no database here")
}

/// Succeeds the first time (it leaves a mark), panics in every later
/// worker.
fn initializer_once(mark: String) {
    if std::fs::exists(&mark).unwrap() {
        panic!("the mark is there already");
    }
    std::fs::write(&mark, b"started").unwrap();
}

/// While the file `hold` exists: reports the worker's pid through
/// `report`, then waits at `gate` (to be killed). Otherwise does nothing.
fn initializer_held((hold, pid_path, gate): (String, String, String)) {
    if std::fs::exists(&hold).unwrap() {
        report(&pid_path, &current_process().pid().to_string());
        stay_at_gate(&gate);
    }
}

/// Builds a pool, reports its workers' pids through `path`, then waits to
/// be killed.
fn start_pool_and_wait(path: String) {
    let pool = Pool::builder().processes(2).build().unwrap();
    let pids: Vec<String> = pool.pids().iter().map(u32::to_string).collect();
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, pids.join(" ")).unwrap();
    std::fs::rename(tmp, &path).unwrap();
    loop {
        std::thread::park();
    }
}

fn take_refuses(_: Refuses) -> u32 {
    0
}

fn sigkill(pid: u32) {
    kill_process(Pid::from_raw(pid as i32).unwrap(), Signal::KILL).unwrap();
}

/// Whether every thread of process `pid` has ended, and with them its
/// descriptors. (A test binary's worker runs its calls on a second thread;
/// its main thread can be a zombie while that one is still closing the
/// socket.)
fn all_threads_gone(pid: u32) -> bool {
    is_gone(pid)
        && std::fs::read_dir(format!("/proc/{pid}/task")).map_or(true, |tasks| tasks.count() <= 1)
}

/// Runs `bad` among good tasks on a pool of two: only `bad` fails, and
/// `check` accepts its error; the good tasks before and after it succeed,
/// and so does later work.
fn only_the_bad_task_fails<R>(bad: fn(()) -> R, check: impl FnOnce(&Error))
where
    R: Serialize + DeserializeOwned + Send + Debug + 'static,
{
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let before: Vec<_> = (0..10)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        let bad = pool.apply_async(bad, ()).unwrap();
        let after: Vec<_> = (10..20)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        check(&bad.result().unwrap_err());
        for (i, task) in (0..).zip(before.into_iter().chain(after)) {
            assert_eq!(task.result().unwrap(), i * i);
        }
        let expected: Vec<u64> = (0..100).map(|x| x * x).collect();
        assert_eq!(pool.map(square, 0..100).unwrap(), expected);
    });
}

/// On a pool of one: `bad` kills its worker with an error that `check`
/// accepts and that names the worker; the worker is gone and another takes
/// its place.
fn the_worker_is_replaced<R>(bad: fn(()) -> R, check: impl FnOnce(&Error))
where
    R: Serialize + DeserializeOwned + Send + Debug + 'static,
{
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let first = pool.apply(pid, ()).unwrap();
        let err = pool.apply(bad, ()).unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("worker process {first} ")),
            "{err}"
        );
        check(&err);
        assert!(is_gone(first));
        let second = pool.apply(pid, ()).unwrap();
        assert_ne!(second, first);
        assert_eq!(pool.pids(), [second]);
    });
}

// Checks that a panicking task fails with its message (Python: the
// exception re-raised by `get()`), and its worker survives: the same pid
// serves the next task.
#[test]
fn a_panic_fails_only_its_task() {
    only_the_bad_task_fails(
        |()| boom("kaboom in the pool".to_owned()),
        |err| {
            assert!(err.is_panic(), "{err}");
            assert_eq!(err.panic_message(), Some("kaboom in the pool"));
        },
    );
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let first = pool.apply(pid, ()).unwrap();
        let err = pool.apply(boom, "kaboom".to_owned()).unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert!(err.panic_message().unwrap().contains("kaboom"), "{err}");
        assert_eq!(pool.apply(pid, ()).unwrap(), first);
        assert_eq!(pool.pids(), [first]);
    });
}

// Port of test_concurrent_futures' `test_deadlock.py` `test_crash` case
// "crash at task execution" with an abort — there the pool breaks; here
// only the task fails and its worker is replaced.
#[test]
fn an_abort_fails_only_its_task() {
    let says_sigabrt = |err: &Error| {
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("SIGABRT"), "{err}");
    };
    only_the_bad_task_fails(abort, says_sigabrt);
    the_worker_is_replaced(abort, says_sigabrt);
}

// Port of test_concurrent_futures' `test_deadlock.py` `test_crash` case
// "crash at task execution" (there `_crash`, a segfault).
#[test]
fn a_segfault_fails_only_its_task() {
    let says_sigsegv = |err: &Error| {
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("SIGSEGV"), "{err}");
    };
    only_the_bad_task_fails(segfault, says_sigsegv);
    the_worker_is_replaced(segfault, says_sigsegv);
}

// Port of test_concurrent_futures' `test_deadlock.py` `test_crash` case
// "exit at task execution" (`_exit`): the error gives the exit code.
#[test]
fn an_exit_fails_only_its_task() {
    let says_code_3 = |err: &Error| {
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("exited with code 3"), "{err}");
    };
    only_the_bad_task_fails(exit_3, says_code_3);
    the_worker_is_replaced(exit_3, says_code_3);
}

// Port of test_concurrent_futures' `test_killed_child` for `Pool`: a worker
// killed with SIGKILL from outside while it runs a task fails that task
// (CPython's `Pool` would hang on it); the pool replaces the worker.
#[test]
fn a_worker_killed_from_outside_fails_its_task() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let gate = Gate::new();
        let victim = pool.apply_async(gated, gate.path()).unwrap();
        let _held = gate.hold(); // it runs, and will until killed
        let quick: Vec<_> = (0..10)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        // The other worker serves the quick tasks meanwhile.
        for (i, task) in (0..).zip(quick) {
            assert_eq!(task.result().unwrap(), i * i);
        }
        let pids = pool.pids();
        assert_eq!(pids.len(), 2);
        let served_quick = pool.apply(pid, ()).unwrap();
        let running = *pids.iter().find(|&&p| p != served_quick).unwrap();
        sigkill(running);
        let err = victim.result().unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("SIGKILL"), "{err}");
        assert!(err.to_string().contains(&running.to_string()), "{err}");
        assert!(is_gone(running));
        let expected: Vec<u64> = (0..50).map(|x| x * x).collect();
        assert_eq!(pool.map_chunked(square, 0..50, 1).unwrap(), expected);
        assert!(!pool.pids().contains(&running));
    });
}

// Checks that a worker killed while idle fails no task: the call that
// finds it gone goes to its replacement.
#[test]
fn a_worker_killed_while_idle_fails_nothing() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let pids = pool.pids();
        for &victim in &pids {
            sigkill(victim);
        }
        poll_until("both workers are dead", || {
            pids.iter().all(|&p| all_threads_gone(p))
        });
        // Two calls running at once: each supervisor found its worker gone.
        let gates = [Gate::new(), Gate::new()];
        let both: Vec<_> = gates
            .iter()
            .map(|g| pool.apply_async(gated, g.path()).unwrap())
            .collect();
        drop(gates.iter().map(Gate::hold).collect::<Vec<_>>());
        let now: BTreeSet<u32> = both.into_iter().map(|t| t.result().unwrap()).collect();
        assert_eq!(now.len(), 2);
        assert!(now.iter().all(|p| !pids.contains(p)), "{pids:?} {now:?}");
        let expected: Vec<u64> = (0..50).map(|x| x * x).collect();
        assert_eq!(pool.map_chunked(square, 0..50, 1).unwrap(), expected);
    });
}

// Checks the per-task deadline: a task past it fails with a time-out, its
// worker is killed and replaced, and the other worker's quick tasks meanwhile
// succeed. (CPython's `AsyncResult.get(timeout)`, `test_async_timeout`, only
// stops waiting; here the task is stopped.)
#[test]
fn a_task_past_its_deadline_is_stopped() {
    isolated(|| {
        let limit = Duration::from_secs(1);
        let pool = Pool::builder()
            .processes(2)
            .task_timeout(limit)
            .build()
            .unwrap();
        let first = pool.pids();
        let gate = Gate::new();
        let started = Instant::now();
        let slow = pool.apply_async(gated, gate.path()).unwrap();
        let _held = gate.hold(); // never let through
        let quick: Vec<_> = (0..10)
            .map(|i| {
                pool.apply_async(pid, ())
                    .unwrap_or_else(|e| panic!("{i}: {e}"))
            })
            .collect();
        let quick_pids: BTreeSet<u32> = quick.into_iter().map(|t| t.result().unwrap()).collect();
        assert_eq!(quick_pids.len(), 1, "{quick_pids:?}");
        let err = slow.result().unwrap_err();
        let waited = started.elapsed();
        assert!(err.is_timeout(), "{err}");
        assert!(err.to_string().contains("killed"), "{err}");
        assert!(waited >= limit, "{waited:?}");
        assert!(waited < limit + DEADLINE, "{waited:?}");
        let killed: Vec<u32> = first
            .iter()
            .copied()
            .filter(|p| !quick_pids.contains(p))
            .collect();
        assert_eq!(killed.len(), 1, "{first:?} {quick_pids:?}");
        assert!(err.to_string().contains(&killed[0].to_string()), "{err}");
        assert!(is_gone(killed[0]));
        assert!(!pool.pids().contains(&killed[0]));
        poll_until("the killed worker is replaced", || pool.pids().len() == 2);
        let now: BTreeSet<u32> = pool.pids().into_iter().collect();
        assert!(!now.contains(&killed[0]));
        assert!(now.is_superset(&quick_pids));
        let expected: Vec<u64> = (0..20).map(|x| x * x).collect();
        assert_eq!(pool.map_chunked(square, 0..20, 1).unwrap(), expected);
    });
}

// Checks the memory limit: a task that allocates far past it fails with
// an error that names the limit; its worker is replaced and small tasks
// still run.
#[test]
fn a_task_past_the_memory_limit_fails() {
    isolated(|| {
        let limit = 512 << 20;
        let pool = Pool::builder()
            .processes(1)
            .memory_limit(limit)
            .build()
            .unwrap();
        assert_eq!(pool.apply(allocate, 1 << 20).unwrap(), 1 << 20);
        let first = pool.pids();
        let err = pool.apply(allocate, 4 << 30).unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert!(err.to_string().contains("memory limit"), "{err}");
        assert!(err.to_string().contains(&limit.to_string()), "{err}");
        assert_eq!(pool.apply(allocate, 1 << 20).unwrap(), 1 << 20);
        assert_ne!(pool.pids(), first);
    });
}

// Checks a failing initializer (test_concurrent_futures' `test_init.py`
// `FailingInitializerMixin`, where the pool breaks at the first submit):
// here `build` fails with a broken-pool error giving the panic, and kills
// every worker started.
#[test]
fn a_failing_initializer_fails_build() {
    isolated(|| {
        let err = Pool::builder()
            .processes(2)
            .initializer(panicking_initializer, ())
            .build()
            .unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert!(err.to_string().contains("no database here"), "{err}");
        // Said once, with the worker's own start error as the source.
        assert_eq!(
            err.to_string().matches("executor is broken").count(),
            1,
            "{err}"
        );
        let source = std::error::Error::source(&err).expect("the start error");
        assert!(source.to_string().contains("no database here"), "{source}");
    });
}

// Checks that a replacement worker whose initializer fails breaks the pool
// (rather than starting workers in a loop): the task that needed it and
// every later submission fail with a broken-pool error.
#[test]
fn a_failing_replacement_initializer_breaks_the_pool() {
    isolated(|| {
        let mark = temp_path("initialized");
        let pool = Pool::builder()
            .processes(1)
            .max_tasks_per_child(1)
            .initializer(initializer_once, mark.to_str().unwrap().to_owned())
            .build()
            .unwrap();
        assert_eq!(pool.apply(square, 3).unwrap(), 9);
        let err = pool.apply(square, 4).unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert!(
            err.to_string().contains("the mark is there already"),
            "{err}"
        );
        let err = pool.apply_async(square, 5).unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert_eq!(
            err.to_string().matches("executor is broken").count(),
            1,
            "{err}"
        );
        drop(pool);
        std::fs::remove_file(mark).unwrap();
    });
}

// Checks that a replacement worker killed from outside while it starts
// (SIGKILL in its initializer: the OOM killer, an operator) is started
// again, unlike one whose initializer fails by itself: the pool does not
// break, and the task queued meanwhile runs on the next worker.
#[test]
fn a_replacement_killed_while_starting_is_started_again() {
    isolated(|| {
        let hold = temp_path("hold-initializer");
        let pid_path = temp_path("starting-pid");
        let gate = Gate::new();
        let paths = (
            hold.to_str().unwrap().to_owned(),
            pid_path.to_str().unwrap().to_owned(),
            gate.path(),
        );
        let pool = Pool::builder()
            .processes(1)
            .max_tasks_per_child(1)
            .initializer(initializer_held, paths)
            .build()
            .unwrap();
        let first = pool.pids();
        std::fs::write(&hold, b"hold").unwrap();
        // The worker retires after this task; its replacement is held in
        // its initializer.
        assert_eq!(pool.apply(square, 3).unwrap(), 9);
        let starting: u32 = read_report(&pid_path).parse().unwrap();
        assert!(!first.contains(&starting));
        let held = gate.hold();
        let queued = pool.apply_async(square, 4).unwrap();
        std::fs::remove_file(&hold).unwrap();
        sigkill(starting);
        assert_eq!(queued.result().unwrap(), 16);
        drop(held);
        assert!(is_gone(starting));
        assert!(!pool.pids().contains(&starting));
        let expected: Vec<u64> = (0..10).map(|x| x * x).collect();
        assert_eq!(pool.map_chunked(square, 0..10, 1).unwrap(), expected);
    });
}

// Checks the same while the pool starts: a worker killed from outside in
// its initializer is started again, and `build` succeeds.
#[test]
fn a_worker_killed_while_the_pool_starts_is_started_again() {
    isolated(|| {
        let hold = temp_path("hold-initializer");
        let pid_path = temp_path("starting-pid");
        let gate = Gate::new();
        let paths = (
            hold.to_str().unwrap().to_owned(),
            pid_path.to_str().unwrap().to_owned(),
            gate.path(),
        );
        std::fs::write(&hold, b"hold").unwrap();
        std::thread::scope(|s| {
            let building = s.spawn(|| {
                Pool::builder()
                    .processes(1)
                    .initializer(initializer_held, paths)
                    .build()
            });
            let starting: u32 = read_report(&pid_path).parse().unwrap();
            let held = gate.hold();
            std::fs::remove_file(&hold).unwrap();
            sigkill(starting);
            let pool = building.join().unwrap().unwrap();
            drop(held);
            assert!(is_gone(starting));
            assert!(!pool.pids().contains(&starting));
            assert_eq!(pool.apply(square, 5).unwrap(), 25);
        });
    });
}

// Checks serialisation failures: an argument that does not encode is an
// error at once, before anything is queued; a result that does not encode
// fails its task (`_TestPoolWorkerErrors.test_unpickleable_result`), and
// the worker goes on.
#[test]
fn test_unpickleable_result_and_argument() {
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let first = pool.apply(pid, ()).unwrap();
        let err = pool.apply_async(take_refuses, Refuses).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(
            err.to_string().contains("cannot encode the argument"),
            "{err}"
        );
        let err = pool.map(take_refuses, [Refuses]).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        let err = pool.apply(make_refuses, ()).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(
            err.to_string().contains("cannot encode the result"),
            "{err}"
        );
        assert_eq!(pool.apply(pid, ()).unwrap(), first);
    });
}

// Port of `_TestPool.test_terminate`: terminate with work running and
// queued fails every unfinished task with a shut-down error at once (none
// hangs), and join then finds every worker gone.
#[test]
fn test_terminate() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        let gates = [Gate::new(), Gate::new()];
        let running: Vec<_> = gates
            .iter()
            .map(|g| pool.apply_async(gated, g.path()).unwrap())
            .collect();
        let _held: Vec<_> = gates.iter().map(Gate::hold).collect();
        let queued: Vec<_> = (0..50)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        let workers = pool.pids();
        let started = Instant::now();
        pool.terminate();
        for task in running {
            let err = task.result().unwrap_err();
            assert!(err.is_shutdown(), "{err}");
        }
        for task in queued {
            let err = task.result().unwrap_err();
            assert!(err.is_shutdown(), "{err}");
        }
        pool.join().unwrap();
        assert!(started.elapsed() < DEADLINE);
        assert!(pool.pids().is_empty());
        assert!(workers.iter().all(|&p| is_gone(p)));
        assert!(pool.apply(square, 1).unwrap_err().is_shutdown());
    });
}

// Checks that dropping a pool with work queued waits for that work, which
// succeeds (Python's `with Pool()` terminates instead; `close` + `join`
// is what this does).
#[test]
fn dropping_a_pool_finishes_its_queue() {
    isolated(|| {
        let pool = Pool::builder().processes(1).build().unwrap();
        let gate = Gate::new();
        let first = pool.apply_async(gated, gate.path()).unwrap();
        let held = gate.hold();
        let queued: Vec<_> = (0..20)
            .map(|i| pool.apply_async(square, i).unwrap())
            .collect();
        assert!(queued.iter().all(|t| !t.done()));
        drop(held);
        drop(pool);
        assert!(first.done());
        first.result().unwrap();
        for (i, task) in (0..).zip(queued) {
            assert!(task.done());
            assert_eq!(task.result().unwrap(), i * i);
        }
    });
}

/// Whether this process ignores SIGINT, as everything started in the
/// background by a non-interactive shell does (and its children inherit):
/// then no Ctrl-C can stop it, by design, and the Ctrl-C tests have nothing
/// to check. Read from the `SigIgn` mask in `/proc/self/status`.
fn sigint_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    mask & (1 << (Signal::INT.as_raw() - 1)) != 0
}

/// Starts a process that builds a `Pool(2)`, and returns it with the pids
/// of the pool's workers, once it has reported them.
fn pool_owner() -> (Process<()>, Vec<u32>) {
    let path = temp_path("pool-pids");
    let owner = Process::start(start_pool_and_wait, path.to_str().unwrap().to_owned()).unwrap();
    let mut report = None;
    poll_until("the owner reports its workers", || {
        report = std::fs::read_to_string(&path).ok();
        report.is_some()
    });
    std::fs::remove_file(&path).unwrap();
    let workers: Vec<u32> = report
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(workers.len(), 2);
    assert!(workers.iter().all(|&p| !is_gone(p)));
    (owner, workers)
}

// Checks that a pool's workers die with the process that owns the pool,
// when that process is killed with SIGKILL (it can do nothing itself).
#[test]
fn workers_die_when_the_pool_owner_is_killed() {
    isolated(|| {
        let (mut owner, workers) = pool_owner();
        owner.kill();
        let err = owner.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        poll_until("the pool's workers are gone", || {
            workers.iter().all(|&p| is_gone(p))
        });
    });
}

// Checks Ctrl-C: the terminal sends SIGINT to every process of the
// foreground group, the pool's owner and its workers alike. Sent here to
// the owner first and then to the workers, it leaves no process behind.
// (Python's pool loses the workers' tasks to `KeyboardInterrupt` and can
// leave a hung parent or orphaned workers: bpo-8296.)
#[test]
fn ctrl_c_leaves_no_worker() {
    if sigint_ignored() {
        eprintln!("SIGINT is ignored here (a background job): no Ctrl-C to test");
        return;
    }
    isolated(|| {
        let (mut owner, workers) = pool_owner();
        let sigint = |pid: u32| {
            let _ = kill_process(Pid::from_raw(pid as i32).unwrap(), Signal::INT);
        };
        sigint(owner.pid());
        for &worker in &workers {
            sigint(worker);
        }
        let err = owner.join_timeout(Duration::MAX).unwrap_err();
        assert!(
            err.is_worker_died() && err.to_string().contains("SIGINT"),
            "{err}"
        );
        assert_eq!(owner.exitcode(), Some(-2));
        poll_until("the pool's workers are gone", || {
            workers.iter().all(|&p| is_gone(p))
        });
    });
}

// Checks that the owner's SIGINT alone (a `kill -INT` of the parent, not
// the whole group) still takes its workers with it.
#[test]
fn sigint_to_the_pool_owner_alone_leaves_no_worker() {
    if sigint_ignored() {
        eprintln!("SIGINT is ignored here (a background job): no Ctrl-C to test");
        return;
    }
    isolated(|| {
        let (mut owner, workers) = pool_owner();
        let _ = kill_process(Pid::from_raw(owner.pid() as i32).unwrap(), Signal::INT);
        owner.join_timeout(Duration::MAX).unwrap_err();
        poll_until("the pool's workers are gone", || {
            workers.iter().all(|&p| is_gone(p))
        });
    });
}

// Checks a crash storm, three times over to catch races: of 200 tasks on
// two workers, every tenth aborts its worker. Exactly those fail, each with
// a worker-died error naming SIGABRT; every other task succeeds — including
// those pipelined behind a crash, which go to the next worker.
#[test]
fn crash_storm() {
    isolated(|| {
        let pool = Pool::builder().processes(2).build().unwrap();
        for round in 0..3 {
            let tasks: Vec<_> = (0..200)
                .map(|i| pool.apply_async(storm, i).unwrap())
                .collect();
            for (i, task) in (0..).zip(tasks) {
                match task.result() {
                    Ok(v) => {
                        assert_ne!(i % 10, 9, "round {round}: task {i} survived");
                        assert_eq!(v, 2 * i);
                    }
                    Err(err) => {
                        assert_eq!(i % 10, 9, "round {round}: task {i}: {err}");
                        assert!(err.is_worker_died(), "round {round}: task {i}: {err}");
                        assert!(err.to_string().contains("SIGABRT"), "{err}");
                    }
                }
            }
            // Each dead worker was replaced.
            poll_until("the pool has two workers again", || pool.pids().len() == 2);
        }
        // The same storm through map, one item per chunk: the first crash
        // is the error.
        let err = pool.map_chunked(storm, 0..200, 1).unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert_eq!(
            pool.map(storm, (0..100).map(|i| i * 10)).unwrap().len(),
            100
        );
    });
}
