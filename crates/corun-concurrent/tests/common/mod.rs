//! Helpers shared by the integration tests: polling an observable state with
//! a deadline, a gate that tasks wait at until the test opens it, knowing
//! that another thread is blocked when the API under test offers no
//! observable for it, and naming a task's outcome for comparisons.

#![allow(dead_code, unused_imports)]

use std::fmt::Debug;
use std::sync::{Arc, Condvar, Mutex};

use corun_concurrent::{Error, Task, ThreadPoolExecutor};
pub(crate) use corun_test_support::{DEADLINE, Probe, assert_timeout, poll_until};

/// A door that tasks wait at until the test opens it: how a test keeps a
/// task running (or a worker busy) for exactly as long as it needs.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    cond: Condvar,
}

impl Gate {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Lets every waiter through, now and later.
    pub(crate) fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cond.notify_all();
    }

    /// Waits until the gate is open; panics after [`DEADLINE`], so that a
    /// test that forgets to open it fails instead of hanging.
    #[track_caller]
    pub(crate) fn wait(&self) {
        let open = self.open.lock().unwrap();
        let (open, timeout) = self
            .cond
            .wait_timeout_while(open, DEADLINE, |open| !*open)
            .unwrap();
        assert!(*open && !timeout.timed_out(), "the gate was never opened");
    }
}

/// A meeting point for `n` threads, like `std::sync::Barrier` but failing
/// the test after [`DEADLINE`] instead of hanging: how a test proves that
/// `n` tasks run at the same time.
#[derive(Debug)]
pub(crate) struct Rendezvous {
    parties: usize,
    arrived: Mutex<usize>,
    cond: Condvar,
}

impl Rendezvous {
    pub(crate) fn new(parties: usize) -> Arc<Self> {
        Arc::new(Self {
            parties,
            arrived: Mutex::new(0),
            cond: Condvar::new(),
        })
    }

    /// Arrives, then waits until all `parties` have.
    #[track_caller]
    pub(crate) fn wait(&self) {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.cond.notify_all();
        let (arrived, timeout) = self
            .cond
            .wait_timeout_while(arrived, DEADLINE, |n| *n < self.parties)
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "only {} of {} threads met",
            *arrived,
            self.parties
        );
    }
}

/// A task's outcome as a short string: `ok:VALUE`, `cancelled`,
/// `panic:MESSAGE`, `broken`, `timeout`, `shutdown`, `taken`, or `error:…`.
pub(crate) fn describe<T: Debug>(result: Result<T, Error>) -> String {
    match result {
        Ok(v) => format!("ok:{v:?}"),
        Err(e) if e.is_cancelled() => "cancelled".to_owned(),
        Err(e) if e.is_panic() => format!("panic:{}", e.panic_message().unwrap()),
        Err(e) if e.is_broken() => "broken".to_owned(),
        Err(e) if e.is_timeout() => "timeout".to_owned(),
        Err(e) if e.is_shutdown() => "shutdown".to_owned(),
        Err(e) if e.is_already_taken() => "taken".to_owned(),
        Err(e) => format!("error:{e}"),
    }
}

/// The outcomes of done tasks, in order (each must be done: this does not
/// wait beyond [`DEADLINE`]).
#[track_caller]
pub(crate) fn outcomes<T: Debug>(tasks: Vec<Task<T>>) -> Vec<String> {
    tasks
        .into_iter()
        .map(|mut t| describe(t.result_timeout(DEADLINE)))
        .collect()
}

/// A pool of `workers` threads.
pub(crate) fn new_pool(workers: usize) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .unwrap()
}

/// A task already finished with `value`.
pub(crate) fn successful(value: i32) -> Task<i32> {
    let (task, promise) = Task::pending();
    promise.complete(Ok(value));
    task
}

/// A task already failed (a remote error, "boom").
pub(crate) fn failed() -> Task<i32> {
    let (task, promise) = Task::pending();
    promise.complete(Err(Error::remote("boom")));
    task
}

/// A task cancelled before it started.
pub(crate) fn cancelled() -> Task<i32> {
    let (task, _promise) = Task::pending();
    assert!(task.cancel());
    task
}
