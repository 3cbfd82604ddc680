//! Helpers for the process tests: one test at a time per binary, checks
//! that a test leaves no descriptor, child process, corun thread or
//! shared-memory segment behind, a gate a worker can wait on, and calls
//! that wait for one another (to check that they run at once).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use corun_multiprocessing::{Process, Value};
use corun_test_support::DEADLINE;
use serde::{Deserialize, Serialize};

/// What this process holds that a test could leak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    /// Open descriptors.
    pub(crate) fds: usize,
    /// Child processes (of any thread), zombies included.
    pub(crate) children: BTreeSet<u32>,
    /// Threads whose name starts with `corun` (the library's own).
    pub(crate) corun_threads: BTreeSet<u32>,
    /// All threads, with their names.
    pub(crate) threads: BTreeMap<u32, String>,
}

/// Runs `body` alone (no other test of this binary that uses `isolated`
/// runs meanwhile), and checks that afterwards this process holds no more
/// descriptors, child processes and corun threads than before, and that
/// every segment the test named with [`watch_segment`] is gone.
pub(crate) fn isolated<T>(body: impl FnOnce() -> T) -> T {
    let _alone = serial();
    warm_up();
    watched().clear();
    let before = Held::now();
    let out = body();
    wait_released(&before, false);
    wait_segments_gone();
    out
}

/// The segments the running test made or learnt the names of.
fn watched() -> MutexGuard<'static, Vec<String>> {
    static WATCHED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    WATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Names a shared-memory segment the running test made, or that a worker
/// made and reported: [`isolated`] checks that it is gone from `/dev/shm`
/// once the test is over (waiting up to the deadline, for a tracker to
/// remove what crashed processes left). A segment goes with its last
/// user, or after a crash with its creator's tracker; so once a test's
/// processes are gone, any of its segments still there is a leak — held
/// by a process that should be gone, or an orphan nobody will remove.
///
/// Only named segments are checked: other programs on this machine make
/// and drop segments of their own while tests run, so no count of
/// `/dev/shm` can say which are ours.
pub(crate) fn watch_segment(name: &str) {
    watched().push(name.to_owned());
}

/// Whether `/dev/shm/<name>` exists (as anything).
pub(crate) fn segment_exists(name: &str) -> bool {
    Path::new("/dev/shm").join(name).symlink_metadata().is_ok()
}

/// Waits (up to the tests' deadline) until no watched segment exists.
fn wait_segments_gone() {
    let end = Instant::now() + DEADLINE;
    loop {
        let left: Vec<String> = watched()
            .iter()
            .filter(|name| segment_exists(name))
            .cloned()
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < end,
            "shared memory left behind in /dev/shm: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Waits (up to the tests' deadline) until this process holds no more
/// than `before`: fds, children, corun threads — and with `all_threads`,
/// no thread that was not there before.
pub(crate) fn wait_released(before: &Held, all_threads: bool) {
    let end = Instant::now() + DEADLINE;
    loop {
        let now = Held::now();
        let released = now.fds <= before.fds
            && now.children.is_subset(&before.children)
            && now.corun_threads.is_subset(&before.corun_threads)
            && (!all_threads || now.threads.keys().all(|t| before.threads.contains_key(t)));
        if released {
            return;
        }
        assert!(
            Instant::now() < end,
            "left behind: before {before:?}, after {now:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Holds the lock that runs this binary's tests one at a time, so that
/// counts of descriptors and children are not disturbed by another test.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn nothing(_: ()) {}

/// Starts one process, so the library's spawner thread (which lives as
/// long as the process) exists before a test counts threads, and one
/// shared-memory segment, so the cleanup tracker (a child process with a
/// socket to it, both as long-lived) exists too.
pub(crate) fn warm_up() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Process::start(nothing, ()).unwrap().join().unwrap();
        drop(corun_multiprocessing::SharedMemory::create(1).unwrap());
    });
}

impl Held {
    /// What this process holds now: two reads that agree, because a
    /// directory listing of `/proc/self/task` can skip a live thread while
    /// another thread exits (the listing goes by position).
    pub(crate) fn now() -> Self {
        let mut last = Self::read();
        loop {
            let next = Self::read();
            if next == last {
                return next;
            }
            last = next;
        }
    }

    fn read() -> Self {
        let mut children = BTreeSet::new();
        let mut threads = BTreeMap::new();
        let mut corun_threads = BTreeSet::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let path = task.path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if comm.starts_with("corun") {
                corun_threads.insert(tid);
            }
            threads.insert(tid, comm.trim_end().to_owned());
            if let Ok(list) = std::fs::read_to_string(path.join("children")) {
                children.extend(
                    list.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
        let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
        Self {
            fds,
            children,
            corun_threads,
            threads,
        }
    }
}

/// Whether process `pid` is gone (or a zombie, which no longer runs).
pub(crate) fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Sends process `pid` `SIGKILL` (for processes the library gives no
/// handle to, such as a cleanup tracker); it may be gone already.
pub(crate) fn kill_pid(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status();
}

/// In a worker: writes `what` to `path` in one step (the reader never
/// sees half of it).
pub(crate) fn report(path: &str, what: &str) {
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, what).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// Waits for a worker's [`report`] at `path`, and takes it.
pub(crate) fn read_report(path: &Path) -> String {
    let mut text = None;
    corun_test_support::poll_until("the worker reports", || {
        text = std::fs::read_to_string(path).ok();
        text.is_some()
    });
    std::fs::remove_file(path).unwrap();
    text.unwrap()
}

/// Waits until every thread of process `pid` is asleep in the kernel
/// (state `S`) on three consecutive reads 1 ms apart: for a worker that
/// has said it is about to block, that it now blocks there.
pub(crate) fn wait_until_asleep(pid: u32) {
    let end = Instant::now() + DEADLINE;
    let mut asleep_in_a_row = 0;
    while asleep_in_a_row < 3 {
        let states: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap_or_else(|e| panic!("process {pid} ended instead of blocking: {e}"))
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
            .filter_map(|stat| {
                let i = stat.rfind(')')?;
                stat[i + 1..].split_whitespace().next().map(str::to_owned)
            })
            .collect();
        if !states.is_empty() && states.iter().all(|s| s == "S") {
            asleep_in_a_row += 1;
        } else {
            asleep_in_a_row = 0;
        }
        assert!(
            Instant::now() < end,
            "process {pid} never went to sleep (thread states {states:?})"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// A path in the temporary directory unique to this test process.
pub(crate) fn temp_path(what: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "corun-mp-{}-{}-{what}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Something a worker waits for: it connects to the gate's socket with
/// [`wait_at_gate`] and blocks until the test calls [`Gate::open`].
#[derive(Debug)]
pub(crate) struct Gate {
    listener: UnixListener,
    path: PathBuf,
}

impl Gate {
    pub(crate) fn new() -> Self {
        let path = temp_path("gate.sock");
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        Self { listener, path }
    }

    /// The path to hand to the worker.
    pub(crate) fn path(&self) -> String {
        self.path.to_str().unwrap().to_owned()
    }

    /// Waits until the worker is at the gate, then lets it through.
    pub(crate) fn open(&self) {
        drop(self.hold());
    }

    /// Waits until the worker is at the gate, and keeps it there.
    pub(crate) fn hold(&self) -> UnixStream {
        let end = Instant::now() + DEADLINE;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => return stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < end, "the worker never came to the gate");
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => panic!("gate: {e}"),
            }
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// In a worker: waits until the test opens the gate at `path`.
pub(crate) fn wait_at_gate(path: &str) {
    let mut stream = UnixStream::connect(path).unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}

/// In a worker: arrives at the gate at `path` (the test's `hold` returns)
/// and never leaves; for a worker the test will kill.
pub(crate) fn stay_at_gate(path: &str) -> ! {
    let _stream = UnixStream::connect(path).unwrap();
    loop {
        std::thread::park();
    }
}

/// A value whose `Serialize` always fails, for the tests of values that
/// cannot cross to or from a worker.
#[derive(Debug)]
pub(crate) struct Refuses;

impl Serialize for Refuses {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be serialised",
        ))
    }
}

impl<'de> Deserialize<'de> for Refuses {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Ok(Refuses)
    }
}

/// A worker function whose result cannot be serialised.
pub(crate) fn make_refuses(_: ()) -> Refuses {
    Refuses
}

/// Counts itself started in `started`, then waits (up to the tests'
/// deadline) until `until` calls have started there: whether they did,
/// that is, whether it ran beside the others rather than before or after
/// them.
pub(crate) fn rendezvous((started, until): (Value<u32>, u32)) -> bool {
    started.update(|n| *n += 1);
    let end = Instant::now() + DEADLINE;
    while started.load() < until {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// `n` items of [`rendezvous`] for chunks of `chunk` items, where chunks
/// meet two by two: chunks `2q` and `2q + 1` run at once, item by item, so
/// the item at place `p` of either waits until `2 × chunk × q + 2(p + 1)`
/// items have started.
pub(crate) fn pairs(started: &Value<u32>, n: u32, chunk: u32) -> Vec<(Value<u32>, u32)> {
    (0..n)
        .map(|i| {
            let (q, p) = (i / chunk / 2, i % chunk);
            (started.clone(), 2 * chunk * q + 2 * (p + 1))
        })
        .collect()
}
