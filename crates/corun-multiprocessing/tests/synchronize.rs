//! The process-shared synchronisation primitives — `Lock`, `RLock`,
//! `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`, `Barrier` — with
//! worker processes as the other parties. Most tests port CPython's
//! `Lib/test/_test_multiprocessing.py` (each says which); the fault tests
//! kill a worker (`Process::kill`, or `abort()` in the worker) while it
//! holds a lock or waits, and check that the others go on and nothing is
//! left behind.

mod common;

use std::time::Duration;

use common::{isolated, wait_until_asleep, watch_segment};
use corun_multiprocessing::{
    AcquireError, Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard, Event,
    Lock, LockGuard, OwnerDied, Process, RLock, RLockGuard, Semaphore, SemaphorePermit,
    SharedMemory,
};
use corun_test_support::{DEADLINE, poll_until};

corun_multiprocessing::enable_test_workers!();

/// Registers a new primitive's segment with `isolated`, which checks it
/// is gone from `/dev/shm` once the test ends.
macro_rules! shared {
    ($made:expr) => {{
        let made = $made;
        watch_segment(made.name());
        made
    }};
}

/// A time-out meant to pass: nobody will come.
const SHORT: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------- helpers

/// Blocks the worker until the test kills it (for long enough, not for
/// ever, so that a broken test cannot leave it behind).
fn block_until_killed() {
    std::thread::sleep(DEADLINE * 3);
}

/// A counter in shared memory: a semaphore whose permits are the count
/// (CPython's tests use `get_value()` of a semaphore the same way).
fn count(sem: &Semaphore) -> usize {
    sem.value()
}

fn read_i32(block: &SharedMemory) -> i32 {
    let mut bytes = [0; 4];
    block.read_at(0, &mut bytes).unwrap();
    i32::from_le_bytes(bytes)
}

fn write_i32(block: &SharedMemory, value: i32) {
    block.write_at(0, &value.to_le_bytes()).unwrap();
}

// ------------------------------------------------------------------- Lock

// Ported from _TestLock.test_lock (a release of an unlocked lock, Python's
// ValueError, cannot be written: the guard releases).
#[test]
fn lock_acquire_and_release() {
    isolated(|| {
        let lock = shared!(Lock::new().unwrap());
        let guard = lock.acquire().unwrap();
        assert!(lock.locked());
        assert!(lock.try_acquire().unwrap_err().is_timeout());
        drop(guard);
        assert!(!lock.locked());
    });
}

// Ported from _TestLock.test_lock_context and test_rlock_context: a scope
// holds the lock.
#[test]
fn lock_and_rlock_in_a_scope() {
    isolated(|| {
        let lock = shared!(Lock::new().unwrap());
        {
            let _held = lock.acquire().unwrap();
            assert!(lock.locked());
        }
        assert!(!lock.locked());
        let rlock = shared!(RLock::new().unwrap());
        {
            let _held = rlock.acquire().unwrap();
            assert!(rlock.locked());
        }
        assert!(!rlock.locked());
    });
}

// ------------------------------------------------------------------ RLock

// Ported from _TestLock.test_rlock.
#[test]
fn rlock_is_reentrant() {
    isolated(|| {
        let lock = shared!(RLock::new().unwrap());
        let a = lock.acquire().unwrap();
        assert!(lock.locked());
        let b = lock.acquire().unwrap();
        let c = lock.try_acquire().unwrap();
        drop(b);
        assert!(lock.locked());
        drop(a);
        assert!(lock.locked() && lock.is_owned());
        drop(c);
        assert!(!lock.locked() && !lock.is_owned());
    });
}

fn hold_rlock((lock, held, release): (RLock, Event, Event)) -> bool {
    let outer = lock.acquire().unwrap();
    let inner = lock.acquire().unwrap();
    let owned = lock.is_owned();
    held.set();
    assert!(release.wait_timeout(DEADLINE));
    drop(outer);
    drop(inner);
    owned && !lock.is_owned()
}

// Ported from _TestLock.test_rlock_locked_2processes: a worker's hold is
// seen here, and only its own thread owns the lock.
#[test]
fn rlock_held_by_a_worker() {
    isolated(|| {
        let lock = shared!(RLock::new().unwrap());
        let (held, release) = (
            shared!(Event::new().unwrap()),
            shared!(Event::new().unwrap()),
        );
        let p = Process::start(hold_rlock, (lock.clone(), held.clone(), release.clone())).unwrap();
        assert!(held.wait_timeout(DEADLINE));
        assert!(lock.locked());
        assert!(!lock.is_owned());
        assert!(lock.try_acquire().unwrap_err().is_timeout());
        let other_thread = std::thread::scope(|s| {
            s.spawn(|| lock.acquire_timeout(SHORT).unwrap_err().is_timeout())
                .join()
                .unwrap()
        });
        assert!(other_thread);
        release.set();
        assert!(p.join().unwrap());
        let guard = lock.acquire_timeout(DEADLINE).expect("released cleanly");
        drop(guard);
    });
}

fn rlock_then_block((lock, held): (RLock, Event)) {
    let _outer = lock.acquire().unwrap();
    let _inner = lock.acquire().unwrap();
    held.set();
    block_until_killed();
}

fn rlock_then_abort(lock: RLock) {
    let _held = lock.acquire().unwrap();
    std::process::abort();
}

// Fault: a worker killed (SIGKILL) while it holds the lock twice over. The
// next acquirer gets it, told who died, and it is an ordinary lock again.
#[test]
fn rlock_holder_killed_is_reported_to_the_next_acquirer() {
    isolated(|| {
        let lock = shared!(RLock::new().unwrap());
        let held = shared!(Event::new().unwrap());
        let p = Process::start(rlock_then_block, (lock.clone(), held.clone())).unwrap();
        assert!(held.wait_timeout(DEADLINE));
        let pid = p.pid();
        p.kill();
        assert!(p.join().is_err());
        let died = match lock.acquire_timeout(DEADLINE) {
            Err(AcquireError::OwnerDied(died)) => died,
            other => panic!("expected OwnerDied, got {other:?}"),
        };
        assert_eq!(died.pid(), pid);
        let guard = died.into_guard();
        assert!(lock.is_owned());
        let again = lock.acquire().expect("re-entered cleanly");
        drop(guard);
        drop(again);
        assert!(!lock.locked());
        let free = std::thread::scope(|s| s.spawn(|| lock.try_acquire().is_ok()).join().unwrap());
        assert!(free, "every level released, for another thread too");
    });
}

// Fault: a worker aborts while holding the lock.
#[test]
fn rlock_holder_aborted_is_reported_to_the_next_acquirer() {
    isolated(|| {
        let lock = shared!(RLock::new().unwrap());
        let p = Process::start(rlock_then_abort, lock.clone()).unwrap();
        let pid = p.pid();
        assert!(p.join().is_err());
        let died = lock.acquire().unwrap_err();
        assert_eq!(died.pid(), pid);
        drop(died.into_guard());
        drop(lock.acquire().expect("consistent again"));
    });
}

// -------------------------------------------------------------- Semaphore

// Ported from _TestSemaphore._test_semaphore, shared by the two tests below.
fn check_semaphore(
    value: impl Fn() -> usize,
    try_acquire: impl Fn() -> Option<()>,
    release: impl Fn() -> Result<(), corun::Error>,
) {
    assert_eq!(value(), 2);
    assert!(try_acquire().is_some());
    assert_eq!(value(), 1);
    assert!(try_acquire().is_some());
    assert_eq!(value(), 0);
    assert!(try_acquire().is_none());
    assert_eq!(value(), 0);
    release().unwrap();
    assert_eq!(value(), 1);
    release().unwrap();
    assert_eq!(value(), 2);
}

// Ported from _TestSemaphore.test_semaphore.
#[test]
fn semaphore_counts_permits() {
    isolated(|| {
        let sem = shared!(Semaphore::new(2).unwrap());
        check_semaphore(
            || sem.value(),
            || sem.try_acquire().map(SemaphorePermit::forget),
            || sem.release(1),
        );
        sem.release(1).unwrap();
        assert_eq!(sem.value(), 3);
        sem.release(1).unwrap();
        assert_eq!(sem.value(), 4);
        let permit = sem.acquire();
        assert_eq!(sem.value(), 3);
        drop(permit);
        assert_eq!(sem.value(), 4);
    });
}

// Ported from _TestSemaphore.test_bounded_semaphore, with the check CPython
// leaves commented out (macOS has no get_value): one release too many is
// an error and changes nothing.
#[test]
fn bounded_semaphore_refuses_a_release_past_its_value() {
    isolated(|| {
        let sem = shared!(BoundedSemaphore::new(2).unwrap());
        check_semaphore(
            || sem.value(),
            || sem.try_acquire().map(SemaphorePermit::forget),
            || sem.release(1),
        );
        assert!(sem.release(1).is_err());
        assert_eq!(sem.value(), 2);
        assert_eq!(sem.bound(), 2);
        // A guard that finds the semaphore full leaves it full.
        let permit = sem.acquire();
        sem.release(1).unwrap();
        drop(permit);
        assert_eq!(sem.value(), 2);
    });
}

// Ported from _TestSemaphore.test_timeout (without the timing checks).
#[test]
fn semaphore_acquire_times_out() {
    isolated(|| {
        let sem = shared!(Semaphore::new(0).unwrap());
        assert!(sem.try_acquire().is_none());
        assert!(sem.acquire_timeout(Duration::ZERO).is_none());
        assert!(sem.acquire_timeout(SHORT).is_none());
        let bounded = shared!(BoundedSemaphore::new(0).unwrap());
        assert!(bounded.acquire_timeout(SHORT).is_none());
    });
}

fn take_a_permit((sem, started): (Semaphore, Event)) -> bool {
    started.set();
    sem.acquire_timeout(DEADLINE)
        .map(SemaphorePermit::forget)
        .is_some()
}

fn give_a_permit(sem: Semaphore) {
    sem.release(1).unwrap();
}

// A worker asleep in `acquire` is woken by a release here, and a release in
// a worker wakes a waiter here: any process may release.
#[test]
fn semaphore_permits_cross_processes() {
    isolated(|| {
        let sem = shared!(Semaphore::new(0).unwrap());
        let started = shared!(Event::new().unwrap());
        let p = Process::start(take_a_permit, (sem.clone(), started.clone())).unwrap();
        assert!(started.wait_timeout(DEADLINE));
        wait_until_asleep(p.pid());
        sem.release(1).unwrap();
        assert!(p.join().unwrap());
        assert_eq!(sem.value(), 0);

        let giver = Process::start(give_a_permit, sem.clone()).unwrap();
        sem.acquire_timeout(DEADLINE)
            .expect("the worker released")
            .forget();
        giver.join().unwrap();
    });
}

fn hold_a_permit((sem, held): (Semaphore, Event)) {
    let _permit = sem.acquire();
    held.set();
    block_until_killed();
}

// Fault: a worker killed while holding a permit loses it, as in Python;
// nobody with a time-out waits forever for it, and a release makes up.
#[test]
fn semaphore_holder_killed_loses_its_permit() {
    isolated(|| {
        let sem = shared!(Semaphore::new(1).unwrap());
        let held = shared!(Event::new().unwrap());
        let p = Process::start(hold_a_permit, (sem.clone(), held.clone())).unwrap();
        assert!(held.wait_timeout(DEADLINE));
        p.kill();
        assert!(p.join().is_err());
        assert_eq!(sem.value(), 0);
        assert!(sem.acquire_timeout(SHORT).is_none());
        sem.release(1).unwrap();
        drop(sem.acquire_timeout(DEADLINE).expect("made up"));
    });
}

// ------------------------------------------------------------------ Event

fn set_event(event: Event) {
    event.set();
}

// Ported from _TestEvent.test_event (without the timing checks; the setter
// runs once this process sleeps in `wait`, instead of after a sleep).
#[test]
fn event_wait_and_set() {
    isolated(|| {
        let event = shared!(Event::new().unwrap());
        assert!(!event.is_set());
        assert!(!event.wait_timeout(Duration::ZERO));
        assert!(!event.wait_timeout(SHORT));
        event.set();
        assert!(event.is_set());
        event.wait();
        assert!(event.wait_timeout(SHORT));
        event.clear();
        assert!(!event.is_set());

        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let event = &event;
            let waiter = s.spawn(move || {
                tx.send(corun_test_support::Probe::current()).unwrap();
                event.wait();
            });
            rx.recv().unwrap().wait_until_blocked();
            Process::start(set_event, event.clone())
                .unwrap()
                .join()
                .unwrap();
            waiter.join().unwrap();
        });
        assert!(event.is_set());
    });
}

fn wait_for_event((event, started): (Event, Event)) -> bool {
    started.set();
    event.wait_timeout(DEADLINE)
}

// Fault: of two workers asleep on an event, one is killed; a `set` still
// wakes the other, and a `clear` then `set` works as before.
#[test]
fn event_waiter_killed_leaves_the_others_going() {
    isolated(|| {
        let event = shared!(Event::new().unwrap());
        let started: Vec<Event> = (0..2).map(|_| shared!(Event::new().unwrap())).collect();
        let workers: Vec<_> = started
            .iter()
            .map(|s| Process::start(wait_for_event, (event.clone(), s.clone())).unwrap())
            .collect();
        for (p, s) in workers.iter().zip(&started) {
            assert!(s.wait_timeout(DEADLINE));
            wait_until_asleep(p.pid());
        }
        let mut workers = workers.into_iter();
        let victim = workers.next().unwrap();
        victim.kill();
        assert!(victim.join().is_err());
        event.set();
        assert!(workers.next().unwrap().join().unwrap());
        event.clear();
        assert!(!event.wait_timeout(SHORT));
        event.set();
        assert!(event.wait_timeout(SHORT));
    });
}

// -------------------------------------------------------------- Condition

type Waiter = (Condition, Semaphore, Semaphore, Option<Duration>);

// CPython's _TestCondition.f: take the lock, say so on `sleeping`, wait
// (with a time-out or not), count on `woken`. Returns whether notified.
fn condition_waiter((cond, sleeping, woken, timeout): Waiter) -> bool {
    let mut guard = cond.acquire().unwrap();
    sleeping.release(1).unwrap();
    let notified = match timeout {
        Some(timeout) => guard.wait_timeout(timeout).unwrap(),
        None => {
            guard.wait().unwrap();
            true
        }
    };
    woken.release(1).unwrap();
    drop(guard);
    notified
}

/// Starts `n` waiter processes and `n` waiter threads (CPython's mix),
/// returns once every one of them waits: each said so on `sleeping`, and
/// this process then got the lock, which a waiter gives up only in `wait`.
/// The threads' results come back through `threads`.
fn start_waiters<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    n: usize,
    waiter: &Waiter,
) -> (
    Vec<Process<bool>>,
    Vec<std::thread::ScopedJoinHandle<'s, bool>>,
) {
    let processes: Vec<_> = (0..n)
        .map(|_| Process::start(condition_waiter, waiter.clone()).unwrap())
        .collect();
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let waiter = waiter.clone();
            scope.spawn(move || condition_waiter(waiter))
        })
        .collect();
    for _ in 0..2 * n {
        waiter
            .1
            .acquire_timeout(DEADLINE)
            .expect("a waiter started")
            .forget();
    }
    drop(waiter.0.acquire().unwrap());
    (processes, threads)
}

fn new_waiter(timeout: Option<Duration>) -> Waiter {
    (
        shared!(Condition::new().unwrap()),
        shared!(Semaphore::new(0).unwrap()),
        shared!(Semaphore::new(0).unwrap()),
        timeout,
    )
}

// Ported from _TestCondition.test_notify: one process and one thread wait;
// each notify() wakes one of them.
#[test]
fn condition_notify_wakes_one() {
    isolated(|| {
        let waiter = new_waiter(None);
        let (cond, woken) = (&waiter.0, &waiter.2);
        std::thread::scope(|s| {
            let (processes, threads) = start_waiters(s, 1, &waiter);
            assert_eq!(count(woken), 0);
            cond.acquire().unwrap().notify(1);
            poll_until("one waiter woke", || count(woken) == 1);
            cond.acquire().unwrap().notify(1);
            poll_until("the other woke", || count(woken) == 2);
            for p in processes {
                assert!(p.join().unwrap());
            }
            for t in threads {
                assert!(t.join().unwrap());
            }
        });
    });
}

// Ported from _TestCondition.test_notify_all: six waiters time out, then
// six more are all woken by one notify_all().
#[test]
fn condition_notify_all_wakes_everyone() {
    isolated(|| {
        let waiter = new_waiter(Some(SHORT));
        let (cond, woken) = (&waiter.0, &waiter.2);
        std::thread::scope(|s| {
            let (processes, threads) = start_waiters(s, 3, &waiter);
            for p in processes {
                assert!(!p.join().unwrap(), "timed out");
            }
            for t in threads {
                assert!(!t.join().unwrap(), "timed out");
            }
        });
        for _ in 0..6 {
            woken.try_acquire().expect("all six timed out").forget();
        }
        // The same condition, its state not mucked up by the time-outs.
        let waiter = (cond.clone(), waiter.1.clone(), woken.clone(), None);
        std::thread::scope(|s| {
            let (processes, threads) = start_waiters(s, 3, &waiter);
            assert_eq!(count(woken), 0);
            cond.acquire().unwrap().notify_all();
            for p in processes {
                assert!(p.join().unwrap());
            }
            for t in threads {
                assert!(t.join().unwrap());
            }
            assert_eq!(count(woken), 6);
        });
    });
}

// Ported from _TestCondition.test_notify_n: notify(2) wakes two of six,
// notify(4) the other four, and a notify(3) after that does nothing.
#[test]
fn condition_notify_n_wakes_n() {
    isolated(|| {
        let waiter = new_waiter(None);
        let (cond, woken) = (&waiter.0, &waiter.2);
        std::thread::scope(|s| {
            let (processes, threads) = start_waiters(s, 3, &waiter);
            assert_eq!(count(woken), 0);
            cond.acquire().unwrap().notify(2);
            poll_until("two woke", || count(woken) == 2);
            // The other four are still registered: this process gets the
            // lock, and no more than two woke.
            drop(cond.acquire().unwrap());
            assert_eq!(count(woken), 2);
            cond.acquire().unwrap().notify(4);
            poll_until("all six woke", || count(woken) == 6);
            cond.acquire().unwrap().notify(3);
            for p in processes {
                assert!(p.join().unwrap());
            }
            for t in threads {
                assert!(t.join().unwrap());
            }
            assert_eq!(count(woken), 6);
        });
    });
}

// Ported from _TestCondition.test_timeout (without the timing check).
#[test]
fn condition_wait_times_out() {
    isolated(|| {
        let cond = shared!(Condition::new().unwrap());
        let mut guard = cond.acquire().unwrap();
        assert!(!guard.wait_timeout(SHORT).unwrap());
        assert!(!guard.wait_timeout(Duration::ZERO).unwrap());
    });
}

fn wait_for_four((cond, state): (Condition, SharedMemory)) -> i32 {
    let mut guard = cond.acquire().unwrap();
    write_i32(&state, 0);
    guard.notify(1);
    guard.wait_for(|| read_i32(&state) == 4).unwrap();
    read_i32(&state)
}

// Ported from _TestCondition.test_waitfor: the worker waits for the value
// this process raises to 4, one notify at a time.
#[test]
fn condition_wait_for_a_predicate() {
    isolated(|| {
        let cond = shared!(Condition::new().unwrap());
        let state = shared!(SharedMemory::create(4).unwrap());
        write_i32(&state, -1);
        let p = Process::start(wait_for_four, (cond.clone(), state.clone())).unwrap();
        {
            let mut guard = cond.acquire().unwrap();
            guard.wait_for(|| read_i32(&state) == 0).unwrap();
            assert_eq!(read_i32(&state), 0);
        }
        for _ in 0..4 {
            let guard = cond.acquire().unwrap();
            write_i32(&state, read_i32(&state) + 1);
            guard.notify(1);
        }
        assert_eq!(p.join().unwrap(), 4);
    });
}

fn wait_for_four_briefly((cond, state, started): (Condition, SharedMemory, Semaphore)) -> bool {
    started.release(1).unwrap();
    let mut guard = cond.acquire().unwrap();
    guard
        .wait_for_timeout(|| read_i32(&state) == 4, Duration::from_millis(100))
        .unwrap()
}

// Ported from _TestCondition.test_waitfor_timeout: the value only reaches
// 3, so the worker's wait_for times out and says false.
#[test]
fn condition_wait_for_a_predicate_times_out() {
    isolated(|| {
        let cond = shared!(Condition::new().unwrap());
        let state = shared!(SharedMemory::create(4).unwrap());
        let started = shared!(Semaphore::new(0).unwrap());
        let p = Process::start(
            wait_for_four_briefly,
            (cond.clone(), state.clone(), started.clone()),
        )
        .unwrap();
        started.acquire_timeout(DEADLINE).expect("started").forget();
        for _ in 0..3 {
            let guard = cond.acquire().unwrap();
            write_i32(&state, read_i32(&state) + 1);
            guard.notify(1);
        }
        assert!(!p.join().unwrap());
    });
}

fn condition_then_abort(cond: Condition) {
    let _held = cond.acquire().unwrap();
    std::process::abort();
}

// Fault: a worker aborts holding the condition's lock; the next acquirer
// learns it, and the condition works on.
#[test]
fn condition_holder_aborted_is_reported_to_the_next_acquirer() {
    isolated(|| {
        let cond = shared!(Condition::new().unwrap());
        let p = Process::start(condition_then_abort, cond.clone()).unwrap();
        let pid = p.pid();
        assert!(p.join().is_err());
        let died = match cond.acquire_timeout(DEADLINE) {
            Err(AcquireError::OwnerDied(died)) => died,
            other => panic!("expected OwnerDied, got {other:?}"),
        };
        assert_eq!(died.pid(), pid);
        let mut guard = died.into_guard();
        assert!(!guard.wait_timeout(Duration::ZERO).unwrap());
        drop(guard);
        drop(cond.acquire().expect("consistent again"));
    });
}

fn notify_then_abort(cond: Condition) {
    let guard = cond.acquire().unwrap();
    guard.notify(1);
    std::process::abort();
}

// Fault: the notifier dies holding the lock; the waiter it woke takes the
// lock back and is told, holding it.
#[test]
fn condition_waiter_finds_its_notifier_dead() {
    isolated(|| {
        let cond = shared!(Condition::new().unwrap());
        let mut guard = cond.acquire().unwrap();
        let p = Process::start(notify_then_abort, cond.clone()).unwrap();
        let pid = p.pid();
        let died = guard.wait().unwrap_err();
        assert_eq!(died.pid(), pid);
        assert!(p.join().is_err());
        assert!(
            cond.try_acquire().unwrap_err().is_timeout(),
            "held by the waiter"
        );
        drop(guard);
        drop(cond.acquire().expect("consistent again"));
    });
}

fn wait_on_condition((cond, started): (Condition, Event)) -> bool {
    let mut guard = cond.acquire().unwrap();
    started.set();
    guard.wait_timeout(DEADLINE).unwrap()
}

// Fault: of two workers waiting on a condition, one is killed; notify(1)
// still wakes the other, and the lock was never held by the dead one.
#[test]
fn condition_waiter_killed_leaves_the_others_going() {
    isolated(|| {
        let cond = shared!(Condition::new().unwrap());
        let started: Vec<Event> = (0..2).map(|_| shared!(Event::new().unwrap())).collect();
        let workers: Vec<_> = started
            .iter()
            .map(|s| Process::start(wait_on_condition, (cond.clone(), s.clone())).unwrap())
            .collect();
        for (p, s) in workers.iter().zip(&started) {
            assert!(s.wait_timeout(DEADLINE));
            wait_until_asleep(p.pid());
        }
        let mut workers = workers.into_iter();
        let victim = workers.next().unwrap();
        victim.kill();
        assert!(victim.join().is_err());
        let guard = cond
            .acquire()
            .expect("the dead waiter did not hold the lock");
        guard.notify(1);
        drop(guard);
        assert!(workers.next().unwrap().join().unwrap(), "notified");
    });
}

// ---------------------------------------------------------------- Barrier

/// CPython's _TestBarrier.N, less one to spare this machine's two cores.
const N: usize = 4;

/// A barrier for N parties with a default time-out, as CPython's setUp
/// makes (so that a failing party breaks it instead of hanging the rest).
fn new_barrier() -> Barrier {
    shared!(Barrier::builder(N).timeout(DEADLINE).build().unwrap())
}

/// Runs `f` in N - 1 worker processes and in this one (CPython's
/// `run_threads`, whose Bunch also uses processes); returns every result.
fn run_parties<A, R>(f: fn(A) -> R, arg: A) -> Vec<R>
where
    A: serde::Serialize + serde::de::DeserializeOwned + Clone + 'static,
    R: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let workers: Vec<_> = (0..N - 1)
        .map(|_| Process::start(f, arg.clone()).unwrap())
        .collect();
    let mut results = vec![f(arg)];
    results.extend(workers.into_iter().map(|p| p.join().unwrap()));
    results
}

// CPython's _TestBarrier.multipass: two counters checked between passes.
fn multipass((barrier, before, after, passes): (Barrier, Semaphore, Semaphore, usize)) {
    let m = barrier.parties();
    assert_eq!(m, N);
    for i in 0..passes {
        before.release(1).unwrap();
        assert_eq!(count(&after), i * m);
        barrier.wait().unwrap();
        after.release(1).unwrap();
        assert_eq!(count(&before), (i + 1) * m);
        barrier.wait().unwrap();
    }
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

// Ported from _TestBarrier.test_barrier and test_barrier_10: the parties
// pass in lockstep, ten times over.
#[test]
fn barrier_passes_in_lockstep() {
    isolated(|| {
        let barrier = new_barrier();
        let counters = (
            shared!(Semaphore::new(0).unwrap()),
            shared!(Semaphore::new(0).unwrap()),
        );
        run_parties(multipass, (barrier, counters.0, counters.1, 10));
    });
}

fn wait_once(barrier: Barrier) -> usize {
    barrier.wait().unwrap()
}

// Ported from _TestBarrier.test_wait_return: the indices are 0..N, one
// each.
#[test]
fn barrier_wait_returns_distinct_indices() {
    isolated(|| {
        let barrier = new_barrier();
        let mut indices = run_parties(wait_once, barrier);
        indices.sort_unstable();
        assert_eq!(indices, (0..N).collect::<Vec<_>>());
    });
}

type Tallies = (Barrier, Semaphore, Semaphore);

// CPython's _TestBarrier._test_abort_f.
fn abort_in_the_middle((barrier, passed, broke): Tallies) {
    let i = barrier.wait().unwrap();
    if i == N / 2 {
        barrier.abort();
        return;
    }
    match barrier.wait() {
        Ok(_) => passed.release(1).unwrap(),
        Err(_) => broke.release(1).unwrap(),
    }
}

// Ported from _TestBarrier.test_abort: an abort breaks the barrier for
// everyone waiting in it.
#[test]
fn barrier_abort_breaks_it() {
    isolated(|| {
        let barrier = new_barrier();
        let (passed, broke) = (
            shared!(Semaphore::new(0).unwrap()),
            shared!(Semaphore::new(0).unwrap()),
        );
        run_parties(
            abort_in_the_middle,
            (barrier.clone(), passed.clone(), broke.clone()),
        );
        assert_eq!(count(&passed), 0);
        assert_eq!(count(&broke), N - 1);
        assert!(barrier.broken());
    });
}

// CPython's _TestBarrier._test_reset_f.
fn reset_in_the_middle(
    (barrier, passed, broke, again): (Barrier, Semaphore, Semaphore, Semaphore),
) {
    let i = barrier.wait().unwrap();
    if i == N / 2 {
        poll_until("the others wait", || barrier.n_waiting() == N - 1);
        barrier.reset();
    } else {
        match barrier.wait() {
            Ok(_) => passed.release(1).unwrap(),
            Err(_) => broke.release(1).unwrap(),
        }
    }
    barrier.wait().unwrap();
    again.release(1).unwrap();
}

// Ported from _TestBarrier.test_reset: a reset frees the waiters (with an
// error) and leaves the barrier usable.
#[test]
fn barrier_reset_frees_the_waiters() {
    isolated(|| {
        let barrier = new_barrier();
        let tallies: Vec<Semaphore> = (0..3)
            .map(|_| shared!(Semaphore::new(0).unwrap()))
            .collect();
        run_parties(
            reset_in_the_middle,
            (
                barrier,
                tallies[0].clone(),
                tallies[1].clone(),
                tallies[2].clone(),
            ),
        );
        assert_eq!(count(&tallies[0]), 0);
        assert_eq!(count(&tallies[1]), N - 1);
        assert_eq!(count(&tallies[2]), N);
    });
}

// CPython's _TestBarrier._test_abort_and_reset_f.
fn abort_then_reset(
    (barrier, barrier2, passed, broke, again): (Barrier, Barrier, Semaphore, Semaphore, Semaphore),
) {
    let i = barrier.wait().unwrap();
    if i == N / 2 {
        barrier.abort();
    } else {
        match barrier.wait() {
            Ok(_) => passed.release(1).unwrap(),
            Err(_) => broke.release(1).unwrap(),
        }
    }
    // Everyone has left the barrier before the reset, and nobody enters it
    // before the reset is done.
    if barrier2.wait().unwrap() == N / 2 {
        barrier.reset();
    }
    barrier2.wait().unwrap();
    barrier.wait().unwrap();
    again.release(1).unwrap();
}

// Ported from _TestBarrier.test_abort_and_reset: a broken barrier can be
// reset and used again.
#[test]
fn barrier_abort_then_reset() {
    isolated(|| {
        let barrier = new_barrier();
        let barrier2 = new_barrier();
        let tallies: Vec<Semaphore> = (0..3)
            .map(|_| shared!(Semaphore::new(0).unwrap()))
            .collect();
        run_parties(
            abort_then_reset,
            (
                barrier,
                barrier2,
                tallies[0].clone(),
                tallies[1].clone(),
                tallies[2].clone(),
            ),
        );
        assert_eq!(count(&tallies[0]), 0);
        assert_eq!(count(&tallies[1]), N - 1);
        assert_eq!(count(&tallies[2]), N);
    });
}

// CPython's _TestBarrier._test_timeout_f, with the late party arriving once
// the barrier is broken instead of after a sleep. Returns whether this
// party got the error, and whether its own time-out broke the barrier.
fn one_party_late((barrier, timed): (Barrier, bool)) -> (bool, bool) {
    let i = barrier.wait_timeout(DEADLINE).unwrap();
    if i == N / 2 {
        poll_until("the others broke the barrier", || barrier.broken());
    }
    let waited = if timed {
        barrier.wait()
    } else {
        barrier.wait_timeout(Duration::from_millis(100))
    };
    match waited {
        Ok(_) => (false, false),
        Err(e) => (true, e.is_timeout()),
    }
}

// Ported from _TestBarrier.test_timeout: a party's time-out breaks the
// barrier for every party.
#[test]
fn barrier_timeout_breaks_it_for_everyone() {
    isolated(|| {
        let barrier = new_barrier();
        let results = run_parties(one_party_late, (barrier.clone(), false));
        assert!(results.iter().all(|(broke, _)| *broke), "{results:?}");
        assert!(
            results.iter().any(|(_, timed_out)| *timed_out),
            "{results:?}"
        );
        assert!(barrier.broken());
    });
}

// Ported from _TestBarrier.test_default_timeout: the barrier's own
// time-out, shared with the workers, does the same.
#[test]
fn barrier_default_timeout_breaks_it_for_everyone() {
    isolated(|| {
        let barrier = shared!(
            Barrier::builder(N)
                .timeout(Duration::from_millis(100))
                .build()
                .unwrap()
        );
        let results = run_parties(one_party_late, (barrier.clone(), true));
        assert!(results.iter().all(|(broke, _)| *broke), "{results:?}");
        assert!(
            results.iter().any(|(_, timed_out)| *timed_out),
            "{results:?}"
        );
    });
}

// Ported from _TestBarrier.test_single_thread.
#[test]
fn barrier_of_one() {
    isolated(|| {
        let barrier = shared!(Barrier::new(1).unwrap());
        assert_eq!(barrier.wait().unwrap(), 0);
        assert_eq!(barrier.wait().unwrap(), 0);
        assert!(Barrier::new(0).is_err());
    });
}

fn wait_at_barrier((barrier, started): (Barrier, Event)) -> Result<usize, String> {
    started.set();
    barrier.wait().map_err(|e| e.to_string())
}

// Fault: a party killed while it waits still counts as arrived (as in
// Python), so the barrier cannot fill; the others' time-outs break it,
// nobody hangs, and after a reset the barrier works again.
#[test]
fn barrier_party_killed_while_waiting() {
    isolated(|| {
        let barrier = shared!(Barrier::new(4).unwrap());
        let started = shared!(Event::new().unwrap());
        let victim = Process::start(wait_at_barrier, (barrier.clone(), started.clone())).unwrap();
        assert!(started.wait_timeout(DEADLINE));
        wait_until_asleep(victim.pid());
        assert_eq!(barrier.n_waiting(), 1);
        victim.kill();
        assert!(victim.join().is_err());

        let late = shared!(Event::new().unwrap());
        let other = Process::start(wait_at_barrier, (barrier.clone(), late.clone())).unwrap();
        assert!(late.wait_timeout(DEADLINE));
        poll_until("the other party waits", || barrier.n_waiting() == 2);
        let err = barrier.wait_timeout(SHORT).unwrap_err();
        assert!(err.is_timeout());
        assert!(other.join().unwrap().is_err(), "broken for the other too");
        assert!(barrier.broken());

        barrier.reset();
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        let started: Vec<Event> = (0..3).map(|_| shared!(Event::new().unwrap())).collect();
        let parties: Vec<_> = started
            .iter()
            .map(|s| Process::start(wait_at_barrier, (barrier.clone(), s.clone())).unwrap())
            .collect();
        let mine = barrier.wait_timeout(DEADLINE).unwrap();
        let mut indices = vec![mine];
        indices.extend(parties.into_iter().map(|p| p.join().unwrap().unwrap()));
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2, 3]);
    });
}

// ------------------------------------------------------------- the types

fn assert_send_sync<T: Send + Sync>() {}
fn assert_debug<T: std::fmt::Debug>() {}

// Every handle can be shared between threads and passed to a worker; every
// public type is Debug. (The guards are not Send: the robust mutex must be
// unlocked by the thread that locked it.)
#[test]
fn handles_are_send_sync_and_debug() {
    assert_send_sync::<RLock>();
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<Event>();
    assert_send_sync::<Condition>();
    assert_send_sync::<Barrier>();
    assert_send_sync::<BarrierBuilder>();
    assert_send_sync::<corun::Error>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_debug::<RLock>();
    assert_debug::<RLockGuard<'static>>();
    assert_debug::<Semaphore>();
    assert_debug::<BoundedSemaphore>();
    assert_debug::<SemaphorePermit<'static>>();
    assert_debug::<Event>();
    assert_debug::<Condition>();
    assert_debug::<ConditionGuard<'static>>();
    assert_debug::<Barrier>();
    assert_debug::<BarrierBuilder>();
    assert_debug::<corun::Error>();
    assert_debug::<OwnerDied<LockGuard<'static>>>();
}
