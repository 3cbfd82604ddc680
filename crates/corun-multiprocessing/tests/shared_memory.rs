//! `SharedMemory` and its cleanup tracker: making, attaching and reading
//! segments in one process and across processes, who removes a segment
//! (its last user, never a process that merely used it: gh-82300), and
//! what the tracker removes after a crash — and what it leaves alone.

mod common;

use corun::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use common::{
    Gate, is_gone, isolated, kill_pid, read_report, report, segment_exists, stay_at_gate,
    temp_path, wait_at_gate, watch_segment,
};
use corun_multiprocessing::test_hooks::tracker_pid;
use corun_multiprocessing::{Lock, Pool, Process, SharedMemory};
use corun_test_support::poll_until;

corun_multiprocessing::enable_test_workers!();

/// A name of our own, outside the `corun-` prefix that trackers sweep.
fn own_name(what: &str) -> String {
    let name = format!("shmtest-{}-{what}", std::process::id());
    watch_segment(&name);
    name
}

fn created(size: usize) -> SharedMemory {
    let block = SharedMemory::create(size).unwrap();
    watch_segment(block.name());
    block
}

fn read(block: &SharedMemory, offset: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    block.read_at(offset, &mut buf).unwrap();
    buf
}

fn forever(_: ()) {
    loop {
        std::thread::park();
    }
}

/// Attaches by name (or by handle, which attaches as it arrives), writes
/// `data` at 0 and returns (so detaches).
fn write_by_name((name, data): (String, Vec<u8>)) {
    SharedMemory::attach(&name)
        .unwrap()
        .write_at(0, &data)
        .unwrap();
}

fn write_by_handle((block, data): (SharedMemory, Vec<u8>)) {
    block.write_at(0, &data).unwrap();
}

fn write_own_pid((block, slot): (SharedMemory, usize)) -> u32 {
    let pid = std::process::id();
    block.write_at(slot * 4, &pid.to_le_bytes()).unwrap();
    pid
}

fn write_then_wait((block, gate): (SharedMemory, String)) {
    block.write_at(0, b"from the worker").unwrap();
    wait_at_gate(&gate);
}

fn attach_and_wait((block, gate): (SharedMemory, String)) {
    let _held = block;
    stay_at_gate(&gate);
}

/// Makes a segment (so starts this process's tracker, which sweeps) and
/// returns its name; the segment goes when it returns.
fn make_segment(_: ()) -> String {
    SharedMemory::create(1).unwrap().name().to_owned()
}

/// Makes a segment with "intact" in it, reports its name and this
/// process's tracker, and holds it until killed.
fn make_and_wait(path: String) {
    let block = SharedMemory::create(64).unwrap();
    block.write_at(0, b"intact").unwrap();
    let tracker = tracker_pid().unwrap();
    report(&path, &format!("{} {tracker}", block.name()));
    forever(());
}

/// Makes two segments under the given names ("intact" in the first),
/// reports this process's tracker, and holds them until killed.
fn make_two_and_wait((first, second, path): (String, String, String)) {
    let first = SharedMemory::create_named(&first, 64).unwrap();
    first.write_at(0, b"intact").unwrap();
    let _second = SharedMemory::create_named(&second, 64).unwrap();
    report(&path, &tracker_pid().unwrap().to_string());
    forever(());
}

/// `make_and_wait` under a given name.
fn make_named_and_wait((name, path): (String, String)) {
    let _block = SharedMemory::create_named(&name, 64).unwrap();
    report(&path, &tracker_pid().unwrap().to_string());
    forever(());
}

/// Holds a segment and a lock (locked) until killed.
fn hold_both((block, lock, gate): (SharedMemory, Lock, String)) {
    let _block = block;
    let _held = lock.acquire().unwrap();
    stay_at_gate(&gate);
}

/// The crashing program: makes a segment and a lock, hands both to a
/// child that locks the lock, reports, and waits to be killed.
fn make_and_hand_on(path: String) {
    let block = SharedMemory::create(64).unwrap();
    let lock = Lock::new().unwrap();
    let gate = Gate::new();
    let child = Process::start(hold_both, (block.clone(), lock.clone(), gate.path())).unwrap();
    let _child_at_gate = gate.hold();
    drop(gate); // its socket file: this process will not live to remove it
    assert!(lock.locked());
    let tracker = tracker_pid().unwrap();
    report(
        &path,
        &format!("{} {} {} {tracker}", block.name(), lock.name(), child.pid()),
    );
    forever(());
}

/// Makes a segment, kills this process's tracker, makes another (which
/// starts a new tracker), reports, and waits to be killed.
fn restart_tracker(path: String) {
    let first = SharedMemory::create(64).unwrap();
    let old = tracker_pid().unwrap();
    kill_pid(old);
    poll_until("the tracker is dead", || exited(old));
    let second = SharedMemory::create(64).unwrap();
    let new = tracker_pid().unwrap();
    let reaped = !my_children().contains(&old);
    report(
        &path,
        &format!("{} {} {old} {new} {reaped}", first.name(), second.name()),
    );
    forever(());
}

/// Whether every thread of process `pid` has exited, and so closed its
/// descriptors: a zombie main thread may still wait for other threads.
fn exited(pid: u32) -> bool {
    is_gone(pid)
        && std::fs::read_dir(format!("/proc/{pid}/task")).map_or(true, |tasks| tasks.count() <= 1)
}

fn my_children() -> Vec<u32> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .flat_map(|task| {
            std::fs::read_to_string(task.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Whether process `pid` has `/dev/shm/<name>` open.
fn has_open(pid: u32, name: &str) -> bool {
    let path = Path::new("/dev/shm").join(name);
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == path))
        })
        .unwrap_or(false)
}

fn words(report: &str) -> Vec<String> {
    report.split(' ').map(str::to_owned).collect()
}

// Ported from CPython's _TestSharedMemory.test_shared_memory_basics
// (Lib/test/_test_multiprocessing.py): attributes, a second handle seeing
// the same bytes, a taken name, a missing one.
#[test]
fn basics() {
    isolated(|| {
        let name = own_name("basics");
        let block = SharedMemory::create_named(&name, 512).unwrap();
        assert_eq!(block.name(), name);
        assert!(block.size() >= 512);
        assert_eq!(block.size() % 4096, 0, "whole pages");
        let shown = format!("{block:?}");
        assert!(shown.contains(&name) && shown.contains(&block.size().to_string()));

        block.write_at(0, &[42]).unwrap();
        assert_eq!(read(&block, 0, 1), [42]);
        let also = SharedMemory::attach(&name).unwrap();
        assert_eq!(also.size(), block.size());
        assert_eq!(read(&also, 0, 1), [42]);
        also.write_at(1, b"back").unwrap();
        assert_eq!(read(&block, 1, 4), b"back");

        let taken = SharedMemory::create_named(&name, 512).unwrap_err();
        assert_eq!(taken.kind(), ErrorKind::AlreadyExists, "{taken}");
        assert_eq!(read(&block, 0, 1), [42], "a refused create leaves it be");

        let missing = SharedMemory::attach(&own_name("not-there")).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    });
}

// Checks that made-up names carry the prefix the tracker sweeps, then 24
// random hex digits, and never repeat.
#[test]
fn default_names_are_prefixed_and_unpredictable() {
    isolated(|| {
        let blocks: Vec<SharedMemory> = (0..16).map(|_| created(1)).collect();
        let mut names: Vec<&str> = blocks.iter().map(SharedMemory::name).collect();
        for name in &names {
            let random = name.strip_prefix("corun-").unwrap();
            assert_eq!(random.len(), 24, "{name}");
            assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), blocks.len());
        // Not a counter: two names made one after the other differ in more
        // than their last digits.
        let (a, b) = (blocks[0].name(), blocks[1].name());
        assert_ne!(a[..a.len() - 4], b[..b.len() - 4]);
    });
}

// Checks that a segment is a regular file only its owner may open, of the
// size reported.
#[test]
fn segments_are_owner_only_files() {
    isolated(|| {
        let block = created(10_000);
        let meta = Path::new("/dev/shm")
            .join(block.name())
            .symlink_metadata()
            .unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), block.size() as u64);
        assert_eq!(block.size(), 12_288);
        assert!(read(&block, 0, block.size()).iter().all(|&b| b == 0));
    });
}

// Ported from CPython's _TestSharedMemory.test_invalid_shared_memory_creation:
// a size of 0 is refused (Python's negative sizes cannot be written here);
// so is a size no address space holds.
#[test]
fn sizes_that_cannot_be_made_are_refused() {
    isolated(|| {
        let zero = SharedMemory::create(0).unwrap_err();
        assert_eq!(zero.kind(), ErrorKind::InvalidArgument, "{zero}");
        let name = own_name("zero");
        let zero = SharedMemory::create_named(&name, 0).unwrap_err();
        assert_eq!(zero.kind(), ErrorKind::InvalidArgument, "{zero}");
        assert!(!segment_exists(&name));
        let huge = SharedMemory::create(usize::MAX).unwrap_err();
        assert_eq!(huge.kind(), ErrorKind::InvalidArgument, "{huge}");
    });
}

// Checks the names that are not names: empty, with a '/', '.', '..', too
// long, or with a NUL or a newline (which would garble the tracker's
// lines); and that the longest allowed name works.
#[test]
fn bad_names_are_refused() {
    isolated(|| {
        let long = "x".repeat(201);
        for bad in ["", "a/b", "/lead", ".", "..", &long, "nul\0", "new\nline"] {
            let made = SharedMemory::create_named(bad, 1).unwrap_err();
            assert_eq!(made.kind(), ErrorKind::InvalidArgument, "{bad:?}: {made}");
            let attached = SharedMemory::attach(bad).unwrap_err();
            assert_eq!(
                attached.kind(),
                ErrorKind::InvalidArgument,
                "{bad:?}: {attached}"
            );
        }
        let mut longest = own_name("");
        longest.push_str(&"y".repeat(200 - longest.len()));
        watch_segment(&longest);
        let block = SharedMemory::create_named(&longest, 1).unwrap();
        assert_eq!(SharedMemory::attach(&longest).unwrap().size(), block.size());
    });
}

// Checks that attach takes only segments: not a symbolic link (it would
// open the file it points to, as root any file), not a directory or a
// pipe (which would block), not an empty file; and leaves each one be.
#[test]
fn attach_takes_only_segments() {
    isolated(|| {
        let target = temp_path("target");
        let in_shm = |name: &str| Path::new("/dev/shm").join(name);
        let (link, dir, fifo, empty) = (
            own_name("link"),
            own_name("dir"),
            own_name("fifo"),
            own_name("empty"),
        );
        let _cleanup = Cleanup(vec![
            target.clone(),
            in_shm(&link),
            in_shm(&dir),
            in_shm(&fifo),
            in_shm(&empty),
        ]);
        std::fs::write(&target, b"precious").unwrap();
        std::os::unix::fs::symlink(&target, in_shm(&link)).unwrap();
        std::fs::create_dir(in_shm(&dir)).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(in_shm(&fifo))
            .status()
            .unwrap();
        assert!(made.success());
        std::fs::write(in_shm(&empty), b"").unwrap();

        for name in [&link, &dir, &fifo, &empty] {
            let e = SharedMemory::attach(name).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
        assert!(in_shm(&link).symlink_metadata().unwrap().is_symlink());
        assert!(
            in_shm(&fifo)
                .symlink_metadata()
                .unwrap()
                .file_type()
                .is_fifo()
        );
    });
}

/// Removes the files (or empty directories) it names when dropped, even
/// when a test fails.
struct Cleanup(Vec<std::path::PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir(path));
        }
    }
}

// Checks the bounds of read_at / write_at: up to the end is fine, a byte
// past it (or an offset that overflows) is an error that changes nothing.
#[test]
fn reads_and_writes_past_the_end_are_errors() {
    isolated(|| {
        let block = created(100);
        let size = block.size();
        block.write_at(size - 3, b"end").unwrap();
        assert_eq!(read(&block, size - 3, 3), b"end");
        block.write_at(size, b"").unwrap();
        assert_eq!(read(&block, size, 0), b"");

        let mut buf = [0; 4];
        for (offset, len) in [(size - 3, 4), (size, 1), (size + 1, 0), (usize::MAX, 2)] {
            let e = block.write_at(offset, &vec![7; len]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
            let e = block.read_at(offset, &mut buf[..len.min(4)]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        }
        assert_eq!(read(&block, size - 3, 3), b"end");
    });
}

// Ported from the double-unlink part of CPython's
// _TestSharedMemory.test_shared_memory_basics: unlink removes the name at
// once, mappings stay usable, a second unlink is NotFound. Then the name
// is taken again, and the old handles' drop leaves the new segment be.
#[test]
fn unlink_removes_the_name_and_keeps_the_mappings() {
    isolated(|| {
        let name = own_name("unlink");
        let first = SharedMemory::create_named(&name, 5000).unwrap();
        let second = SharedMemory::attach(&name).unwrap();
        second.unlink().unwrap();
        assert!(!segment_exists(&name));
        let e = SharedMemory::attach(&name).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        first.write_at(0, b"still shared").unwrap();
        assert_eq!(read(&second, 0, 12), b"still shared");
        assert_eq!(first.unlink().unwrap_err().kind(), ErrorKind::NotFound);

        let again = SharedMemory::create_named(&name, 10).unwrap();
        again.write_at(0, b"new").unwrap();
        assert_eq!(read(&first, 0, 3), b"sti", "a different segment");
        drop((first, second));
        assert!(
            segment_exists(&name),
            "the old segment's last drop left the new one"
        );
        assert_eq!(read(&SharedMemory::attach(&name).unwrap(), 0, 3), b"new");
    });
}

// Checks that a segment lives while any handle does — clones share one
// mapping, an attach is a user of its own — and goes with the last.
#[test]
fn the_last_handle_removes_the_segment() {
    isolated(|| {
        let block = created(100);
        let name = block.name().to_owned();
        let clone = block.clone();
        let attached = SharedMemory::attach(&name).unwrap();
        drop(block);
        assert!(segment_exists(&name));
        drop(clone);
        assert!(segment_exists(&name));
        assert_eq!(read(&attached, 0, 1), [0]);
        drop(attached);
        assert!(!segment_exists(&name));
        let e = SharedMemory::attach(&name).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    });
}

// Checks that a last drop racing an attach ends one of two ways: the
// attach wins and the segment stays (named) for it, or the drop wins and
// the attach finds nothing — never an attach to a segment already removed.
#[test]
fn an_attach_racing_the_last_drop_gets_all_or_nothing() {
    isolated(|| {
        let (mut won, mut lost) = (0, 0);
        for _ in 0..200 {
            let block = created(1);
            let name = block.name().to_owned();
            let start = std::sync::Barrier::new(2);
            let attached = std::thread::scope(|s| {
                s.spawn(|| {
                    start.wait();
                    drop(block);
                });
                start.wait();
                SharedMemory::attach(&name)
            });
            match attached {
                Ok(handle) => {
                    won += 1;
                    assert!(segment_exists(&name), "attached to a removed segment");
                    drop(handle);
                    assert!(!segment_exists(&name));
                }
                Err(e) => {
                    lost += 1;
                    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
                    assert!(!segment_exists(&name));
                }
            }
        }
        assert_eq!(won + lost, 200);
    });
}

// Ported from CPython's _TestSharedMemory.test_shared_memory_pickle_unpickle
// and ..._dead_object: a handle serialises as its name, and decoding it
// attaches — or fails once the segment is gone.
#[test]
fn a_handle_serialises_as_its_name() {
    isolated(|| {
        let block = created(512);
        block.write_at(0, b"pickle").unwrap();
        let bytes = postcard::to_allocvec(&block).unwrap();
        let decoded: SharedMemory = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(decoded.name(), block.name());
        assert_eq!(read(&decoded, 0, 6), b"pickle");
        decoded.write_at(0, b"newval").unwrap();
        assert_eq!(read(&block, 0, 6), b"newval");
        drop((block, decoded));
        // (postcard keeps only that decoding failed: NotFound, here.)
        assert!(postcard::from_bytes::<SharedMemory>(&bytes).is_err());
    });
}

// Ported from CPython's _TestSharedMemory.test_shared_memory_across_processes:
// a worker attaches by name, or receives the handle, writes, and the
// parent reads.
#[test]
fn a_worker_writes_and_the_parent_reads() {
    isolated(|| {
        let block = created(512);
        Process::start(write_by_name, (block.name().to_owned(), b"howdy".to_vec()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(read(&block, 0, 5), b"howdy");
        Process::start(write_by_handle, (block.clone(), b"HELLO".to_vec()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(read(&block, 0, 5), b"HELLO");
    });
}

// Checks that pool workers attach one segment each time a task brings it,
// write their own slots, and leave it to the parent, which reads them all.
#[test]
fn pool_workers_write_into_one_segment() {
    isolated(|| {
        let block = created(64);
        let pool = Pool::builder().processes(2).build().unwrap();
        let pids = pool
            .map(write_own_pid, (0..8).map(|slot| (block.clone(), slot)))
            .unwrap();
        drop(pool);
        for (slot, pid) in pids.iter().enumerate() {
            assert_eq!(read(&block, slot * 4, 4), pid.to_le_bytes());
        }
        assert!(segment_exists(block.name()));
    });
}

// gh-82300: Python's resource tracker removes a segment when any process
// that used it exits. Here workers that attached and exited — returning,
// or killed while attached — leave it, intact, to the parent; the
// parent's last drop removes it.
#[test]
fn workers_that_attached_and_exited_leave_the_segment() {
    isolated(|| {
        let block = created(64);
        let name = block.name().to_owned();
        let gate = Gate::new();
        let p = Process::start(write_then_wait, (block.clone(), gate.path())).unwrap();
        gate.open();
        p.join().unwrap();
        assert!(segment_exists(&name));
        assert_eq!(read(&block, 0, 15), b"from the worker");

        let p = Process::start(attach_and_wait, (block.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        p.kill();
        assert!(p.join().unwrap_err().is_worker_died());
        drop(at_gate);
        assert!(segment_exists(&name));
        assert_eq!(read(&block, 0, 15), b"from the worker");
        block.write_at(0, b"the parent goes on").unwrap();
        assert_eq!(
            read(&SharedMemory::attach(&name).unwrap(), 0, 18),
            b"the parent goes on"
        );

        drop(block);
        assert!(!segment_exists(&name));
    });
}

// Checks that when the parent drops its handle first, the worker's drop
// is the last and removes the segment.
#[test]
fn a_worker_can_be_the_last_user() {
    isolated(|| {
        let block = created(64);
        let name = block.name().to_owned();
        let gate = Gate::new();
        let p = Process::start(write_then_wait, (block.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        drop(block);
        assert!(segment_exists(&name), "the worker holds it");
        drop(at_gate);
        p.join().unwrap();
        poll_until("the worker removed it", || !segment_exists(&name));
    });
}

// Crash cleanup, ported in spirit from CPython's
// _TestSharedMemory.test_shared_memory_cleaned_after_process_termination:
// a program makes a segment and a lock, hands both to a child that locks
// the lock, and is killed with SIGKILL. Its child dies with it (the
// parent-death signal), and its tracker removes both segments.
#[test]
fn a_killed_program_leaves_no_segment_behind() {
    isolated(|| {
        let path = temp_path("crash");
        let program = Process::start(make_and_hand_on, path.to_str().unwrap().to_owned()).unwrap();
        let words = words(&read_report(&path));
        let (block, lock) = (&words[0], &words[1]);
        let child: u32 = words[2].parse().unwrap();
        let tracker: u32 = words[3].parse().unwrap();
        watch_segment(block);
        watch_segment(lock);
        assert!(segment_exists(block) && segment_exists(lock));

        program.kill();
        assert!(program.join().unwrap_err().is_worker_died());
        poll_until("the child died with its parent", || is_gone(child));
        poll_until("the tracker removed the segment", || !segment_exists(block));
        poll_until("the tracker removed the lock", || !segment_exists(lock));
        poll_until("the tracker exited", || is_gone(tracker));
    });
}

// Checks that a tracker leaves a segment that another, unrelated process
// still holds after the creator was killed — however long it takes —
// while it removes the creator's other segment at once, and the held one
// once that process is killed too.
#[test]
fn the_tracker_leaves_a_segment_another_process_holds() {
    isolated(|| {
        // The held one sorts first: a tracker that waited for each segment
        // in turn would never get to the other.
        let (held, alone) = (own_name("a-held"), own_name("b-alone"));
        let path = temp_path("holder");
        let creator = Process::start(
            make_two_and_wait,
            (
                held.clone(),
                alone.clone(),
                path.to_str().unwrap().to_owned(),
            ),
        )
        .unwrap();
        let tracker: u32 = read_report(&path).parse().unwrap();

        let gate = Gate::new();
        let holder = {
            let block = SharedMemory::attach(&held).unwrap();
            Process::start(attach_and_wait, (block, gate.path())).unwrap()
        };
        let holder_at_gate = gate.hold();

        creator.kill();
        assert!(creator.join().unwrap_err().is_worker_died());
        poll_until("the tracker removed the unused segment", || {
            !segment_exists(&alone)
        });
        assert!(has_open(tracker, &held), "the tracker waits for the other");
        let look = SharedMemory::attach(&held).unwrap();
        assert_eq!(read(&look, 0, 6), b"intact");
        drop(look);
        assert!(segment_exists(&held), "the holder still has it");
        assert!(!is_gone(tracker));

        holder.kill();
        assert!(holder.join().unwrap_err().is_worker_died());
        drop(holder_at_gate);
        poll_until("the tracker removed the segment", || !segment_exists(&held));
        poll_until("the tracker exited", || is_gone(tracker));
    });
}

// Checks that a tracker removes a name only while it means the segment
// its creator made: a name unlinked and made again by another process is
// left alone, and the tracker does not wait for it.
#[test]
fn the_tracker_leaves_a_name_taken_again() {
    isolated(|| {
        let name = own_name("taken-again");
        let path = temp_path("taken-again");
        let creator = Process::start(
            make_named_and_wait,
            (name.clone(), path.to_str().unwrap().to_owned()),
        )
        .unwrap();
        let tracker: u32 = read_report(&path).parse().unwrap();
        SharedMemory::attach(&name).unwrap().unlink().unwrap();
        let again = SharedMemory::create_named(&name, 64).unwrap();
        again.write_at(0, b"second").unwrap();

        creator.kill();
        assert!(creator.join().unwrap_err().is_worker_died());
        poll_until("the tracker exited", || is_gone(tracker));
        assert_eq!(read(&SharedMemory::attach(&name).unwrap(), 0, 6), b"second");
        drop(again);
        assert!(!segment_exists(&name));
    });
}

// Checks that a segment left by a program whose tracker was killed too is
// removed by the next tracker that starts (its sweep of /dev/shm).
#[test]
fn an_orphan_is_swept_by_the_next_tracker() {
    isolated(|| {
        let path = temp_path("orphan");
        let creator = Process::start(make_and_wait, path.to_str().unwrap().to_owned()).unwrap();
        let words = words(&read_report(&path));
        let name = words[0].clone();
        let tracker: u32 = words[1].parse().unwrap();
        watch_segment(&name);
        assert!(segment_exists(&name), "its creator holds it");

        kill_pid(tracker);
        poll_until("the tracker is dead", || is_gone(tracker));
        creator.kill();
        assert!(creator.join().unwrap_err().is_worker_died());

        // Nobody holds it, nobody is left to remove it: until a tracker
        // starts (another program on this machine may start one first).
        let made = Process::start(make_segment, ()).unwrap().join().unwrap();
        watch_segment(&made);
        poll_until("the new tracker swept the orphan", || {
            !segment_exists(&name)
        });
    });
}

// Checks that a tracker that died is replaced at the next create, the
// dead one reaped (no zombie), and that the new one knows every segment
// still alive: when the program is then killed, both are removed.
#[test]
fn a_dead_tracker_is_replaced() {
    isolated(|| {
        let path = temp_path("restart");
        let program = Process::start(restart_tracker, path.to_str().unwrap().to_owned()).unwrap();
        let words = words(&read_report(&path));
        let (first, second) = (&words[0], &words[1]);
        let old: u32 = words[2].parse().unwrap();
        let new: u32 = words[3].parse().unwrap();
        watch_segment(first);
        watch_segment(second);
        assert_ne!(old, new);
        assert_eq!(words[4], "true", "the dead tracker was reaped");
        assert!(segment_exists(first) && segment_exists(second));

        program.kill();
        assert!(program.join().unwrap_err().is_worker_died());
        poll_until("the first segment is removed", || !segment_exists(first));
        poll_until("the second segment is removed", || !segment_exists(second));
        poll_until("the new tracker exited", || is_gone(new));
    });
}

// Checks that handles can move and be shared between threads, and show
// their name and size.
#[test]
fn a_handle_is_send_sync_and_debug() {
    fn send_sync<T: Send + Sync + std::fmt::Debug>() {}
    send_sync::<SharedMemory>();
    isolated(|| {
        let block = created(1);
        let shown = format!("{block:?}");
        assert!(shown.contains(block.name()), "{shown}");
        std::thread::scope(|s| {
            s.spawn(|| block.write_at(0, &[9]).unwrap());
        });
        assert_eq!(read(&block, 0, 1), [9]);
    });
}

/// In a worker: the size of the segment it attached to.
fn size_later(block: SharedMemory) -> usize {
    block.size()
}

/// In a worker: the sum a queue holds and a value's number.
fn drain_later(
    (queue, value): (
        corun_multiprocessing::Queue<u64>,
        corun_multiprocessing::Value<u64>,
    ),
) -> u64 {
    let mut sum = value.load();
    while let Ok(n) = queue.try_get() {
        sum += n;
    }
    sum
}

// Checks that an argument passed by value — its only handle moved into
// the call and dropped as soon as the call is sent — still reaches the
// worker: the call keeps the segments it names until the reply is in.
#[test]
fn shared_objects_passed_by_value_outlive_the_call() {
    isolated(|| {
        for _ in 0..20 {
            let block = created(4096);
            let p = Process::start(size_later, block).unwrap();
            assert_eq!(p.join().unwrap(), 4096);
        }
        let pool = Pool::builder().processes(2).build().unwrap();
        for round in 0..20_u64 {
            let queue = corun_multiprocessing::Queue::new().unwrap();
            watch_segment(queue.name());
            for n in 1..=3 {
                queue.put(n).unwrap();
            }
            let value = corun_multiprocessing::Value::new(round).unwrap();
            assert_eq!(pool.apply(drain_later, (queue, value)).unwrap(), round + 6);
        }
        pool.close();
        pool.join().unwrap();
    });
}
