//! How a worker process is started: this program run again, from one
//! spawner thread, with a marker in its environment.
//!
//! The parent creates a Unix socket pair and starts `/proc/self/exe` from its
//! one spawner thread (`spawner.rs`: the kernel's parent-death signal follows
//! the thread that forked, so workers are never forked from a thread that may
//! end first) with
//!
//! - standard input: the worker's end of the socket (standard output and error
//!   are inherited);
//! - environment: `CORUN_MULTIPROCESSING_WORKER=1:<parent pid>:<nonce, hex>`;
//! - arguments: `__corun_worker_entry --exact --nocapture --test-threads=1
//!   --quiet`, which make a libtest binary run only the test that
//!   `enable_test_workers!()` defines, and which a program with its own `main`
//!   never reads because `init()` comes first.
//!
//! `init()` acts only when the variable is set **and** standard input is a
//! socket (a process a worker starts with a plain `Command` inherits the
//! variable, not the socket). It then duplicates the socket, points fd 0 at
//! `/dev/null`, sets `PR_SET_PDEATHSIG` to `SIGKILL`, and exits at once if its
//! parent is no longer the pid in the token (the parent died before the signal
//! was set).
//!
//! The executable, its arguments and the marker are in `command`, the
//! spawner thread in `spawner`, and how an exit status reads in
//! `exit_status`. The workers, the pools and the cleanup tracker all start
//! their processes through this folder, which depends on nothing else in
//! the crate.

pub(crate) mod command;
#[cfg_attr(not(feature = "__test-hooks"), allow(unreachable_pub))]
pub(crate) mod exit_status;
pub(crate) mod spawner;
