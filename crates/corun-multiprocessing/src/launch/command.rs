//! How a worker is launched: which executable, with which arguments, and
//! the environment variable that marks it.

/// The executable every process runs: the open file behind it, even if the
/// path was replaced or deleted since.
pub(crate) const SELF_EXE: &str = "/proc/self/exe";

/// The environment variable that marks a worker and carries its token.
pub(crate) const ENV_VAR: &str = "CORUN_MULTIPROCESSING_WORKER";

/// The arguments a worker is started with. Libtest reads them as "run only
/// the test named `__corun_worker_entry`, alone, printing to the real
/// stdout, and say little" — that is the test
/// [`enable_test_workers!`](crate::enable_test_workers) defines; a program
/// with its own `main` ignores them, since `init` runs before anything
/// reads arguments.
pub(crate) const WORKER_ARGS: [&str; 5] = [
    "__corun_worker_entry",
    "--exact",
    "--nocapture",
    "--test-threads=1",
    "--quiet",
];
