//! A hook for tests that kill a process inside a queue operation: armed,
//! the process aborts when it reaches the chosen point, holding the
//! queue's lock with the operation half done.

use std::sync::atomic::{AtomicU8, Ordering};

/// The armed point, `Fault as u8 + 1`; 0 when none is.
static ARMED: AtomicU8 = AtomicU8::new(0);

/// Where [`__abort_inside_next`] aborts the process. Not part of the API:
/// for fault-injection tests only.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    ARMED.store(fault as u8 + 1, Ordering::SeqCst);
}

/// Aborts the process if `fault` is armed.
pub(super) fn reached(fault: Fault) {
    if ARMED.load(Ordering::Relaxed) == fault as u8 + 1 {
        std::process::abort();
    }
}
