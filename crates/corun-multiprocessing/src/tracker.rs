//! The cleanup tracker: a small process that removes the shared-memory
//! segments a program created once nobody uses them, even when every user
//! crashed.
//!
//! A process starts its tracker when it creates its first segment: a re-run
//! of the same binary (so `main` must call [`init`](crate::init) first, as
//! for workers), in a session of its own so that Ctrl-C and a closing
//! terminal leave it be. It reads `+name` / `-name` lines on a socket that
//! only its creator holds. When that socket closes — the creator exited,
//! however it exited — the tracker takes each name still registered, waits
//! for the segment's `flock` exclusively (which it gets once every handle
//! in every process is closed, see `shared_memory.rs`), removes the name,
//! and exits. It never removes a segment that is still open, unlike
//! Python's resource tracker (gh-82300).
//!
//! On start it also sweeps `/dev/shm` for `corun-` segments that nobody
//! holds (left by a tracker that was itself killed) and removes them.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use parking_lot::Mutex;
use rustix::fs::{FlockOperation, Mode};

use crate::init::WORKER_ARGS;
use crate::shared_memory::{DIR, PREFIX, being_made, still_named};

/// Set in a tracker's environment (to its creator's pid).
pub(crate) const ENV_VAR: &str = "__CORUN_SHM_TRACKER";

/// How long a new tracker may take to say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// This process's tracker, started on first use, and the names it was told.
static TRACKER: Mutex<Option<Tracker>> = Mutex::new(None);

struct Tracker {
    stream: UnixStream,
    child: Child,
    /// The names registered and not yet removed: sent again to a new
    /// tracker if this one dies.
    names: BTreeSet<String>,
}

/// Tells the tracker (started now if need be) about a segment this process
/// created.
///
/// # Errors
///
/// When no tracker can be started: the segment would have nobody to remove
/// it after a crash, so it is not made.
pub(crate) fn register(name: &str) -> io::Result<()> {
    if std::env::var_os(ENV_VAR).is_some() {
        // A tracker whose main did not call init() runs the program again;
        // refuse rather than start trackers without end.
        return Err(not_bootstrapped());
    }
    let mut tracker = TRACKER.lock();
    if let Some(t) = tracker.as_mut() {
        if writeln!(t.stream, "+{name}").is_ok() {
            t.names.insert(name.to_owned());
            return Ok(());
        }
    }
    // None yet, or the old one died: start one and tell it everything.
    let mut names = tracker.take().map(|t| t.names).unwrap_or_default();
    names.insert(name.to_owned());
    *tracker = Some(Tracker::start(names)?);
    Ok(())
}

/// Tells the tracker a segment is gone (removed by its last user, or
/// unlinked). Best effort: the tracker skips names that no longer exist.
pub(crate) fn unregister(name: &str) {
    if let Some(t) = TRACKER.lock().as_mut() {
        if t.names.remove(name) {
            let _ = writeln!(t.stream, "-{name}");
        }
    }
}

/// The tracker's process id, if this process has started one: for tests
/// that check no process is left behind.
#[doc(hidden)]
pub fn tracker_pid() -> Option<u32> {
    TRACKER.lock().as_ref().map(|t| t.child.id())
}

impl Tracker {
    fn start(names: BTreeSet<String>) -> io::Result<Self> {
        let (mut ours, theirs) = UnixStream::pair()?;
        let mut command = Command::new(crate::handshake::SELF_EXE);
        command
            .args(WORKER_ARGS)
            .env(ENV_VAR, std::process::id().to_string())
            .env_remove(crate::handshake::ENV_VAR)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null());
        let mut child = crate::spawner::spawn(command)?;
        ours.set_read_timeout(Some(START_TIMEOUT))?;
        let mut ready = [0u8; 1];
        if !matches!(ours.read(&mut ready), Ok(1) if ready == *b"R") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(not_bootstrapped());
        }
        for name in &names {
            writeln!(ours, "+{name}")?;
        }
        Ok(Self {
            stream: ours,
            child,
            names,
        })
    }
}

fn not_bootstrapped() -> io::Error {
    io::Error::other(
        "the shared-memory cleanup tracker did not start: a tracker is a re-run of this \
         program, so main must call corun_multiprocessing::init() first \
         (in tests: enable_test_workers!())",
    )
}

/// The tracker's life, when this process was started as one; never
/// returns. Called by [`init`](crate::init).
pub(crate) fn run(stream: UnixStream) -> ! {
    // Out of the terminal's process group and session: Ctrl-C and hang-up
    // go to the program, and the tracker stays to clean up after it.
    let _ = rustix::process::setsid();
    let mut names = BTreeSet::new();
    if (&stream).write_all(b"R").is_ok() {
        sweep();
        for line in BufReader::new(&stream).lines() {
            let Ok(line) = line else { break };
            if let Some(name) = line.strip_prefix('+') {
                names.insert(name.to_owned());
            } else if let Some(name) = line.strip_prefix('-') {
                names.remove(name);
            }
        }
    }
    // The creator is gone: remove each segment once its last user is.
    for name in &names {
        remove_when_unused(name, true);
    }
    std::process::exit(0)
}

/// Removes orphans: `corun-` segments that are complete and that nobody
/// has open.
fn sweep() {
    let Ok(entries) = std::fs::read_dir(DIR) else {
        return;
    };
    for entry in entries.flatten() {
        if let Some(name) = entry.file_name().to_str() {
            if name.starts_with(PREFIX) {
                remove_when_unused(name, false);
            }
        }
    }
}

/// Removes segment `name` once no handle has it open: waiting for that
/// when `wait`, else only if it is unused now.
fn remove_when_unused(name: &str, wait: bool) {
    let Ok(fd) = rustix::shm::open(name, rustix::shm::OFlags::RDONLY, Mode::empty()) else {
        return; // already gone
    };
    if being_made(&fd) {
        return; // its creator holds it and will register it
    }
    let lock = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    if rustix::fs::flock(&fd, lock).is_err() {
        return;
    }
    if let Ok(stat) = rustix::fs::fstat(&fd) {
        if still_named(name, stat.st_dev, stat.st_ino) {
            let _ = rustix::shm::unlink(name);
        }
    }
}
