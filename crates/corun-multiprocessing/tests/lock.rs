//! `Lock`: Python's `multiprocessing.Lock`, across processes, and what
//! happens when a process dies holding it or waiting for it.

mod common;

use std::time::Duration;

use common::{
    Gate, isolated, read_report, report, stay_at_gate, temp_path, wait_at_gate, watch_segment,
};
use corun_multiprocessing::{AcquireError, Lock, OwnerDied, Pool, Process, SharedMemory};
use corun_test_support::{DEADLINE, Probe, poll_until};

corun_multiprocessing::enable_test_workers!();

fn new_lock() -> Lock {
    let lock = Lock::new().unwrap();
    watch_segment(lock.name());
    lock
}

/// Takes the lock, arrives at the gate, and holds the lock there until
/// the gate opens; returns its pid.
fn hold_until_gate((lock, gate): (Lock, String)) -> u32 {
    let _held = lock.acquire().unwrap();
    wait_at_gate(&gate);
    std::process::id()
}

/// Takes the lock and stays at the gate until killed.
fn hold_until_killed((lock, gate): (Lock, String)) {
    let _held = lock.acquire().unwrap();
    stay_at_gate(&gate);
}

/// Takes the lock, says whether it sees it locked, and releases it when
/// the gate opens.
fn locked_from_here((lock, gate): (Lock, String)) -> bool {
    let _held = lock.acquire().unwrap();
    let locked = lock.locked();
    wait_at_gate(&gate);
    locked
}

fn abort_holding(lock: Lock) {
    let _held = lock.acquire().unwrap();
    std::process::abort();
}

/// Adds 1 to the counter at the start of `block`, `n` times, each by a
/// read, a pause and a write under the lock: lost updates unless the lock
/// excludes. Returns whether every acquire was clean.
fn count((lock, block, n): (Lock, SharedMemory, u32)) -> bool {
    let mut clean = true;
    for _ in 0..n {
        let _held = lock.acquire().unwrap_or_else(|died| {
            clean = false;
            died.into_guard()
        });
        let mut bytes = [0; 4];
        block.read_at(0, &mut bytes).unwrap();
        std::thread::yield_now();
        block
            .write_at(0, &(u32::from_le_bytes(bytes) + 1).to_le_bytes())
            .unwrap();
    }
    clean
}

/// Reports this thread's id, then waits for the lock; whether it was
/// clean.
fn wait_for_lock((lock, path): (Lock, String)) -> bool {
    let tid = std::fs::read_link("/proc/thread-self").unwrap();
    report(&path, tid.file_name().unwrap().to_str().unwrap());
    lock.acquire().is_ok()
}

fn counter() -> SharedMemory {
    let block = SharedMemory::create(4).unwrap();
    watch_segment(block.name());
    block
}

fn counted(block: &SharedMemory) -> u32 {
    let mut bytes = [0; 4];
    block.read_at(0, &mut bytes).unwrap();
    u32::from_le_bytes(bytes)
}

/// Whether thread `tid` of process `pid` is asleep in the kernel, and (if
/// the kernel says where) in a futex wait: blocked on the lock.
fn asleep_on_lock(pid: u32, tid: &str) -> bool {
    let dir = format!("/proc/{pid}/task/{tid}");
    let stat = std::fs::read_to_string(format!("{dir}/stat")).unwrap_or_default();
    let asleep = stat
        .rfind(')')
        .is_some_and(|i| stat[i + 1..].trim_start().starts_with('S'));
    let wchan = std::fs::read_to_string(format!("{dir}/wchan")).unwrap_or_default();
    asleep && (wchan.contains("futex") || wchan.is_empty() || wchan == "0")
}

/// Waits until the worker `pid` whose thread reported at `path` is
/// blocked on the lock (three looks in a row, 1 ms apart).
fn wait_blocked(pid: u32, path: &std::path::Path) {
    let tid = read_report(path);
    let mut in_a_row = 0;
    poll_until("the worker waits for the lock", || {
        in_a_row = if asleep_on_lock(pid, &tid) {
            in_a_row + 1
        } else {
            0
        };
        in_a_row >= 3
    });
}

// Ported from CPython's _TestLock.test_lock (Lib/test/_test_multiprocessing.py):
// acquire, locked, a non-blocking acquire that fails, release. (Releasing
// an unlocked lock, which Python rejects, cannot be written: release is
// dropping the guard.)
#[test]
fn acquire_try_and_release() {
    isolated(|| {
        let lock = new_lock();
        assert!(!lock.locked());
        let held = lock.acquire().unwrap();
        assert!(lock.locked());
        assert!(lock.try_acquire().unwrap_err().is_timeout());
        assert!(
            lock.acquire_timeout(Duration::ZERO)
                .unwrap_err()
                .is_timeout()
        );
        drop(held);
        assert!(!lock.locked());
        drop(lock.try_acquire().unwrap());
        drop(lock.acquire_timeout(Duration::from_secs(1)).unwrap());
        drop(lock.acquire_timeout(Duration::MAX).unwrap());
    });
}

// Ported from CPython's _TestLock.test_lock_context: a guard is a scope.
#[test]
fn a_guard_is_a_scope() {
    isolated(|| {
        let lock = new_lock();
        {
            let _held = lock.acquire().unwrap();
            assert!(lock.locked());
        }
        assert!(!lock.locked());
    });
}

// Ported from CPython's _TestLock.test_lock_locked_2processes: a lock
// taken in a child is locked in the child and in the parent.
#[test]
fn a_lock_taken_in_a_child_is_locked_everywhere() {
    isolated(|| {
        let lock = new_lock();
        let gate = Gate::new();
        let p = Process::start(locked_from_here, (lock.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        assert!(lock.locked());
        assert!(lock.try_acquire().unwrap_err().is_timeout());
        drop(at_gate);
        assert!(p.join().unwrap());
        assert!(!lock.locked());
    });
}

// Checks that a timed acquire gives up while another process holds the
// lock, and succeeds once that process releases it.
#[test]
fn a_timed_acquire_gives_up_while_another_process_holds() {
    isolated(|| {
        let lock = new_lock();
        let gate = Gate::new();
        let p = Process::start(hold_until_gate, (lock.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        let e = lock.acquire_timeout(Duration::from_millis(20)).unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(e.into_guard().is_none());
        drop(at_gate);
        let pid = p.pid();
        assert_eq!(p.join().unwrap(), pid);
        drop(lock.acquire_timeout(DEADLINE).expect("released cleanly"));
    });
}

// Checks mutual exclusion between processes: two workers, then a pool,
// add to one counter by read-pause-write under the lock, and no update is
// lost.
#[test]
fn workers_contending_lose_no_update() {
    isolated(|| {
        let lock = new_lock();
        let block = counter();
        let a = Process::start(count, (lock.clone(), block.clone(), 300)).unwrap();
        let b = Process::start(count, (lock.clone(), block.clone(), 300)).unwrap();
        assert!(a.join().unwrap() && b.join().unwrap());
        assert_eq!(counted(&block), 600);

        let pool = Pool::builder().processes(2).build().unwrap();
        let clean = pool
            .map(count, (0..4).map(|_| (lock.clone(), block.clone(), 100)))
            .unwrap();
        drop(pool);
        assert!(clean.into_iter().all(|c| c));
        assert_eq!(counted(&block), 1000);
    });
}

// Checks a holder killed with SIGKILL (Process::kill): the lock still
// counts as locked, and the next acquire gets it with OwnerDied naming the
// dead holder; after that the lock works as before, across processes.
#[test]
fn a_holder_killed_leaves_owner_died() {
    isolated(|| {
        let lock = new_lock();
        let gate = Gate::new();
        let p = Process::start(hold_until_killed, (lock.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        let pid = p.pid();
        p.kill();
        assert!(p.join().unwrap_err().is_worker_died());
        drop(at_gate);

        // Asking does not take the lock, so does not hide the death.
        assert!(lock.locked());
        let died = lock.acquire().unwrap_err();
        assert_eq!(died.pid(), pid);
        assert!(died.to_string().contains(&pid.to_string()), "{died}");
        let guard = died.into_guard();
        assert!(lock.locked());
        drop(guard);
        assert!(!lock.locked());
        drop(lock.acquire().expect("consistent again"));

        let block = counter();
        let a = Process::start(count, (lock.clone(), block.clone(), 100)).unwrap();
        let b = Process::start(count, (lock.clone(), block.clone(), 100)).unwrap();
        assert!(a.join().unwrap() && b.join().unwrap());
        assert_eq!(counted(&block), 200);
    });
}

// Checks a holder that aborts inside the function holding the lock: a
// try_acquire gets it, with OwnerDied and the holder's pid.
#[test]
fn a_holder_that_aborts_leaves_owner_died() {
    isolated(|| {
        let lock = new_lock();
        let p = Process::start(abort_holding, lock.clone()).unwrap();
        let pid = p.pid();
        assert!(p.join().unwrap_err().is_worker_died());
        let died = match lock.try_acquire() {
            Err(AcquireError::OwnerDied(died)) => died,
            other => panic!("expected OwnerDied, got {other:?}"),
        };
        assert_eq!(died.pid(), pid);
        drop(died);
        let guard = lock
            .acquire_timeout(DEADLINE)
            .expect("the dead holder was reported once");
        drop(guard);
        assert!(!lock.locked());
    });
}

// Checks that a thread blocked in acquire when the holder is killed is
// woken by the kernel and gets the lock, with OwnerDied.
#[test]
fn a_waiter_gets_the_lock_when_the_holder_is_killed() {
    isolated(|| {
        let lock = new_lock();
        let gate = Gate::new();
        let p = Process::start(hold_until_killed, (lock.clone(), gate.path())).unwrap();
        let at_gate = gate.hold();
        let pid = p.pid();
        let (probe_tx, probe_rx) = std::sync::mpsc::channel();
        let reported = std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                probe_tx.send(Probe::current()).unwrap();
                lock.acquire().map(drop).map_err(|died| died.pid())
            });
            probe_rx.recv().unwrap().wait_until_blocked();
            p.kill();
            waiter.join().unwrap()
        });
        assert_eq!(reported, Err(pid));
        assert!(p.join().unwrap_err().is_worker_died());
        drop(at_gate);
        drop(lock.acquire().expect("reported once, to the waiter"));
    });
}

// Checks that a process killed while waiting for the lock disturbs
// nobody: the other waiter gets the lock when it is released, cleanly, and
// so does the parent after it.
#[test]
fn a_waiter_killed_does_not_disturb_the_lock() {
    isolated(|| {
        let lock = new_lock();
        let held = lock.acquire().unwrap();
        let (path_a, path_b) = (temp_path("waiter-a"), temp_path("waiter-b"));
        let a = Process::start(
            wait_for_lock,
            (lock.clone(), path_a.to_str().unwrap().to_owned()),
        )
        .unwrap();
        let b = Process::start(
            wait_for_lock,
            (lock.clone(), path_b.to_str().unwrap().to_owned()),
        )
        .unwrap();
        wait_blocked(a.pid(), &path_a);
        wait_blocked(b.pid(), &path_b);

        a.kill();
        assert!(a.join().unwrap_err().is_worker_died());
        assert!(lock.locked(), "still held by this process");
        drop(held);
        assert!(b.join().unwrap(), "the other waiter got it cleanly");
        drop(lock.acquire().expect("clean"));
        assert!(!lock.locked());
    });
}

// Checks that a lock's segment cannot be attached as something else, and
// a plain segment's name cannot be taken for a lock.
#[test]
fn a_lock_is_checked_when_attached() {
    isolated(|| {
        let block = counter();
        let as_name = postcard::to_allocvec(&block).unwrap();
        // (postcard keeps only that decoding failed: InvalidData, here.)
        assert!(postcard::from_bytes::<Lock>(&as_name).is_err());
        assert!(
            SharedMemory::attach(block.name()).is_ok(),
            "the segment is fine"
        );

        let lock = new_lock();
        let bytes = postcard::to_allocvec(&lock).unwrap();
        let same: Lock = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(same.name(), lock.name());
        let _held = same.acquire().unwrap();
        assert!(lock.locked());
    });
}

// Checks the lock's name and Debug, and that it can be shared between
// threads (a guard cannot move: the thread that locks unlocks).
#[test]
fn a_lock_is_named_send_sync_and_debug() {
    fn send_sync<T: Send + Sync + std::fmt::Debug>() {}
    send_sync::<Lock>();
    send_sync::<AcquireError<()>>();
    send_sync::<OwnerDied<()>>();
    isolated(|| {
        let lock = new_lock();
        assert!(lock.name().starts_with("corun-"));
        let shown = format!("{lock:?}");
        assert!(
            shown.contains(lock.name()) && shown.contains("locked: false"),
            "{shown}"
        );
        let held = lock.acquire().unwrap();
        assert!(format!("{lock:?}").contains("locked: true"));
        assert_eq!(format!("{held:?}"), "LockGuard");
        drop(held);
        std::thread::scope(|s| {
            s.spawn(|| drop(lock.acquire().unwrap()));
        });
        assert!(!lock.locked());
    });
}
