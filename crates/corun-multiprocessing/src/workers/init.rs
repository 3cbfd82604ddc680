//! `init()`: where a re-executed binary becomes a worker — and the hook
//! that gives test binaries, whose `main` belongs to libtest, the same.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};

use corun_concurrent::{Error, ErrorKind};

use crate::crossing::handshake::Token;
use crate::launch::command::ENV_VAR;

/// Whether [`init`] ran in this process.
static INIT_CALLED: AtomicBool = AtomicBool::new(false);

/// Turns this process into a worker if it was started as one; returns at
/// once otherwise. Call it first thing in `main`.
///
/// corun starts a worker by running the current executable again, with a
/// marker in its environment and a socket to its parent as its standard
/// input. In that process `init` never returns: it serves its parent, then
/// exits. This is the Rust form of Python's rule for the "spawn" start
/// method — guard the main module with `if __name__ == "__main__":` —
/// and has the same consequence: **whatever `main` does before `init`
/// runs again in every worker**, so do nothing there (parse arguments,
/// open files, print) that must happen once. A worker's arguments are not
/// its parent's: code must not read them before `init` either.
///
/// A worker's standard output and error are its parent's; its standard
/// input is `/dev/null` (as in Python). It dies with its parent: it exits
/// when the parent closes the socket, and the kernel kills it if the
/// parent process dies.
///
/// In a test binary `main` is libtest's: write
/// [`enable_test_workers!()`](crate::enable_test_workers) once at the top
/// level of the test file instead. In a doctest, call `init()` first.
///
/// ```standalone_crate
/// fn worker_pid(_: ()) -> u32 {
///     std::process::id()
/// }
///
/// // A doctest's body is its `main`.
/// corun::multiprocessing::init(); // a worker never gets past this line
/// let p = corun::multiprocessing::Process::start(worker_pid, ()).unwrap();
/// let pid = p.pid();
/// assert_eq!(p.join().unwrap(), pid);
/// assert_ne!(pid, std::process::id());
/// ```
pub fn init() {
    INIT_CALLED.store(true, Ordering::Relaxed);
    if std::env::var_os(crate::shm::tracker::ENV_VAR).is_some() {
        if let Some(stream) = socket_on_stdin() {
            crate::shm::tracker::run(stream);
        }
        return;
    }
    let Some(value) = std::env::var_os(ENV_VAR) else {
        return;
    };
    let Some(stream) = socket_on_stdin() else {
        // The marker without the socket: a process started by a worker
        // with a plain `Command` inherited the environment. Not ours.
        return;
    };
    match value.to_str().and_then(Token::parse) {
        Some(token) => crate::workers::serve::run(stream, token),
        None => {
            eprintln!("corun: malformed {ENV_VAR}={value:?}; is the parent another corun version?");
            std::process::exit(2);
        }
    }
}

/// Declares the test through which a test binary becomes a worker: write
/// `corun::multiprocessing::enable_test_workers!();` once at the top level
/// (the crate root) of every test file that starts processes.
///
/// A test binary's `main` is libtest's, so [`init`](crate::init) cannot be
/// called first in it. Workers are started with the arguments
/// `__corun_worker_entry --exact --nocapture --test-threads=1 --quiet`,
/// which make libtest run only the test this macro defines,
/// `__corun_worker_entry`, and that test calls `init`. In the test run
/// itself the same test passes at once.
///
/// Forgetting the macro (or writing it in a module, where the test has a
/// longer name) makes starting a worker fail with an error saying so: the
/// worker runs no test and exits before the handshake. Libtest prints its
/// `running 1 test` line in each worker before `init` takes over.
///
/// ```ignore
/// // tests/processes.rs
/// corun::multiprocessing::enable_test_workers!();
///
/// fn double(x: u32) -> u32 { x * 2 }
///
/// #[test]
/// fn doubles_in_a_process() {
///     let p = corun::multiprocessing::Process::start(double, 21).unwrap();
///     assert_eq!(p.join().unwrap(), 42);
/// }
/// ```
///
/// (`ignore`: a doctest is not a libtest binary; `tests/` use it for real.)
#[macro_export]
macro_rules! enable_test_workers {
    () => {
        /// Where a worker started from this test binary begins (see
        /// `corun::multiprocessing::enable_test_workers!`); in a test run, a
        /// test that passes at once.
        #[test]
        fn __corun_worker_entry() {
            $crate::init();
        }
    };
}

/// Refuses to start workers from a process that was started as a worker
/// but did not call [`init`]: its `main` is running again, and starting
/// workers from there would start workers without end (Python raises
/// "An attempt has been made to start a new process before the current
/// process has finished its bootstrapping phase" here).
///
/// # Errors
///
/// [`Error::is_broken`] with that explanation.
pub(crate) fn check_bootstrapped() -> Result<(), Error> {
    if INIT_CALLED.load(Ordering::Relaxed)
        || std::env::var_os(ENV_VAR).is_none()
        || socket_on_stdin().is_none()
    {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::ProcessStart,
        "this process was started as a worker but its main did not call \
         corun::multiprocessing::init() first, so it is running the program again; \
         call init() at the top of main (in tests: enable_test_workers!())",
    ))
}

/// A duplicate of standard input if it is a socket.
fn socket_on_stdin() -> Option<UnixStream> {
    let fd: OwnedFd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let file = File::from(fd);
    if !file.metadata().ok()?.file_type().is_socket() {
        return None;
    }
    Some(UnixStream::from(OwnedFd::from(file)))
}
