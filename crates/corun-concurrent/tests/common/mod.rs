//! Helpers shared by the integration tests: polling an observable state with
//! a deadline, a gate that tasks wait at until the test opens it, knowing
//! that another thread is blocked when the API under test offers no
//! observable for it, and naming a task's outcome for comparisons.

#![allow(dead_code)]

use std::fmt::Debug;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use corun_concurrent::{Error, Task};

/// How long any poll may take before the test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// Polls `cond` (1 ms apart) until it holds; fails the test, naming `what`,
/// after [`DEADLINE`].
#[track_caller]
pub(crate) fn poll_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Checks that a wait that timed out took about `expected`: at least that
/// long, and nothing insane (room is left for a loaded machine).
#[track_caller]
pub(crate) fn assert_timeout(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected,
        "waited {actual:?}, less than the timeout {expected:?}"
    );
    assert!(
        actual < expected + Duration::from_secs(3),
        "waited {actual:?}, far more than the timeout {expected:?}"
    );
}

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

/// Names the calling thread to the kernel's process table, so that another
/// thread can tell when it has gone to sleep (blocked in a futex wait).
///
/// Take it in the thread that will block, hand it to the observer, then block;
/// the observer calls [`Probe::wait_until_blocked`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    tid: Option<u32>,
}

impl Probe {
    /// The probe of the calling thread.
    pub(crate) fn current() -> Self {
        let tid = std::fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok());
        Self { tid }
    }

    /// Polls until the thread is asleep in the kernel (state `S`) on three
    /// consecutive reads 1 ms apart, which for the threads here means parked
    /// where the test expects (a thread briefly parked on an internal mutex
    /// another thread holds does not stay asleep that long). Without `/proc`
    /// (not Linux) this returns at once; the tests using it assert nothing
    /// that depends on it except where they say so.
    #[track_caller]
    pub(crate) fn wait_until_blocked(&self) {
        let Some(tid) = self.tid else { return };
        let path = format!("/proc/self/task/{tid}/stat");
        let end = Instant::now() + DEADLINE;
        let mut asleep_in_a_row = 0;
        while asleep_in_a_row < 3 {
            let stat = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("thread {tid} ended instead of blocking: {e}"));
            // The state follows the parenthesised command name.
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .unwrap_or("?");
            if state == "S" {
                asleep_in_a_row += 1;
                if asleep_in_a_row == 3 {
                    break;
                }
            } else {
                asleep_in_a_row = 0;
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for thread {tid} to block (state {state})"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
