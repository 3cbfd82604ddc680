//! Nothing is left behind — no descriptor, child process or thread —
//! after each way a process or worker can end. One test, so that no other
//! test's thread comes or goes while threads are counted.

mod common;

use std::time::Duration;

use common::{Held, serial, wait_released, warm_up};
use corun_multiprocessing::Process;
use corun_multiprocessing::test_hooks::{Call, Worker, WorkerOptions};

corun_multiprocessing::enable_test_workers!();

fn double(x: u64) -> u64 {
    x * 2
}

fn boom(_: ()) {
    panic!("boom")
}

fn abort(_: ()) {
    std::process::abort()
}

fn forever(_: ()) {
    loop {
        std::thread::park();
    }
}

fn nap(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn joined() {
    assert_eq!(Process::start(double, 21).unwrap().join().unwrap(), 42);
}

fn panicked() {
    assert!(Process::start(boom, ()).unwrap().join().is_err());
}

fn aborted() {
    assert!(Process::start(abort, ()).unwrap().join().is_err());
}

fn killed_after_a_timed_out_join() {
    let mut p = Process::start(forever, ()).unwrap();
    assert!(p.join_timeout(Duration::from_millis(5)).is_err());
    p.kill();
    assert!(p.join().is_err());
}

fn daemon_dropped() {
    drop(Process::builder().daemon(true).start(forever, ()).unwrap());
}

fn non_daemon_dropped() {
    drop(Process::start(nap, 20).unwrap());
}

fn refused() {
    assert!(
        Worker::spawn(&WorkerOptions {
            program: Some("/bin/true".into()),
            ..WorkerOptions::default()
        })
        .is_err()
    );
}

fn initializer_failed() {
    assert!(
        Worker::spawn(&WorkerOptions {
            initializer: Some(Call::new(boom, &()).unwrap()),
            ..WorkerOptions::default()
        })
        .is_err()
    );
}

fn worker_dropped_with_calls_in_flight() {
    let w = Worker::spawn(&WorkerOptions::default()).unwrap();
    for i in 0..100 {
        w.send_call(&Call::new(double, &i).unwrap()).unwrap();
    }
    drop(w);
}

// Checks each way a process can end, against a snapshot taken before it.
#[test]
fn nothing_is_left_behind() {
    let _alone = serial();
    warm_up();
    let scenarios: [(&str, fn()); 9] = [
        ("joined", joined),
        ("panicked", panicked),
        ("aborted", aborted),
        (
            "killed after a timed-out join",
            killed_after_a_timed_out_join,
        ),
        ("daemon dropped", daemon_dropped),
        ("non-daemon dropped", non_daemon_dropped),
        ("refused", refused),
        ("initializer failed", initializer_failed),
        (
            "worker dropped with calls in flight",
            worker_dropped_with_calls_in_flight,
        ),
    ];
    for (name, scenario) in scenarios {
        let before = Held::now();
        scenario();
        eprintln!("checking: {name}");
        wait_released(&before, true);
    }
}
