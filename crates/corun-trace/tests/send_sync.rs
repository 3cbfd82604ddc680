//! Compile-time checks that every public type is `Send + Sync` (a recorder
//! is shared by an executor's threads; timelines and summaries are plain
//! data) and `Debug`. A failure here is a compile error.

use std::fmt::Debug;

use corun_trace::{Outcome, Recorder, Summary, TaskId, TaskRecord, Timeline, WorkerSummary};

fn assert_send_sync_debug<T: Send + Sync + Debug>() {}

// Checks the auto traits and Debug of every public type.
#[test]
fn public_types_are_send_sync_and_debug() {
    assert_send_sync_debug::<Recorder>();
    assert_send_sync_debug::<TaskId>();
    assert_send_sync_debug::<Outcome>();
    assert_send_sync_debug::<TaskRecord>();
    assert_send_sync_debug::<Timeline>();
    assert_send_sync_debug::<Summary>();
    assert_send_sync_debug::<WorkerSummary>();
}
