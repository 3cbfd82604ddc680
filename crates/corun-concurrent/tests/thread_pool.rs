//! Behaviour of [`ThreadPoolExecutor`], ported from CPython's
//! `Lib/test/test_concurrent_futures/` — `executor.py` (`ExecutorTest`),
//! `test_thread_pool.py` (`ThreadPoolExecutorTest`), `test_shutdown.py`
//! (`ExecutorShutdownTest`, `ThreadPoolShutdownTest`) and `test_init.py`
//! (`InitializerMixin`, `FailingInitializerMixin`) — adapted to the Rust
//! API: `submit(fn, *args)` takes one argument (a tuple for several),
//! `spawn` takes a closure, `shutdown(wait, cancel_futures)` is
//! [`Executor::shutdown`], and `BrokenThreadPool` is [`Error::is_broken`].
//! `map` has its own file, `map.rs`.
//!
//! Where CPython sleeps "to let the workers start", these tests hold tasks
//! at a `common::Gate` and poll an observable (a counter, `Task::running`)
//! with a 10 s deadline.
//!
//! Not ported: `test_submit_keyword` (no keyword arguments),
//! `test_interpreter_shutdown` / `test_submit_after_interpreter_shutdown`
//! / `test_hang_global_shutdown_lock` (no interpreter exit or fork here),
//! `test_no_stale_references` / `test_free_reference` (ownership frees a
//! task's value when its `Task` is dropped; there is no GC to check).

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{DEADLINE, Gate, Probe, Rendezvous, assert_timeout, new_pool, outcomes, poll_until};
use corun_concurrent::{CancelToken, Executor, Submit, Task, ThreadPoolExecutor};

/// The time-out used where a wait must really run out.
const SHORT: Duration = Duration::from_millis(20);

/// A task that waits at `gate`, then returns `value`.
fn gated(pool: &ThreadPoolExecutor, gate: &Arc<Gate>, value: i32) -> Task<i32> {
    let gate = Arc::clone(gate);
    pool.spawn(move || {
        gate.wait();
        value
    })
    .unwrap()
}

thread_local! {
    /// Set by a task in its worker; its destructor runs when the worker
    /// thread exits.
    static ON_EXIT: RefCell<Option<ExitNotice>> = const { RefCell::new(None) };
}

/// Counts, in its `Drop`, a worker thread that exited.
struct ExitNotice(Arc<AtomicUsize>);

impl Drop for ExitNotice {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Makes the current worker count its own exit into `exits` (once per
/// thread).
fn count_exit_of_this_thread(exits: &Arc<AtomicUsize>) {
    ON_EXIT.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| ExitNotice(Arc::clone(exits)));
    });
}

// ---------------------------------------------------------------------------
// executor.py ExecutorTest
// ---------------------------------------------------------------------------

// Ports executor.py ExecutorTest.test_submit: `submit(pow, 2, 8)`.
#[test]
fn test_submit() {
    let pool = new_pool(2);
    let task = pool.submit(|(b, e): (u64, u32)| b.pow(e), (2, 8)).unwrap();
    assert_eq!(task.result().unwrap(), 256);
    let task = pool.submit(|s: String| s.len(), "four".to_owned()).unwrap();
    assert_eq!(task.result().unwrap(), 4);
    assert_eq!(
        pool.spawn(|| "closure").unwrap().result().unwrap(),
        "closure"
    );
}

// Ports executor.py ExecutorTest.test_max_workers_negative: 0 workers is an
// invalid argument (Python: ValueError; negative numbers cannot be
// expressed with a usize).
#[test]
fn test_max_workers_zero() {
    let err = ThreadPoolExecutor::builder()
        .max_workers(0)
        .build()
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err}");
    assert!(err.to_string().contains("max_workers"), "{err}");
}

// Ports test_thread_pool.py ThreadPoolExecutorTest.test_default_workers:
// min(32, cpus + 4).
#[test]
fn test_default_workers() {
    let cpus = thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(ThreadPoolExecutor::new().max_workers(), (cpus + 4).min(32));
    assert_eq!(new_pool(3).max_workers(), 3);
}

// Ports executor.py ExecutorTest.test_swallows_falsey_exceptions (a
// falsy exception is still an exception): a task returning an `Err` value
// is a successful task whose value is that `Err`, not a failed task.
#[test]
fn task_returning_err_is_a_value() {
    let pool = new_pool(1);
    let task = pool.spawn(|| Err::<(), _>("falsy")).unwrap();
    assert!(task.wait_timeout(DEADLINE));
    assert!(!task.failed());
    assert_eq!(task.result().unwrap(), Err("falsy"));
}

// ---------------------------------------------------------------------------
// Lazy threads, reuse, names
// ---------------------------------------------------------------------------

// Ports test_thread_pool.py ThreadPoolExecutorTest.test_idle_thread_reuse:
// tasks submitted one after another, each waited on, all run on one thread.
//
// The worker marks itself idle just after it completes a task, so a
// submission that follows the wake-up of result() at once can race it (as in
// CPython, whose worker releases its idle semaphore after setting the
// result; the GIL hides the race there). Before each submission the test
// therefore waits until the worker is asleep waiting for work.
#[test]
fn test_idle_thread_reuse() {
    let pool = new_pool(4);
    assert_eq!(pool.workers(), 0, "threads start lazily");
    let (first_thread, probe) = pool
        .spawn(|| (thread::current().id(), Probe::current()))
        .unwrap()
        .result()
        .unwrap();
    assert_eq!(pool.workers(), 1);
    for i in 0..5 {
        probe.wait_until_blocked();
        let task = pool.submit(|x: i32| (x * 2, thread::current().id()), i);
        let (value, ran_on) = task.unwrap().result().unwrap();
        assert_eq!(value, i * 2);
        assert_eq!(ran_on, first_thread);
        assert_eq!(pool.workers(), 1, "an idle worker is reused");
    }
}

// Checks that an idle worker absorbs one submission, not every submission
// made while it is idle: with one worker idle and a pool of 3, three tasks
// submitted back to back that must all run at once (they meet at a
// barrier) get three workers. (CPython's idle semaphore is a count of idle
// workers that each submission consumes one of.)
#[test]
fn idle_worker_absorbs_one_submission() {
    for _ in 0..20 {
        let pool = new_pool(3);
        let probe = pool.spawn(Probe::current).unwrap().result().unwrap();
        probe.wait_until_blocked();
        let barrier = Rendezvous::new(3);
        let arrived = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let arrived = Arc::clone(&arrived);
                pool.spawn(move || {
                    arrived.fetch_add(1, SeqCst);
                    barrier.wait();
                })
                .unwrap()
            })
            .collect();
        poll_until("all three tasks run at once", || arrived.load(SeqCst) == 3);
        for task in tasks {
            task.result().unwrap();
        }
        assert_eq!(pool.workers(), 3);
    }
}

// Ports test_shutdown.py ThreadPoolShutdownTest.test_thread_names_assigned:
// workers are named `{prefix}_{i}`.
#[test]
fn test_thread_names_assigned() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("SpecialPool")
        .build()
        .unwrap();
    // Three tasks that meet at a barrier need three workers.
    let barrier = Rendezvous::new(3);
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            pool.spawn(move || {
                barrier.wait();
                thread::current().name().map(str::to_owned)
            })
            .unwrap()
        })
        .collect();
    let names: BTreeSet<_> = tasks
        .into_iter()
        .map(|t| t.result().unwrap().unwrap())
        .collect();
    let expected: BTreeSet<_> = ["SpecialPool_0", "SpecialPool_1", "SpecialPool_2"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(names, expected);
}

// Ports test_shutdown.py ThreadPoolShutdownTest.test_thread_names_default:
// `ThreadPoolExecutor-N_i`.
#[test]
fn test_thread_names_default() {
    let pool = new_pool(1);
    let name = pool
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap()
        .result()
        .unwrap()
        .unwrap();
    let rest = name.strip_prefix("ThreadPoolExecutor-").expect(&name);
    let (n, i) = rest.split_once('_').expect(&name);
    assert!(n.parse::<usize>().is_ok(), "{name}");
    assert_eq!(i, "0", "{name}");
}

// Python's `thread_name_prefix or ("ThreadPoolExecutor-%d" % …)`: an empty
// prefix gets the default names, as in test_thread_names_default.
#[test]
fn empty_thread_name_prefix_is_the_default() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("")
        .build()
        .unwrap();
    let name = pool
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap()
        .result()
        .unwrap()
        .unwrap();
    assert!(name.starts_with("ThreadPoolExecutor-"), "{name}");
    assert!(name.ends_with("_0"), "{name}");
}

// Checks that the pool never starts more than max_workers threads, however
// many tasks wait.
#[test]
fn never_more_than_max_workers() {
    let pool = new_pool(2);
    let gate = Gate::new();
    let tasks: Vec<_> = (0..10).map(|i| gated(&pool, &gate, i)).collect();
    poll_until("two tasks run", || {
        tasks.iter().filter(|t| t.running()).count() == 2
    });
    assert_eq!(pool.workers(), 2);
    gate.open();
    let values: Vec<_> = tasks.into_iter().map(|t| t.result().unwrap()).collect();
    assert_eq!(values, (0..10).collect::<Vec<_>>());
    assert_eq!(pool.workers(), 2);
}

// ---------------------------------------------------------------------------
// test_shutdown.py
// ---------------------------------------------------------------------------

// Ports test_shutdown.py ExecutorShutdownTest.test_run_after_shutdown:
// submitting after shutdown is an error; shutting down again is harmless.
#[test]
fn test_run_after_shutdown() {
    let pool = new_pool(2);
    pool.spawn(|| ()).unwrap().result().unwrap();
    pool.shutdown(true, false);
    let err = pool.submit(|x: i32| x, 1).unwrap_err();
    assert!(err.is_shutdown(), "{err}");
    assert!(err.to_string().contains("after shutdown"), "{err}");
    assert!(pool.spawn(|| ()).unwrap_err().is_shutdown());
    pool.shutdown(true, false);
    pool.shutdown(false, true);
    // A pool shut down before any submission starts no thread at all.
    let idle = new_pool(2);
    idle.shutdown(true, false);
    assert!(idle.spawn(|| ()).unwrap_err().is_shutdown());
    assert_eq!(idle.workers(), 0);
}

// Ports test_shutdown.py ExecutorShutdownTest.test_cancel_futures and the
// reference's `['done','cancelled','cancelled','cancelled']` check:
// shutdown(cancel_futures=True) cancels the queued tasks and never
// interrupts the running one, and with wait=True returns once it finished.
#[test]
fn test_cancel_futures() {
    let pool = Arc::new(new_pool(1));
    let gate = Gate::new();
    let tasks: Vec<_> = (0..4).map(|i| gated(&pool, &gate, i)).collect();
    poll_until("the first task runs", || tasks[0].running());
    let shutter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.shutdown(true, true))
    };
    poll_until("the queued tasks are cancelled", || {
        tasks[1..].iter().all(Task::cancelled)
    });
    assert!(tasks[0].running(), "the running task is not interrupted");
    assert!(!shutter.is_finished(), "shutdown(wait) waits for it");
    gate.open();
    shutter.join().unwrap();
    assert!(tasks[0].done(), "shutdown(wait) returned after it finished");
    let states: Vec<_> = tasks
        .iter()
        .map(|t| if t.cancelled() { "cancelled" } else { "done" })
        .collect();
    assert_eq!(states, ["done", "cancelled", "cancelled", "cancelled"]);
    assert_eq!(
        outcomes(tasks),
        ["ok:0", "cancelled", "cancelled", "cancelled"]
    );
}

// Ports test_shutdown.py ExecutorShutdownTest.test_cancel_futures_wait_false:
// cancel_futures without wait returns at once, and the running task still
// finishes.
#[test]
fn test_cancel_futures_wait_false() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let tasks: Vec<_> = (0..3).map(|i| gated(&pool, &gate, i)).collect();
    poll_until("the first task runs", || tasks[0].running());
    let t = Instant::now();
    pool.shutdown(false, true);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(tasks[1].cancelled() && tasks[2].cancelled());
    assert!(tasks[0].running());
    gate.open();
    assert_eq!(outcomes(tasks), ["ok:0", "cancelled", "cancelled"]);
}

// Ports test_shutdown.py ThreadPoolShutdownTest.test_shutdown_no_wait:
// shutdown(wait=False) returns at once; the submitted work (running and
// queued) still completes.
#[test]
fn test_shutdown_no_wait() {
    let pool = new_pool(1);
    let gate = Gate::new();
    let tasks: Vec<_> = (0..3).map(|i| gated(&pool, &gate, i)).collect();
    poll_until("the first task runs", || tasks[0].running());
    let t = Instant::now();
    pool.shutdown(false, false);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(!tasks[0].done(), "returned while work was still running");
    assert!(pool.spawn(|| 0).unwrap_err().is_shutdown());
    gate.open();
    assert_eq!(outcomes(tasks), ["ok:0", "ok:1", "ok:2"]);
}

// Ports test_shutdown.py ThreadPoolShutdownTest.test_threads_terminate
// (and ExecutorShutdownTest.test_hang_issue12364): after shutdown(wait=True)
// every worker has exited, and every queued task ran.
#[test]
fn test_threads_terminate() {
    let pool = new_pool(3);
    let exits = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let barrier = Rendezvous::new(3);
    for i in 0..30 {
        let exits = Arc::clone(&exits);
        let ran = Arc::clone(&ran);
        let barrier = Arc::clone(&barrier);
        let task = pool.spawn(move || {
            count_exit_of_this_thread(&exits);
            if i < 3 {
                barrier.wait(); // make sure all three workers start
            }
            ran.fetch_add(1, SeqCst);
        });
        drop(task.unwrap()); // a dropped task still runs
    }
    pool.shutdown(true, false);
    assert_eq!(
        ran.load(SeqCst),
        30,
        "queued work ran before shutdown returned"
    );
    assert_eq!(pool.workers(), 3);
    assert_eq!(exits.load(SeqCst), 3, "every worker exited");
}

// Ports test_shutdown.py ThreadPoolShutdownTest.test_context_manager_shutdown
// and test_del_shutdown: dropping the pool waits for its work and its
// threads.
#[test]
fn test_del_shutdown() {
    let pool = new_pool(2);
    let exits = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let exits = Arc::clone(&exits);
            let threads = Arc::clone(&threads);
            pool.spawn(move || {
                count_exit_of_this_thread(&exits);
                threads
                    .lock()
                    .unwrap()
                    .insert(format!("{:?}", thread::current().id()));
                i
            })
            .unwrap()
        })
        .collect();
    drop(pool);
    let used = threads.lock().unwrap().len();
    assert_eq!(
        exits.load(SeqCst),
        used,
        "every worker that ran a task exited"
    );
    assert!(tasks.iter().all(Task::done));
    assert_eq!(
        outcomes(tasks),
        ["ok:0", "ok:1", "ok:2", "ok:3", "ok:4", "ok:5"]
    );
}

// Python's shutdown(wait=True) "will not return until all the pending
// futures are done executing" whoever calls it: each call joins every
// worker thread, which any number of threads may do (CPython's tests call
// it from one thread at a time). Checks two threads shutting down at once:
// neither returns before the running task is done.
#[test]
fn concurrent_shutdowns_both_wait() {
    let pool = Arc::new(new_pool(1));
    let gate = Gate::new();
    let task = Arc::new(gated(&pool, &gate, 7));
    poll_until("the task runs", || task.running());
    let shutters: Vec<_> = (0..2)
        .map(|_| {
            let (pool, task) = (Arc::clone(&pool), Arc::clone(&task));
            let (tx, rx) = mpsc::channel();
            let shutter = thread::spawn(move || {
                tx.send(Probe::current()).unwrap();
                pool.shutdown(true, false);
                task.done()
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
    gate.open();
    let done_at_return: Vec<bool> = shutters
        .into_iter()
        .map(|(s, _)| s.join().unwrap())
        .collect();
    assert_eq!(
        early, 0,
        "a shutdown(wait) returned while the task still ran"
    );
    assert_eq!(done_at_return, [true, true]);
    let task = Arc::try_unwrap(task).unwrap();
    assert_eq!(task.result().unwrap(), 7);
}

// Ports test_shutdown.py ExecutorShutdownTest.test_shutdown_race_issue12456:
// submissions racing a shutdown either are refused or complete; none hangs.
#[test]
fn test_shutdown_race() {
    for _ in 0..20 {
        let pool = Arc::new(new_pool(2));
        let submitter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                let mut tasks = Vec::new();
                for i in 0..50 {
                    match pool.spawn(move || i) {
                        Ok(t) => tasks.push(t),
                        Err(e) => {
                            assert!(e.is_shutdown(), "{e}");
                            break;
                        }
                    }
                }
                tasks
            })
        };
        pool.shutdown(true, false);
        for task in submitter.join().unwrap() {
            let mut task = task;
            task.result_timeout(DEADLINE).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// test_init.py
// ---------------------------------------------------------------------------

thread_local! {
    static INIT_STATUS: RefCell<&'static str> = const { RefCell::new("uninitialized") };
}

// Ports test_init.py InitializerMixin.test_initializer: each worker runs
// the initializer once, before its first task.
#[test]
fn test_initializer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = {
        let calls = Arc::clone(&calls);
        ThreadPoolExecutor::builder()
            .max_workers(3)
            .initializer(move || {
                calls.fetch_add(1, SeqCst);
                INIT_STATUS.with(|s| *s.borrow_mut() = "initialized");
                Ok::<(), String>(())
            })
            .build()
            .unwrap()
    };
    assert_eq!(
        calls.load(SeqCst),
        0,
        "no thread before the first submission"
    );
    let barrier = Rendezvous::new(3);
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            pool.spawn(move || {
                barrier.wait(); // one task per worker
                INIT_STATUS.with(|s| *s.borrow())
            })
            .unwrap()
        })
        .collect();
    for task in tasks {
        assert_eq!(task.result().unwrap(), "initialized");
    }
    for _ in 0..10 {
        let status = pool.spawn(|| INIT_STATUS.with(|s| *s.borrow()));
        assert_eq!(status.unwrap().result().unwrap(), "initialized");
    }
    assert_eq!(calls.load(SeqCst), 3, "once per worker");
    assert_eq!(pool.workers(), 3);
}

/// Ports test_init.py FailingInitializerMixin.test_initializer for one
/// failing initializer: each submission is refused or its task fails as
/// broken; the pool soon refuses everything; no worker is restarted.
fn check_failing_initializer(init: impl Fn() -> Result<(), String> + Send + Sync + 'static) {
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = {
        let calls = Arc::clone(&calls);
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .initializer(move || {
                calls.fetch_add(1, SeqCst);
                init()
            })
            .build()
            .unwrap()
    };
    let mut tasks = Vec::new();
    for i in 0..5 {
        match pool.spawn(move || i) {
            Ok(task) => tasks.push(task),
            Err(e) => assert!(e.is_broken(), "{e}"),
        }
    }
    for mut task in tasks {
        let err = task.result_timeout(DEADLINE).unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert!(err.to_string().contains("initializer failed"), "{err}");
        assert!(err.to_string().contains("error in initializer"), "{err}");
    }
    // At some point the pool is broken, and from then on submit fails.
    poll_until("the pool is broken", || pool.spawn(|| 0).is_err());
    for _ in 0..100 {
        let err = pool.spawn(|| 0).unwrap_err();
        assert!(err.is_broken(), "{err}");
        assert!(err.to_string().contains("error in initializer"), "{err}");
    }
    assert!(format!("{pool:?}").contains("error in initializer"));
    assert!(
        calls.load(SeqCst) <= 2,
        "no respawn: {}",
        calls.load(SeqCst)
    );
    assert!(pool.workers() <= 2);
    drop(pool); // and shutting it down does not hang
    assert!(
        calls.load(SeqCst) <= 2,
        "no respawn: {}",
        calls.load(SeqCst)
    );
}

// Ports test_init.py FailingInitializerMixin.test_initializer with an
// initializer that returns an error (Python: raises ValueError).
#[test]
fn test_failing_initializer_err() {
    check_failing_initializer(|| Err("error in initializer".to_owned()));
}

// Ports test_init.py FailingInitializerMixin.test_initializer with an
// initializer that panics.
#[test]
fn test_failing_initializer_panic() {
    check_failing_initializer(|| panic!("error in initializer"));
}

// ---------------------------------------------------------------------------
// Timeouts never kill work (reference §2.2); cooperative cancellation
// ---------------------------------------------------------------------------

// Checks the reference's §2.2 for a thread pool: a result() time-out leaves
// the task running and uncancellable; a CancelToken it polls stops it.
#[test]
fn timeout_does_not_stop_running_work() {
    let pool = new_pool(1);
    let token = CancelToken::new();
    let rounds = Arc::new(AtomicUsize::new(0));
    let mut task = {
        let token = token.clone();
        let rounds = Arc::clone(&rounds);
        pool.spawn(move || {
            while !token.wait_timeout(Duration::from_millis(1)) {
                rounds.fetch_add(1, SeqCst);
            }
            token.check()
        })
        .unwrap()
    };
    poll_until("the task runs", || task.running());
    let t = Instant::now();
    assert!(task.result_timeout(SHORT).unwrap_err().is_timeout());
    assert_timeout(t.elapsed(), SHORT);
    assert!(!task.cancel(), "a running task cannot be cancelled");
    let before = rounds.load(SeqCst);
    poll_until("the task goes on after the time-out", || {
        rounds.load(SeqCst) > before
    });
    assert!(!token.is_cancelled());
    token.cancel();
    let stopped = task.result_timeout(DEADLINE).unwrap();
    assert!(stopped.unwrap_err().is_cancelled());
}

// Checks CancelToken on its own: clones share the flag, check() turns it
// into a cancelled error, wait_timeout sleeps the full time when not
// cancelled and returns early when cancelled from another thread.
#[test]
fn cancel_token() {
    let token = CancelToken::new();
    let clone = token.clone();
    assert!(!clone.is_cancelled() && clone.check().is_ok());
    let t = Instant::now();
    assert!(!clone.wait_timeout(SHORT));
    assert_timeout(t.elapsed(), SHORT);
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        tx.send(Probe::current()).unwrap();
        clone.wait_timeout(DEADLINE)
    });
    rx.recv().unwrap().wait_until_blocked();
    token.cancel();
    assert!(waiter.join().unwrap(), "woken by the cancel");
    assert!(token.is_cancelled());
    assert!(token.check().unwrap_err().is_cancelled());
    assert!(format!("{token:?}").contains("cancelled: true"));
}

// Checks Debug of the pool and its builder: the configuration is visible.
#[test]
fn pool_debug() {
    let builder = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("dbg");
    let repr = format!("{builder:?}");
    assert!(
        repr.contains("dbg") && repr.contains("max_workers"),
        "{repr}"
    );
    let pool = builder.build().unwrap();
    let repr = format!("{pool:?}");
    assert!(
        repr.contains("dbg") && repr.contains("max_workers: 2"),
        "{repr}"
    );
    assert!(repr.contains("shut_down: false"), "{repr}");
    pool.shutdown(true, false);
    assert!(format!("{pool:?}").contains("shut_down: true"));
}
