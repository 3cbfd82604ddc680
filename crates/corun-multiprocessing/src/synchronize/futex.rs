//! Waiting on a 32-bit word in shared memory, across processes: the
//! kernel's futex without the private flag (a private futex only wakes
//! threads of one process).

use std::sync::atomic::AtomicU32;
use std::time::Instant;

use rustix::thread::futex;

/// Sleeps while `word` holds `expected`, until woken by [`wake`], or
/// `deadline` passes. Returns whether the deadline passed; it may also
/// return early (a spurious wake-up, or `word` no longer held `expected`),
/// so callers re-check their condition in a loop.
pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    let timeout = match deadline {
        None => None,
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            Some(rustix::thread::futex::Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            })
        }
    };
    // A relative time-out on the monotonic clock (FUTEX_WAIT's contract).
    match futex::wait(word, futex::Flags::empty(), expected, timeout.as_ref()) {
        Err(rustix::io::Errno::TIMEDOUT) => true,
        _ => deadline.is_some_and(|d| Instant::now() >= d),
    }
}

/// Wakes at most `count` processes or threads sleeping in [`wait`] on
/// `word`.
pub(crate) fn wake(word: &AtomicU32, count: u32) {
    let _ = futex::wake(word, futex::Flags::empty(), count);
}

/// As [`wake`], and says how many it woke.
pub(crate) fn wake_counted(word: &AtomicU32, count: u32) -> usize {
    futex::wake(word, futex::Flags::empty(), count).unwrap_or(0)
}

/// Wakes everyone sleeping on `word`.
pub(crate) fn wake_all(word: &AtomicU32) {
    wake(word, i32::MAX as u32);
}
