//! The cleanup tracker: a small process that removes the shared-memory
//! segments a program created once nobody uses them, even when every user
//! crashed.
//!
//! A process starts its tracker when it creates its first segment: a re-run
//! of the same binary (so `main` must call [`init`](crate::init) first, as
//! for workers), in a session of its own so that Ctrl-C and a closing
//! terminal leave it be. It reads `+<dev> <ino> <name>` / `-<name>` lines
//! on a socket that only its creator holds. When that socket closes — the
//! creator exited, however it exited — the tracker takes each segment still
//! registered, and removes it as soon as nobody holds it: when its
//! `flock` can be had exclusively, which is once every handle in every
//! process is closed (see `shared_memory.rs`). It polls them all, so a
//! segment another process keeps open for hours holds up none of the
//! others; then it exits. It never removes a segment that is still open,
//! unlike Python's resource tracker (gh-82300), and it removes a name only
//! while it still means the segment registered (device and inode), so a
//! name removed and taken again by someone else is left alone.
//!
//! On start it also sweeps `/dev/shm` for `corun-` segments that nobody
//! holds (left by a tracker that was itself killed) and removes them.
//!
//! A tracker that dies (killed) is noticed at the next registration, which
//! reaps it and starts a new one with every name still registered. The
//! names a process registered are pruned of removed segments now and then,
//! so a program that makes many segments that others remove last does not
//! grow its list without end.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use parking_lot::Mutex;
use rustix::fs::{FlockOperation, OFlags};
use rustix::net::SendFlags;

use crate::launch::command::{self, WORKER_ARGS};
use crate::shm::segment::{DIR, PREFIX, SegmentId, being_made, open_segment, path};

/// Set in a tracker's environment (to its creator's pid).
pub(crate) const ENV_VAR: &str = "__CORUN_SHM_TRACKER";

/// How long a new tracker may take to say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest pause between two looks at the segments still in use once
/// the creator is gone.
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// The fewest registered names at which the list is pruned.
const PRUNE_FLOOR: usize = 64;

/// What this process registered, and its tracker once started.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    names: BTreeMap::new(),
    prune_at: PRUNE_FLOOR,
    tracker: None,
});

struct Registry {
    /// The segments this process created and that may still exist: sent
    /// again to a new tracker if the old one dies.
    names: BTreeMap<String, SegmentId>,
    /// Prune `names` of removed segments when it grows to this many.
    prune_at: usize,
    tracker: Option<Tracker>,
}

struct Tracker {
    stream: UnixStream,
    child: Child,
}

/// Tells the tracker (started now if need be, or again if it died) about
/// a segment this process is creating.
///
/// # Errors
///
/// When no tracker can be started: the segment would have nobody to remove
/// it after a crash, so it is not made.
pub(crate) fn register(name: &str, id: SegmentId) -> io::Result<()> {
    if std::env::var_os(ENV_VAR).is_some() {
        // A tracker whose main did not call init() runs the program again;
        // refuse rather than start trackers without end.
        return Err(not_bootstrapped());
    }
    let mut registry = REGISTRY.lock();
    registry.prune_if_due();
    let line = format!("+{} {} {name}\n", id.dev, id.ino);
    if registry
        .tracker
        .as_ref()
        .is_some_and(|t| t.send(&line).is_ok())
    {
        registry.names.insert(name.to_owned(), id);
        return Ok(());
    }
    // None yet, or the old one died: start one and tell it everything.
    if let Some(dead) = registry.tracker.take() {
        dead.reap();
    }
    let mut names = registry.names.clone();
    names.insert(name.to_owned(), id);
    registry.tracker = Some(Tracker::start(&names)?);
    registry.names = names;
    Ok(())
}

/// Tells the tracker a segment is gone (removed by its last user, or
/// unlinked), if it is the one this process registered under that name.
/// Best effort: the tracker checks again before it removes anything.
pub(crate) fn unregister(name: &str, id: SegmentId) {
    let mut registry = REGISTRY.lock();
    if registry.names.get(name) == Some(&id) {
        registry.names.remove(name);
        registry.send(&format!("-{name}\n"));
    }
}

/// The tracker's process id, if this process has started one: for tests
/// that check no process is left behind.
#[cfg(feature = "__test-hooks")]
pub fn tracker_pid() -> Option<u32> {
    REGISTRY.lock().tracker.as_ref().map(|t| t.child.id())
}

impl Registry {
    /// Forgets the registered segments whose names are gone or taken by
    /// another segment (removed by a user in another process), once the
    /// list has doubled since the last time: constant work per
    /// registration, on average.
    fn prune_if_due(&mut self) {
        if self.names.len() < self.prune_at {
            return;
        }
        let mut gone = Vec::new();
        self.names.retain(|name, id| {
            let named = id.is_named(name);
            if !named {
                gone.push(format!("-{name}\n"));
            }
            named
        });
        for line in gone {
            self.send(&line);
        }
        self.prune_at = (2 * self.names.len()).max(PRUNE_FLOOR);
    }

    /// Sends `line` to the tracker, if there is one; a dead tracker is
    /// noticed (and replaced) at the next registration.
    fn send(&self, line: &str) {
        if let Some(t) = &self.tracker {
            let _ = t.send(line);
        }
    }
}

impl Tracker {
    fn start(names: &BTreeMap<String, SegmentId>) -> io::Result<Self> {
        let (ours, theirs) = UnixStream::pair()?;
        let mut command = Command::new(command::SELF_EXE);
        command
            .args(WORKER_ARGS)
            .env(ENV_VAR, std::process::id().to_string())
            .env_remove(command::ENV_VAR)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::null());
        let child = crate::launch::spawner::spawn(command)?;
        let tracker = Self {
            stream: ours,
            child,
        };
        match tracker.handshake(names) {
            Ok(()) => Ok(tracker),
            Err(e) => {
                tracker.reap();
                Err(e)
            }
        }
    }

    /// Waits for the new tracker's "ready", then tells it `names`.
    fn handshake(&self, names: &BTreeMap<String, SegmentId>) -> io::Result<()> {
        self.stream.set_read_timeout(Some(START_TIMEOUT))?;
        let mut ready = [0u8; 1];
        if !matches!((&self.stream).read(&mut ready), Ok(1) if ready == *b"R") {
            return Err(not_bootstrapped());
        }
        for (name, id) in names {
            self.send(&format!("+{} {} {name}\n", id.dev, id.ino))?;
        }
        Ok(())
    }

    /// Writes all of `line`. `MSG_NOSIGNAL`: a dead tracker is an error
    /// here, never a `SIGPIPE` for a program that did not ignore it.
    fn send(&self, line: &str) -> io::Result<()> {
        let mut rest = line.as_bytes();
        while !rest.is_empty() {
            match rustix::net::send(&self.stream, rest, SendFlags::NOSIGNAL) {
                Ok(n) => rest = &rest[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Ends a tracker that died or cannot be used, and waits for it, so it
    /// is not left a zombie. (Closing its socket instead would set it
    /// removing our segments once we no longer use them, which is what it
    /// does after we exit, not before.)
    fn reap(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn not_bootstrapped() -> io::Error {
    io::Error::other(
        "the shared-memory cleanup tracker did not start: a tracker is a re-run of this \
         program, so main must call corun::multiprocessing::init() first \
         (in tests: enable_test_workers!())",
    )
}

/// The tracker's life, when this process was started as one; never
/// returns. Called by [`init`](crate::init).
pub(crate) fn run(stream: UnixStream) -> ! {
    // Out of the terminal's process group and session: Ctrl-C and hang-up
    // go to the program, and the tracker stays to clean up after it.
    let _ = rustix::process::setsid();
    let mut names = BTreeMap::new();
    if rustix::net::send(&stream, b"R", SendFlags::NOSIGNAL) == Ok(1) {
        sweep();
        for line in BufReader::new(&stream).lines() {
            let Ok(line) = line else { break };
            if let Some(entry) = line.strip_prefix('+') {
                if let Some((name, id)) = parse_entry(entry) {
                    names.insert(name.to_owned(), id);
                }
            } else if let Some(name) = line.strip_prefix('-') {
                names.remove(name);
            }
        }
    }
    // The creator is gone: remove each segment once its last user is.
    remove_when_unused(names);
    std::process::exit(0)
}

/// Parses `<dev> <ino> <name>`.
fn parse_entry(entry: &str) -> Option<(&str, SegmentId)> {
    let mut parts = entry.splitn(3, ' ');
    let dev = parts.next()?.parse().ok()?;
    let ino = parts.next()?.parse().ok()?;
    Some((parts.next()?, SegmentId { dev, ino }))
}

/// Removes orphans: `corun-` segments that are complete and that nobody
/// has open.
fn sweep() {
    let Ok(entries) = std::fs::read_dir(DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !name.starts_with(PREFIX) {
            continue;
        }
        let Ok(fd) = open_segment(&name, OFlags::RDONLY) else {
            continue; // gone already, or not a segment
        };
        if being_made(&fd) {
            continue; // its creator holds it and will register it
        }
        if let Ok(id) = SegmentId::of(&fd) {
            remove_if_unused(&name, &fd, id);
        }
    }
}

/// Removes each registered segment (that still has its name) as soon as
/// nobody has it open, looking at those in use again and again, less often
/// as time goes by.
fn remove_when_unused(names: BTreeMap<String, SegmentId>) {
    let mut left: Vec<(String, OwnedFd, SegmentId)> = names
        .into_iter()
        .filter_map(|(name, id)| {
            let fd = open_segment(&name, OFlags::RDONLY).ok()?;
            (SegmentId::of(&fd).ok()? == id).then_some((name, fd, id))
        })
        .collect();
    let mut pause = Duration::from_millis(1);
    while !left.is_empty() {
        left.retain(|(name, fd, id)| !remove_if_unused(name, fd, *id));
        if left.is_empty() {
            break;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Removes segment `name` (open as `fd`, which is segment `id`) if nobody
/// holds it; returns whether it is unused (and so gone).
fn remove_if_unused(name: &str, fd: &OwnedFd, id: SegmentId) -> bool {
    if rustix::fs::flock(fd, FlockOperation::NonBlockingLockExclusive).is_err() {
        return false;
    }
    if id.is_named(name) {
        let _ = rustix::fs::unlink(path(name));
    }
    true
}
