//! `Process`: results and panics through `join`, exit codes, signals,
//! timed joins, names, daemons — ported from CPython's
//! `Lib/test/_test_multiprocessing.py` (`_TestProcess`) where it has the
//! same test, and each test checks that it leaves nothing behind.

mod common;

use std::time::{Duration, Instant};

use common::{Gate, Refuses, isolated, make_refuses, temp_path, wait_at_gate};
use corun_multiprocessing::{Process, cpu_count, current_process, parent_process};

corun_multiprocessing::enable_test_workers!();

fn identify(_: ()) -> (String, u32, Option<(String, u32)>) {
    let parent = parent_process().map(|p| (p.name().to_owned(), p.pid()));
    (
        current_process().name().to_owned(),
        std::process::id(),
        parent,
    )
}

fn wait_then_identify(gate: String) -> (String, u32, Option<(String, u32)>) {
    wait_at_gate(&gate);
    identify(())
}

fn add((a, b): (i64, i64)) -> i64 {
    a + b
}

fn boom(message: String) -> u8 {
    panic!("{message}")
}

fn exit_with(code: i32) {
    std::process::exit(code)
}

fn abort(_: ()) {
    std::process::abort()
}

fn segfault(_: ()) {
    // A SIGSEGV, raised the only way safe code can. The first one meets
    // std's stack-overflow handler, which finds no guard-page fault,
    // restores the default action and returns; the next one kills.
    let me = rustix::process::getpid();
    loop {
        rustix::process::kill_process(me, rustix::process::Signal::SEGV).unwrap();
    }
}

fn forever(_: ()) {
    loop {
        std::thread::park();
    }
}

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn nap_then_mark((ms, path): (u64, String)) {
    std::thread::sleep(Duration::from_millis(ms));
    std::fs::write(path, b"done").unwrap();
}

fn allocate(bytes: usize) -> usize {
    let v = std::hint::black_box(vec![1_u8; bytes]);
    v.len()
}

fn start_child(depth: u32) -> Vec<String> {
    let mut names = vec![current_process().name().to_owned()];
    if depth > 0 {
        let child = Process::builder()
            .name(format!("{}.{depth}", names[0]))
            .start(start_child, depth - 1)
            .unwrap();
        names.extend(child.join().unwrap());
    }
    names
}

fn take_refuses(_: Refuses) {}

// Port of `_TestProcess.test_process`: a named process reports its name
// and pid from inside, is alive with no exit code while it runs, and ends
// with exit code 0.
#[test]
fn test_process() {
    isolated(|| {
        let gate = Gate::new();
        let mut p = Process::builder()
            .name("child-1")
            .daemon(true)
            .start(wait_then_identify, gate.path())
            .unwrap();
        assert_eq!(p.name(), "child-1");
        assert!(p.daemon());
        let hold = gate.hold(); // the function is running now
        assert!(p.is_alive());
        assert_eq!(p.exitcode(), None);
        drop(hold);
        let (name, pid, parent) = p.join_timeout(Duration::MAX).unwrap();
        assert_eq!(name, "child-1");
        assert_eq!(pid, p.pid());
        assert_ne!(pid, std::process::id());
        assert_eq!(parent, Some(("MainProcess".to_owned(), std::process::id())));
        assert_eq!(p.exitcode(), Some(0));
        assert!(!p.is_alive());
    });
}

// Port of `_TestProcess.test_parent_process`: the child's
// `parent_process()` is this process; ours is none.
#[test]
fn test_parent_process() {
    isolated(|| {
        assert_eq!(parent_process(), None);
        assert_eq!(current_process().name(), "MainProcess");
        let (_, _, parent) = Process::start(identify, ()).unwrap().join().unwrap();
        let (name, pid) = parent.unwrap();
        assert_eq!((name.as_str(), pid), ("MainProcess", std::process::id()));
    });
}

// Checks that the default names count up as `Process-N`, as in Python.
#[test]
fn default_names_count_up() {
    isolated(|| {
        let a = Process::start(identify, ()).unwrap();
        let b = Process::start(identify, ()).unwrap();
        let n = |p: &Process<_>| p.name()["Process-".len()..].parse::<u32>().unwrap();
        assert!(n(&b) > n(&a));
        let (name, _, _) = a.join().unwrap();
        assert!(name.starts_with("Process-"));
        b.join().unwrap();
    });
}

// Checks that arguments go in and the return value comes back.
#[test]
fn join_returns_the_value() {
    isolated(|| {
        let p = Process::start(add, (40, 2)).unwrap();
        assert_eq!(p.join().unwrap(), 42);
    });
}

// Checks that a panic comes back through join with its message, and the
// process exits with code 1 (Python's exit code after an exception).
#[test]
fn join_returns_the_panic() {
    isolated(|| {
        let mut p = Process::start(boom, "kaboom".to_owned()).unwrap();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert_eq!(err.panic_message(), Some("kaboom"));
        assert_eq!(p.exitcode(), Some(1));
    });
}

// Port of `_TestProcess.test_sys_exit`: `exit(3)` inside the function
// gives exit code 3, and join says the process ended without a result.
#[test]
fn test_sys_exit() {
    isolated(|| {
        for code in [0, 3] {
            let mut p = Process::start(exit_with, code).unwrap();
            let err = p.join_timeout(Duration::MAX).unwrap_err();
            assert!(err.is_worker_died(), "{err}");
            assert!(
                err.to_string()
                    .contains(&format!("exited with code {code}")),
                "{err}"
            );
            assert_eq!(p.exitcode(), Some(code));
        }
    });
}

// Checks a process that returns normally: exit code 0.
#[test]
fn exitcode_zero() {
    isolated(|| {
        let mut p = Process::start(add, (1, 1)).unwrap();
        assert_eq!(p.join_timeout(Duration::MAX).unwrap(), 2);
        assert_eq!(p.exitcode(), Some(0));
    });
}

// Checks that an abort is exit code -6 and described as such.
#[test]
fn abort_is_minus_six() {
    isolated(|| {
        let mut p = Process::start(abort, ()).unwrap();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_worker_died());
        assert!(err.to_string().contains("aborted (SIGABRT"), "{err}");
        assert_eq!(p.exitcode(), Some(-6));
    });
}

// Checks that a segmentation fault is exit code -11 and described as such.
#[test]
fn segfault_is_minus_eleven() {
    isolated(|| {
        let mut p = Process::start(segfault, ()).unwrap();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(
            err.to_string().contains("segmentation fault (SIGSEGV"),
            "{err}"
        );
        assert_eq!(p.exitcode(), Some(-11));
    });
}

// Port of `_TestProcess.test_terminate` (`_kill_process(Process.terminate)`):
// a timed join of a running process times out and leaves it alive; after
// terminate() it ends with -SIGTERM.
#[test]
fn test_terminate() {
    isolated(|| {
        let mut p = Process::start(forever, ()).unwrap();
        let started = Instant::now();
        assert!(p.join_timeout(Duration::ZERO).unwrap_err().is_timeout());
        assert!(
            p.join_timeout(Duration::from_millis(20))
                .unwrap_err()
                .is_timeout()
        );
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert!(p.is_alive());
        assert_eq!(p.exitcode(), None);
        p.terminate();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_worker_died());
        assert!(err.to_string().contains("SIGTERM"), "{err}");
        assert_eq!(p.exitcode(), Some(-15));
        assert!(!p.is_alive());
    });
}

// Port of `_TestProcess.test_kill` (`_kill_process(Process.kill)`): the same
// with kill() and -SIGKILL; signalling an ended process does nothing.
#[test]
fn test_kill() {
    isolated(|| {
        let mut p = Process::start(forever, ()).unwrap();
        assert!(p.join_timeout(Duration::ZERO).unwrap_err().is_timeout());
        p.kill();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(
            err.to_string().contains("killed by signal 9 (SIGKILL)"),
            "{err}"
        );
        assert_eq!(p.exitcode(), Some(-9));
        p.kill();
        p.terminate();
        assert_eq!(p.exitcode(), Some(-9));
    });
}

// Checks that a timed-out join leaves the process usable: it is joined
// again later, and gives its value then; a third join finds it taken.
#[test]
fn join_timeout_then_join_again() {
    isolated(|| {
        let gate = Gate::new();
        let mut p = Process::start(wait_then_identify, gate.path()).unwrap();
        let t = Instant::now();
        let err = p.join_timeout(Duration::from_millis(30)).unwrap_err();
        corun_test_support::assert_timeout(t.elapsed(), Duration::from_millis(30));
        assert!(err.is_timeout());
        assert!(p.is_alive());
        gate.open();
        let (_, pid, _) = p.join_timeout(Duration::MAX).unwrap();
        assert_eq!(pid, p.pid());
        assert!(
            p.join_timeout(Duration::ZERO)
                .unwrap_err()
                .is_already_taken()
        );
        assert!(p.join().unwrap_err().is_already_taken());
    });
}

// Checks is_alive through a process's life: alive while the function
// runs, not once it has ended.
#[test]
fn is_alive_transitions() {
    isolated(|| {
        let gate = Gate::new();
        let p = Process::start(wait_then_identify, gate.path()).unwrap();
        assert!(p.is_alive());
        gate.open();
        let pid = p.pid();
        let mut p = p;
        corun_test_support::poll_until("the process has ended", || !p.is_alive());
        assert!(common::is_gone(pid));
        p.join_timeout(Duration::ZERO).unwrap();
    });
}

// Port of `_TestProcess.test_many_processes` (smaller, for two cores):
// several processes at once all finish with 0; several terminated all
// end with -SIGTERM.
#[test]
fn test_many_processes() {
    isolated(|| {
        let n = 2 * cpu_count().min(4);
        let ps: Vec<_> = (0..n)
            .map(|i| Process::start(nap, i as u64).unwrap())
            .collect();
        for (i, p) in ps.into_iter().enumerate() {
            assert_eq!(p.join().unwrap(), i as u64);
        }
        let mut ps: Vec<_> = (0..n)
            .map(|_| Process::start(forever, ()).unwrap())
            .collect();
        for p in &ps {
            p.terminate();
        }
        for p in &mut ps {
            assert!(p.join_timeout(Duration::MAX).unwrap_err().is_worker_died());
            assert_eq!(p.exitcode(), Some(-15));
        }
    });
}

// Port of `_TestProcess.test_recursion`: a process starts a process that
// starts a process; each knows its own name.
#[test]
fn test_recursion() {
    isolated(|| {
        let names = Process::builder()
            .name("outer")
            .start(start_child, 2)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(names, ["outer", "outer.2", "outer.2.1"]);
    });
}

// Checks that a result that cannot be serialised fails that call with a
// serialisation error (exit code 1), and an argument that cannot is an
// error before anything starts.
#[test]
fn serialization_failures() {
    isolated(|| {
        let mut p = Process::start(make_refuses, ()).unwrap();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert!(
            err.to_string().contains("cannot encode the result"),
            "{err}"
        );
        assert_eq!(p.exitcode(), Some(1));

        let before = common::Held::now();
        let err = Process::start(take_refuses, Refuses).unwrap_err();
        assert!(err.is_serialization(), "{err}");
        assert_eq!(common::Held::now().children, before.children);
    });
}

// Checks that dropping a daemon kills it (and reaps it).
#[test]
fn dropping_a_daemon_kills_it() {
    isolated(|| {
        let p = Process::builder().daemon(true).start(forever, ()).unwrap();
        let pid = p.pid();
        let t = Instant::now();
        drop(p);
        assert!(common::is_gone(pid));
        assert!(t.elapsed() < Duration::from_secs(5));
    });
}

// Checks that dropping a non-daemon waits for it to finish its function,
// as Python joins non-daemon children at exit.
#[test]
fn dropping_a_non_daemon_waits_for_it() {
    isolated(|| {
        let mark = temp_path("mark");
        let p = Process::start(nap_then_mark, (100, mark.to_str().unwrap().to_owned())).unwrap();
        let pid = p.pid();
        drop(p);
        assert!(common::is_gone(pid));
        assert_eq!(std::fs::read(&mark).unwrap(), b"done");
        std::fs::remove_file(mark).unwrap();
    });
}

// Checks a memory limit: an allocation past it fails, which aborts the
// process; a small one is fine.
#[test]
fn memory_limit_aborts_a_large_allocation() {
    isolated(|| {
        let limit = 512 << 20;
        let p = Process::builder()
            .memory_limit(limit)
            .start(allocate, 1 << 20)
            .unwrap();
        assert_eq!(p.join().unwrap(), 1 << 20);
        let mut p = Process::builder()
            .memory_limit(limit)
            .start(allocate, 2 << 30)
            .unwrap();
        let err = p.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("memory limit of {limit} bytes")),
            "{err}"
        );
        assert_eq!(p.exitcode(), Some(-6), "{err}");
    });
}

// Checks `cpu_count` (Python's `test_cpu_count`): at least one.
#[test]
fn test_cpu_count() {
    assert!(cpu_count() >= 1);
}

// Run alone, in a child of `a_worker_panic_names_the_worker`: a process
// whose function panics, its report left on the shared standard error.
#[test]
#[ignore = "run by a_worker_panic_names_the_worker, which reads its stderr"]
fn panicking_process_for_the_stderr_check() {
    let p = Process::builder()
        .name("panicky")
        .start(boom, "boom from the worker".to_owned())
        .unwrap();
    let err = p.join().unwrap_err();
    assert_eq!(err.panic_message(), Some("boom from the worker"));
}

// Checks that a worker's panic message, written to the standard error it
// shares with its parent, says which worker process panicked, so that it
// does not read as the parent's own crash.
#[test]
fn a_worker_panic_names_the_worker() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "panicking_process_for_the_stderr_check",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("corun worker process "))
        .unwrap_or_else(|| panic!("no worker named in: {stderr}"));
    assert!(line.ends_with(" (panicky):"), "{line}");
    assert!(stderr.contains("boom from the worker"), "{stderr}");
}
