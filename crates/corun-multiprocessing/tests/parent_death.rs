//! A worker never outlives its parent: killed with it (the kernel's
//! parent-death signal), or ending when the parent exits.

mod common;

use std::time::Duration;

use common::{is_gone, isolated, temp_path};
use corun_multiprocessing::{Process, parent_process};
use corun_test_support::poll_until;

corun_multiprocessing::enable_test_workers!();

fn forever(_: ()) {
    loop {
        std::thread::park();
    }
}

/// Starts a grandchild, reports its pid (and its parent as the grandchild
/// sees it) through a file, then waits to be killed.
fn start_grandchild_and_wait(path: String) {
    let grandchild = Process::builder()
        .name("grandchild")
        .start(forever, ())
        .unwrap();
    write_pid(&path, grandchild.pid());
    forever(());
}

/// Starts a grandchild, reports its pid, forgets its handle (so nothing
/// waits for it or kills it) and returns, so this process exits.
fn start_grandchild_and_exit(path: String) -> u32 {
    let grandchild = Process::builder()
        .name("grandchild")
        .start(forever, ())
        .unwrap();
    write_pid(&path, grandchild.pid());
    std::mem::forget(grandchild);
    parent_process().unwrap().pid()
}

fn write_pid(path: &str, pid: u32) {
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, pid.to_string()).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

fn read_pid(path: &std::path::Path) -> u32 {
    let mut pid = None;
    poll_until("the intermediate process reports its child", || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.parse().ok());
        pid.is_some()
    });
    std::fs::remove_file(path).unwrap();
    pid.unwrap()
}

// Checks that when a worker's parent is killed with SIGKILL (so it can do
// nothing about its children), the worker dies too.
#[test]
fn a_worker_dies_when_its_parent_is_killed() {
    isolated(|| {
        let path = temp_path("grandchild");
        let mut parent =
            Process::start(start_grandchild_and_wait, path.to_str().unwrap().to_owned()).unwrap();
        let grandchild = read_pid(&path);
        assert!(!is_gone(grandchild));
        parent.kill();
        let err = parent.join_timeout(Duration::MAX).unwrap_err();
        assert!(err.is_worker_died(), "{err}");
        poll_until("the grandchild is gone", || is_gone(grandchild));
    });
}

// Checks that a worker whose handle was forgotten ends when its parent
// exits normally.
#[test]
fn a_forgotten_worker_dies_when_its_parent_exits() {
    isolated(|| {
        let path = temp_path("grandchild");
        let parent =
            Process::start(start_grandchild_and_exit, path.to_str().unwrap().to_owned()).unwrap();
        let grandchild = read_pid(&path);
        assert_eq!(parent.join().unwrap(), std::process::id());
        poll_until("the grandchild is gone", || is_gone(grandchild));
    });
}
