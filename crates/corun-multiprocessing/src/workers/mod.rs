//! A worker's life: the parent's handle on it (`worker`), the worker's own side from `init` to `exit` (`init`, `serve`), who it is (`current`), and Python's `Process` on top.
//!
//! A worker is this executable run again. This note describes what the parent
//! (`worker.rs`) and the worker (`init.rs`, `serve.rs`) say to each other;
//! `crossing/code_address.rs` explains why the same executable is required.
//!
//! # The end
//!
//! The worker exits 0 on end of stream or `Shutdown`; 1 after a failed
//! initializer or a failed one-shot call (a `Process`); 2 on a protocol error
//! (with a message on stderr). The parent reaps it: `Worker::drop` kills and
//! waits, a `Process` handle waits (or kills a daemon). If the parent process
//! dies, the kernel kills the worker.
//!

pub(crate) mod current;
pub(crate) mod init;
pub(crate) mod process;
pub(crate) mod serve;
// `pub` items that only the test hooks reach.
#[cfg_attr(not(feature = "__test-hooks"), allow(unreachable_pub, dead_code))]
pub(crate) mod worker;
