//! Arguments at the edges: values Python rejects with `ValueError` (a barrier
//! of no parties, `release(0)`, over-release, too many `task_done`), and, for
//! every method that takes a time-out, `Duration::ZERO` (a single prompt try,
//! right whether the thing is available or not) and `Duration::MAX` (a wait
//! forever: it must neither panic computing a deadline nor hang once the
//! thing becomes available). Python's own limits (negative time-outs, above
//! `TIMEOUT_MAX`) cannot be expressed with a `Duration`.

mod common;

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{Probe, poll_until};
use corun_threading::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue};
use corun_threading::threading::{
    Barrier, BoundedSemaphore, Condition, Error, Event, Lock, RLock, Semaphore, Thread, Timer,
};

/// What "promptly" means for a zero time-out on a loaded machine.
const PROMPT: Duration = Duration::from_millis(500);

/// Runs `f` and checks it returned promptly.
#[track_caller]
fn prompt<R>(f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() < PROMPT, "took {:?}", t.elapsed());
    r
}

/// Runs `f` on a new thread and returns once that thread is blocked in it
/// (see `common::Probe`); the caller then makes the thing available.
fn spawn_blocked<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> thread::JoinHandle<R> {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        tx.send(Probe::current()).unwrap();
        f()
    });
    rx.recv().unwrap().wait_until_blocked();
    t
}

// ---------------------------------------------------------------------------
// Values Python rejects
// ---------------------------------------------------------------------------

// Ports Lib/test/lock_tests.py BarrierTests.test_constructor: a barrier of
// 0 parties is an invalid argument (Python: ValueError).
#[test]
fn barrier_of_zero_parties() {
    let err = Barrier::new(0).unwrap_err();
    assert!(err.is_invalid_argument());
    assert!(!err.is_broken_barrier() && !err.is_timeout());
    assert!(err.to_string().contains("invalid argument"), "{err}");
    let err = Barrier::builder(0)
        .action(|| ())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(err.is_invalid_argument());
    assert_eq!(Barrier::new(1).unwrap().parties(), 1);
}

// Checks Semaphore.release(n) with n < 1 (Python 3.9+: ValueError): an
// invalid argument, and the value is unchanged.
#[test]
fn semaphore_release_zero() {
    let sem = Semaphore::new(2);
    let err = sem.release(0).unwrap_err();
    assert!(err.is_invalid_argument());
    assert!(!err.is_over_release());
    assert_eq!(sem.value(), 2);
    let sem = BoundedSemaphore::new(2);
    let permit = sem.acquire();
    assert!(sem.release(0).unwrap_err().is_invalid_argument());
    assert_eq!(sem.value(), 1);
    drop(permit);
}

// Ports Lib/test/lock_tests.py BoundedSemaphoreTests.test_release_unacquired:
// over-release is an error (Python: ValueError) and leaves the value as it
// was, for release(1) and release(n).
#[test]
fn bounded_semaphore_over_release() {
    let sem = BoundedSemaphore::new(2);
    for n in [1, 2, usize::MAX] {
        let err = sem.release(n).unwrap_err();
        assert!(err.is_over_release(), "release({n}): {err}");
        assert_eq!(sem.value(), 2);
    }
    sem.acquire().forget();
    assert!(sem.release(2).unwrap_err().is_over_release());
    assert_eq!(sem.value(), 1);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 2);
}

// Checks that an unbounded semaphore refuses a release that would overflow
// its count (no Python equivalent: Python ints do not overflow), unchanged.
#[test]
fn semaphore_release_overflow() {
    let sem = Semaphore::new(usize::MAX - 1);
    assert!(sem.release(2).unwrap_err().is_over_release());
    assert_eq!(sem.value(), usize::MAX - 1);
    sem.release(1).unwrap();
    assert_eq!(sem.value(), usize::MAX);
}

/// task_done once more than items were put, for one queue type.
macro_rules! task_done_overflow {
    ($q:expr) => {{
        let q = $q;
        assert!(q.task_done().unwrap_err().is_task_done_too_many());
        assert_eq!(q.unfinished_tasks(), 0);
        q.put(1).unwrap();
        q.get().unwrap();
        q.task_done().unwrap();
        let err = q.task_done().unwrap_err();
        assert!(err.is_task_done_too_many());
        assert!(!err.is_invalid_argument());
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.join_timeout(Duration::ZERO));
    }};
}

// Ports Lib/test/test_queue.py BaseQueueTestMixin.test_queue_task_done: too
// many task_done calls fail (Python: ValueError) and the count stays 0.
#[test]
fn queue_task_done_overflow() {
    task_done_overflow!(Queue::new());
    task_done_overflow!(LifoQueue::new());
    task_done_overflow!(PriorityQueue::new());
}

// Checks that a thread name with a NUL byte, which the OS cannot take, is an
// invalid argument rather than a panic (no Python equivalent).
#[test]
fn thread_name_with_nul() {
    let err = Thread::builder().name("a\0b").spawn(|| ()).unwrap_err();
    assert!(err.is_invalid_argument());
}

// ---------------------------------------------------------------------------
// Zero and maximal time-outs: threading
// ---------------------------------------------------------------------------

// Checks Lock.acquire_timeout with Duration::ZERO (free: taken; held
// elsewhere: None at once) and Duration::MAX (free: taken; held: waits,
// then taken when released).
#[test]
fn lock_acquire_timeout_edges() {
    let lock = Arc::new(Lock::new(()));
    assert!(prompt(|| lock.acquire_timeout(Duration::ZERO)).is_some());
    assert!(prompt(|| lock.acquire_timeout(Duration::MAX)).is_some());
    let guard = lock.acquire();
    let l = Arc::clone(&lock);
    let got = thread::spawn(move || prompt(|| l.acquire_timeout(Duration::ZERO).is_some()));
    assert!(!got.join().unwrap());
    let l = Arc::clone(&lock);
    let waiter = spawn_blocked(move || l.acquire_timeout(Duration::MAX).is_some());
    drop(guard);
    assert!(waiter.join().unwrap());
}

// Checks RLock.acquire_timeout with Duration::ZERO (free or owned by this
// thread: taken; held elsewhere: None at once) and Duration::MAX.
#[test]
fn rlock_acquire_timeout_edges() {
    let lock = Arc::new(RLock::new(()));
    let outer = prompt(|| lock.acquire_timeout(Duration::ZERO)).expect("free");
    assert!(prompt(|| lock.acquire_timeout(Duration::ZERO)).is_some()); // reentrant
    assert!(prompt(|| lock.acquire_timeout(Duration::MAX)).is_some());
    let l = Arc::clone(&lock);
    let got = thread::spawn(move || prompt(|| l.acquire_timeout(Duration::ZERO).is_some()));
    assert!(!got.join().unwrap());
    let l = Arc::clone(&lock);
    let waiter = spawn_blocked(move || l.acquire_timeout(Duration::MAX).is_some());
    drop(outer);
    assert!(waiter.join().unwrap());
}

// Checks Condition.wait_timeout and wait_for_timeout with Duration::ZERO
// (no notification: false at once; a predicate already true: true at once)
// and Duration::MAX (true once notified / once the predicate holds).
#[test]
fn condition_wait_timeout_edges() {
    let cond = Arc::new(Condition::new((0_u32, false)));
    {
        let mut g = cond.acquire();
        assert!(!prompt(|| g.wait_timeout(Duration::ZERO)));
        assert!(!prompt(|| g.wait_for_timeout(|s| s.0 == 1, Duration::ZERO)));
        g.0 = 1;
        assert!(prompt(|| g.wait_for_timeout(|s| s.0 == 1, Duration::ZERO)));
        assert!(prompt(|| g.wait_for_timeout(|s| s.0 == 1, Duration::MAX)));
    }
    // wait_timeout(MAX), woken by a notification.
    let waiter = {
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            let mut g = cond.acquire();
            g.1 = true;
            let mut notified = false;
            while g.1 {
                notified = g.wait_timeout(Duration::MAX);
            }
            notified
        })
    };
    poll_until("the waiter waits", || cond.acquire().1);
    {
        let mut g = cond.acquire();
        g.1 = false;
        g.notify_all();
    }
    assert!(waiter.join().unwrap());
    // wait_for_timeout(MAX), until the predicate holds.
    let waiter = {
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            let mut g = cond.acquire();
            g.1 = true;
            g.wait_for_timeout(|s| s.0 == 2, Duration::MAX)
        })
    };
    poll_until("the waiter waits", || cond.acquire().1);
    {
        let mut g = cond.acquire();
        g.0 = 2;
        g.notify(1);
    }
    assert!(waiter.join().unwrap());
}

// Checks Semaphore.acquire_timeout (and BoundedSemaphore's) with
// Duration::ZERO (a permit free: taken; none: None at once) and
// Duration::MAX (taken once a permit is released).
#[test]
fn semaphore_acquire_timeout_edges() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = prompt(|| sem.acquire_timeout(Duration::ZERO)).expect("free permit");
    assert!(prompt(|| sem.acquire_timeout(Duration::ZERO)).is_none());
    drop(permit);
    prompt(|| sem.acquire_timeout(Duration::MAX))
        .expect("free permit")
        .forget();
    let s = Arc::clone(&sem);
    let waiter = spawn_blocked(move || s.acquire_timeout(Duration::MAX).map(|p| p.forget()));
    sem.release(1).unwrap();
    assert!(waiter.join().unwrap().is_some());
    assert_eq!(sem.value(), 0);

    let sem = Arc::new(BoundedSemaphore::new(1));
    let permit = prompt(|| sem.acquire_timeout(Duration::ZERO)).expect("free permit");
    assert!(prompt(|| sem.acquire_timeout(Duration::ZERO)).is_none());
    let s = Arc::clone(&sem);
    let waiter = spawn_blocked(move || s.acquire_timeout(Duration::MAX).is_some());
    drop(permit);
    assert!(waiter.join().unwrap());
    assert_eq!(sem.value(), 1);
}

// Checks Event.wait_timeout with Duration::ZERO (set: true; not set: false,
// at once) and Duration::MAX (true once set).
#[test]
fn event_wait_timeout_edges() {
    let evt = Arc::new(Event::new());
    assert!(!prompt(|| evt.wait_timeout(Duration::ZERO)));
    evt.set();
    assert!(prompt(|| evt.wait_timeout(Duration::ZERO)));
    assert!(prompt(|| evt.wait_timeout(Duration::MAX)));
    evt.clear();
    let e = Arc::clone(&evt);
    let waiter = spawn_blocked(move || e.wait_timeout(Duration::MAX));
    evt.set();
    assert!(waiter.join().unwrap());
}

// Checks Barrier.wait_timeout with Duration::ZERO (the last party: passes;
// alone: times out at once and breaks the barrier) and Duration::MAX (passes
// when the others come), and a builder default timeout of Duration::MAX.
#[test]
fn barrier_wait_timeout_edges() {
    let single = Barrier::new(1).unwrap();
    assert_eq!(prompt(|| single.wait_timeout(Duration::ZERO)).unwrap(), 0);
    assert_eq!(prompt(|| single.wait_timeout(Duration::MAX)).unwrap(), 0);

    let lonely = Barrier::new(2).unwrap();
    let err = prompt(|| lonely.wait_timeout(Duration::ZERO)).unwrap_err();
    assert!(err.is_timeout() && err.is_broken_barrier());
    assert!(lonely.broken());

    // The last to arrive passes even with a zero timeout.
    let b = Arc::new(Barrier::new(2).unwrap());
    let first = {
        let b = Arc::clone(&b);
        thread::spawn(move || b.wait_timeout(Duration::MAX))
    };
    poll_until("one thread waits", || b.n_waiting() == 1);
    assert_eq!(prompt(|| b.wait_timeout(Duration::ZERO)).unwrap(), 1);
    assert_eq!(first.join().unwrap().unwrap(), 0);
    assert!(!b.broken());

    // A default timeout of Duration::MAX waits forever, without panicking.
    let b = Arc::new(Barrier::builder(2).timeout(Duration::MAX).build().unwrap());
    let first = {
        let b = Arc::clone(&b);
        thread::spawn(move || b.wait())
    };
    poll_until("one thread waits", || b.n_waiting() == 1);
    assert_eq!(b.wait().unwrap(), 1);
    assert_eq!(first.join().unwrap().unwrap(), 0);
}

// Checks Thread.join_timeout with Duration::ZERO (finished: the value at
// once; running: a time-out at once) and Duration::MAX (the value once the
// thread ends).
#[test]
fn thread_join_timeout_edges() {
    let mut done = Thread::spawn(|| 5).unwrap();
    poll_until("the thread ends", || !done.is_alive());
    assert_eq!(prompt(|| done.join_timeout(Duration::ZERO)).unwrap(), 5);

    let go = Arc::new(Event::new());
    let mut running = {
        let go = Arc::clone(&go);
        Thread::spawn(move || {
            go.wait();
            6
        })
        .unwrap()
    };
    let err = prompt(|| running.join_timeout(Duration::ZERO)).unwrap_err();
    assert!(err.is_timeout());
    let setter = {
        let go = Arc::clone(&go);
        let main = Probe::current();
        thread::spawn(move || {
            main.wait_until_blocked();
            go.set();
        })
    };
    assert_eq!(running.join_timeout(Duration::MAX).unwrap(), 6);
    setter.join().unwrap();
}

// Checks Timer.join_timeout with Duration::ZERO (finished: whether it ran,
// at once; waiting: a time-out at once) and Duration::MAX (once it ends).
#[test]
fn timer_join_timeout_edges() {
    let mut done = Timer::new(Duration::ZERO, || ());
    done.start().unwrap();
    poll_until("the timer ends", || !done.is_alive());
    assert!(prompt(|| done.join_timeout(Duration::ZERO)).unwrap());

    let mut waiting = Timer::new(Duration::from_secs(60), || ());
    waiting.start().unwrap();
    assert!(
        prompt(|| waiting.join_timeout(Duration::ZERO))
            .unwrap_err()
            .is_timeout()
    );
    waiting.cancel();
    assert!(!waiting.join_timeout(Duration::MAX).unwrap());

    let go = Arc::new(Event::new());
    let mut running = {
        let go = Arc::clone(&go);
        Timer::new(Duration::ZERO, move || go.wait())
    };
    running.start().unwrap();
    let setter = {
        let go = Arc::clone(&go);
        let main = Probe::current();
        thread::spawn(move || {
            main.wait_until_blocked();
            go.set();
        })
    };
    assert!(running.join_timeout(Duration::MAX).unwrap());
    setter.join().unwrap();
}

// ---------------------------------------------------------------------------
// Zero and maximal time-outs: queues
// ---------------------------------------------------------------------------

/// Checks put_timeout, get_timeout and join_timeout of one bounded queue
/// type at Duration::ZERO and Duration::MAX.
macro_rules! queue_timeout_edges {
    ($ty:ident) => {{
        let q = Arc::new($ty::with_maxsize(1));
        // put_timeout(ZERO): room, then full.
        prompt(|| q.put_timeout(1, Duration::ZERO)).unwrap();
        let err = prompt(|| q.put_timeout(2, Duration::ZERO)).unwrap_err();
        assert_eq!(err, PutError::Full(2));
        // join_timeout(ZERO): one task unfinished.
        assert!(!prompt(|| q.join_timeout(Duration::ZERO)));
        // get_timeout(ZERO): an item, then empty.
        assert_eq!(prompt(|| q.get_timeout(Duration::ZERO)), Ok(1));
        assert_eq!(
            prompt(|| q.get_timeout(Duration::ZERO)),
            Err(GetError::Empty)
        );
        q.task_done().unwrap();
        assert!(prompt(|| q.join_timeout(Duration::ZERO)));
        // MAX when available at once.
        prompt(|| q.put_timeout(3, Duration::MAX)).unwrap();
        assert_eq!(prompt(|| q.get_timeout(Duration::MAX)), Ok(3));
        q.task_done().unwrap();
        assert!(prompt(|| q.join_timeout(Duration::MAX)));

        // get_timeout(MAX), blocked until a put.
        let q2 = Arc::clone(&q);
        let getter = spawn_blocked(move || q2.get_timeout(Duration::MAX));
        q.put(4).unwrap();
        assert_eq!(getter.join().unwrap(), Ok(4));
        // join_timeout(MAX), blocked until task_done.
        let q2 = Arc::clone(&q);
        let joiner = spawn_blocked(move || q2.join_timeout(Duration::MAX));
        q.task_done().unwrap();
        assert!(joiner.join().unwrap());
        // put_timeout(MAX), blocked on a full queue until a get.
        q.put(5).unwrap();
        let q2 = Arc::clone(&q);
        let putter = spawn_blocked(move || q2.put_timeout(6, Duration::MAX));
        assert_eq!(q.get(), Ok(5));
        putter.join().unwrap().unwrap();
        assert_eq!(q.get(), Ok(6));
    }};
}

// Checks Queue.put_timeout / get_timeout / join_timeout with Duration::ZERO
// and Duration::MAX.
#[test]
fn queue_timeout_edges() {
    queue_timeout_edges!(Queue);
}

// Checks LifoQueue.put_timeout / get_timeout / join_timeout with
// Duration::ZERO and Duration::MAX.
#[test]
fn lifo_queue_timeout_edges() {
    queue_timeout_edges!(LifoQueue);
}

// Checks PriorityQueue.put_timeout / get_timeout / join_timeout with
// Duration::ZERO and Duration::MAX.
#[test]
fn priority_queue_timeout_edges() {
    queue_timeout_edges!(PriorityQueue);
}

// Checks that a shut-down queue answers at once whatever the time-out,
// zero or maximal (Python 3.13 shutdown).
#[test]
fn queue_timeouts_after_shutdown() {
    let q = Queue::with_maxsize(1);
    q.put(1).unwrap();
    q.shutdown(false);
    for timeout in [Duration::ZERO, Duration::MAX] {
        assert_eq!(
            prompt(|| q.put_timeout(2, timeout)),
            Err(PutError::ShutDown(2))
        );
    }
    assert_eq!(prompt(|| q.get_timeout(Duration::MAX)), Ok(1));
    for timeout in [Duration::ZERO, Duration::MAX] {
        assert_eq!(prompt(|| q.get_timeout(timeout)), Err(GetError::ShutDown));
    }
}

// Checks SimpleQueue.get_timeout with Duration::ZERO (an item: taken;
// empty: Empty at once) and Duration::MAX (an item put later).
#[test]
fn simple_queue_get_timeout_edges() {
    let q = Arc::new(SimpleQueue::new());
    assert_eq!(
        prompt(|| q.get_timeout(Duration::ZERO)),
        Err(GetError::Empty)
    );
    q.put(1);
    assert_eq!(prompt(|| q.get_timeout(Duration::ZERO)), Ok(1));
    q.put(2);
    assert_eq!(prompt(|| q.get_timeout(Duration::MAX)), Ok(2));
    let q2 = Arc::clone(&q);
    let getter = spawn_blocked(move || q2.get_timeout(Duration::MAX));
    q.put(3);
    assert_eq!(getter.join().unwrap(), Ok(3));
}

// Checks that every error predicate is false for an unrelated kind, so a
// caller can tell the errors above apart (no Python equivalent).
#[test]
fn error_predicates_are_distinct() {
    let errors: Vec<Error> = vec![
        Barrier::new(0).unwrap_err(),
        BoundedSemaphore::new(0).release(1).unwrap_err(),
        Queue::<u8>::new().task_done().unwrap_err(),
    ];
    let flags = |e: &Error| {
        [
            e.is_invalid_argument(),
            e.is_over_release(),
            e.is_task_done_too_many(),
            e.is_timeout(),
            e.is_broken_barrier(),
            e.is_panic(),
        ]
    };
    assert_eq!(flags(&errors[0]), [true, false, false, false, false, false]);
    assert_eq!(flags(&errors[1]), [false, true, false, false, false, false]);
    assert_eq!(flags(&errors[2]), [false, false, true, false, false, false]);
    for e in &errors {
        assert!(e.panic_message().is_none());
    }
}

/// Not a port: an unbounded semaphore released up to `usize::MAX` while a
/// permit is out neither panics nor wraps when the permit comes back.
#[test]
fn semaphore_release_to_usize_max_with_permit_out() {
    let sem = Semaphore::new(1);
    let permit = sem.acquire();
    sem.release(usize::MAX).unwrap();
    drop(permit);
    assert_eq!(sem.value(), usize::MAX);
    assert!(sem.release(1).unwrap_err().is_over_release());
}
