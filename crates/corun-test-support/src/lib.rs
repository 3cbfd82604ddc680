//! Helpers shared by corun's integration tests: polling an observable state
//! with a deadline, checking that a timed wait took about its time-out, and
//! knowing that another thread is blocked when the API under test offers no
//! observable for it; a NATS server of the test's own ([`nats`]). Used as a
//! dev-dependency only; not published.

#![forbid(unsafe_code)]

pub mod nats;

use std::time::{Duration, Instant};

/// How long any poll may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Polls `cond` (1 ms apart) until it holds; fails the test, naming `what`,
/// after [`DEADLINE`].
#[track_caller]
pub fn poll_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Checks that a wait that timed out took about `expected`: at least that
/// long (the primitives wait for a deadline), and nothing insane (as
/// `lock_tests.BaseTestCase.assertTimeout`, with room for a loaded machine).
#[track_caller]
pub fn assert_timeout(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected,
        "waited {actual:?}, less than the timeout {expected:?}"
    );
    assert!(
        actual < expected + Duration::from_secs(3),
        "waited {actual:?}, far more than the timeout {expected:?}"
    );
}

/// Names the calling thread to the kernel's process table, so that another
/// thread can tell when it has gone to sleep (blocked in a futex wait).
///
/// Take it in the thread that will block, hand it to the observer, then block;
/// the observer calls [`Probe::wait_until_blocked`].
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    tid: Option<u32>,
}

impl Probe {
    /// The probe of the calling thread.
    pub fn current() -> Self {
        let tid = std::fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok());
        Self { tid }
    }

    /// Whether this platform lets us see a thread's scheduling state.
    pub fn available(&self) -> bool {
        self.tid.is_some()
    }

    /// Polls until the thread is asleep in the kernel (state `S`) on three
    /// consecutive reads 1 ms apart, which for the test threads here means
    /// parked in the primitive under test (a thread briefly parked on an
    /// internal mutex another thread holds does not stay asleep that long).
    /// Without `/proc` (not Linux) this returns at once; the tests using it
    /// assert nothing that depends on it except where they say so.
    #[track_caller]
    pub fn wait_until_blocked(&self) {
        self.wait_asleep(3, || std::thread::sleep(Duration::from_millis(1)));
    }

    /// Like [`wait_until_blocked`](Self::wait_until_blocked) but returns at
    /// the first read that finds the thread asleep, polling without pause:
    /// for a lone thread that contends with nobody, in tests that repeat a
    /// race many times.
    #[track_caller]
    pub fn wait_until_asleep_now(&self) {
        self.wait_asleep(1, std::thread::yield_now);
    }

    #[track_caller]
    fn wait_asleep(&self, reads: usize, pause: impl Fn()) {
        let Some(tid) = self.tid else { return };
        let path = format!("/proc/self/task/{tid}/stat");
        let end = Instant::now() + DEADLINE;
        let mut asleep_in_a_row = 0;
        while asleep_in_a_row < reads {
            let stat = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("thread {tid} ended instead of blocking: {e}"));
            // The state follows the parenthesised command name.
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .unwrap_or("?");
            if state == "S" {
                asleep_in_a_row += 1;
                if asleep_in_a_row == reads {
                    break;
                }
            } else {
                asleep_in_a_row = 0;
            }
            assert!(
                Instant::now() < end,
                "timed out waiting for thread {tid} to block (state {state})"
            );
            pause();
        }
    }
}
