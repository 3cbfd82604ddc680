//! A hook for tests that kill a process inside a queue operation: armed,
//! the process aborts (or stops for good, to be killed from outside) when
//! it reaches the chosen point, holding the queue's lock with the
//! operation half done.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

/// The armed point, `Fault as u8 + 1`; 0 when none is.
static ARMED: AtomicU8 = AtomicU8::new(0);
/// Whether the armed point stops the thread instead of aborting.
static HANG: AtomicBool = AtomicBool::new(false);

/// Where [`__abort_inside_next`] aborts the process. Not part of the API:
/// for fault-injection tests only.
#[doc(hidden)]
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
/// holding that queue's lock. Not part of the API: for fault-injection
/// tests only.
#[doc(hidden)]
pub fn __abort_inside_next(fault: Fault) {
    HANG.store(false, Ordering::SeqCst);
    ARMED.store(fault as u8 + 1, Ordering::SeqCst);
}

/// Makes the calling thread stop for good the next time any queue reaches
/// `fault`, holding that queue's lock, for the test to kill the process
/// from outside. Not part of the API: for fault-injection tests only.
#[doc(hidden)]
pub fn __hang_inside_next(fault: Fault) {
    HANG.store(true, Ordering::SeqCst);
    ARMED.store(fault as u8 + 1, Ordering::SeqCst);
}

/// Aborts the process, or stops the thread, if `fault` is armed.
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
