//! A hook for tests that kill a process inside a queue operation: armed,
//! the process aborts (or stops for good, to be killed from outside) when
//! it reaches the chosen point, holding the queue's lock with the
//! operation half done.
//!
//! The points stay in the queue's code, but only the crate's own tests
//! (its `__test-hooks` feature, through `crate::test_hooks`) can arm them:
//! without the feature [`reached`] is empty, and a point costs nothing.

#[cfg(feature = "__test-hooks")]
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

/// The armed point, `Fault as u8 + 1`; 0 when none is.
#[cfg(feature = "__test-hooks")]
static ARMED: AtomicU8 = AtomicU8::new(0);
/// Whether the armed point stops the thread instead of aborting.
#[cfg(feature = "__test-hooks")]
static HANG: AtomicBool = AtomicBool::new(false);

/// Where `abort_inside_next` aborts the process, or `hang_inside_next`
/// stops its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// In `put`, with the record's length and half of its bytes written.
    PutHalfWritten,
    /// In any change of the queue's state, with the change logged and half
    /// applied.
    CommitHalfApplied,
    /// In `get`, with the item's bytes copied out and the queue unchanged.
    GetCopied,
}

/// Makes this process abort the next time any queue reaches `fault`,
/// holding that queue's lock.
#[cfg(feature = "__test-hooks")]
pub fn abort_inside_next(fault: Fault) {
    HANG.store(false, Ordering::SeqCst);
    ARMED.store(fault as u8 + 1, Ordering::SeqCst);
}

/// Makes the calling thread stop for good the next time any queue reaches
/// `fault`, holding that queue's lock, for the test to kill the process
/// from outside.
#[cfg(feature = "__test-hooks")]
pub fn hang_inside_next(fault: Fault) {
    HANG.store(true, Ordering::SeqCst);
    ARMED.store(fault as u8 + 1, Ordering::SeqCst);
}

/// Aborts the process, or stops the thread, if `fault` is armed.
#[cfg(feature = "__test-hooks")]
pub(super) fn reached(fault: Fault) {
    if ARMED.load(Ordering::Relaxed) == fault as u8 + 1 {
        if HANG.load(Ordering::SeqCst) {
            loop {
                std::thread::park();
            }
        }
        std::process::abort();
    }
}

/// Nothing: without the test hooks no point can be armed.
#[cfg(not(feature = "__test-hooks"))]
#[inline(always)]
pub(super) fn reached(_fault: Fault) {}
