//! Behaviour of the queues, ported from CPython's `Lib/test/test_queue.py`:
//! `BaseQueueTestMixin` (run, as in CPython, for `Queue`, `LifoQueue` and
//! `PriorityQueue`), the Python 3.13 `test_shutdown_*` tests, and
//! `BaseSimpleQueueTest`. `FailingQueueTest` does not apply: its queue
//! subclass raises from the `_put`/`_get` hooks, which the Rust queues do
//! not expose.
//!
//! Where CPython's `_TriggerThread` sleeps 0.1 s so that the main thread is
//! blocked before it is unclogged, the trigger here polls the blocked
//! thread's kernel state (`common::Probe`).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{Probe, assert_timeout};
use corun_threading::queue::{
    GetError, LifoQueue, Prioritized, PriorityQueue, PutError, Queue, SimpleQueue,
};
use corun_threading::threading::{Barrier, Error, Event};

const QUEUE_SIZE: usize = 5;
/// The time-out used where a wait must really run out.
const SHORT: Duration = Duration::from_millis(10);
/// A time-out that must never run out.
const LONG: Duration = Duration::from_secs(10);

/// The API the three bounded queue types share, so that each test below is
/// written once and run for all three, as CPython's mixin is.
trait TestQueue<T>: Send + Sync + Sized + 'static {
    fn with_maxsize(maxsize: usize) -> Self;
    fn put(&self, item: T) -> Result<(), PutError<T>>;
    fn try_put(&self, item: T) -> Result<(), PutError<T>>;
    fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>>;
    fn get(&self) -> Result<T, GetError>;
    fn try_get(&self) -> Result<T, GetError>;
    fn get_timeout(&self, timeout: Duration) -> Result<T, GetError>;
    fn task_done(&self) -> Result<(), Error>;
    fn join(&self);
    fn shutdown(&self, immediate: bool);
    fn is_shutdown(&self) -> bool;
    fn qsize(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn maxsize(&self) -> usize;
    fn unfinished_tasks(&self) -> usize;
}

macro_rules! impl_test_queue {
    ($ty:ident) => {
        impl<T: Ord + Send + 'static> TestQueue<T> for $ty<T> {
            fn with_maxsize(maxsize: usize) -> Self {
                $ty::with_maxsize(maxsize)
            }
            fn put(&self, item: T) -> Result<(), PutError<T>> {
                $ty::put(self, item)
            }
            fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                $ty::try_put(self, item)
            }
            fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                $ty::put_timeout(self, item, timeout)
            }
            fn get(&self) -> Result<T, GetError> {
                $ty::get(self)
            }
            fn try_get(&self) -> Result<T, GetError> {
                $ty::try_get(self)
            }
            fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                $ty::get_timeout(self, timeout)
            }
            fn task_done(&self) -> Result<(), Error> {
                $ty::task_done(self)
            }
            fn join(&self) {
                $ty::join(self)
            }
            fn shutdown(&self, immediate: bool) {
                $ty::shutdown(self, immediate)
            }
            fn is_shutdown(&self) -> bool {
                $ty::is_shutdown(self)
            }
            fn qsize(&self) -> usize {
                $ty::qsize(self)
            }
            fn is_empty(&self) -> bool {
                $ty::is_empty(self)
            }
            fn is_full(&self) -> bool {
                $ty::is_full(self)
            }
            fn maxsize(&self) -> usize {
                $ty::maxsize(self)
            }
            fn unfinished_tasks(&self) -> usize {
                $ty::unfinished_tasks(self)
            }
        }
    };
}

impl_test_queue!(Queue);
impl_test_queue!(LifoQueue);
impl_test_queue!(PriorityQueue);

/// `qfull` of test_queue.py.
fn qfull<T, Q: TestQueue<T>>(q: &Q) -> bool {
    q.maxsize() > 0 && q.qsize() == q.maxsize()
}

/// `BlockingTestMixin.do_blocking_test`: runs `block` in this thread and,
/// in another, `trigger` once this thread is blocked; checks that `block`
/// did not return before `trigger` ran.
fn do_blocking_test<R>(block: impl FnOnce() -> R, trigger: impl FnOnce() + Send + 'static) -> R {
    let started = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Probe>();
    let thread = {
        let started = Arc::clone(&started);
        thread::spawn(move || {
            rx.recv().unwrap().wait_until_blocked();
            started.store(true, SeqCst);
            trigger();
        })
    };
    tx.send(Probe::current()).unwrap();
    let result = block();
    assert!(
        started.load(SeqCst),
        "blocking function appeared not to block"
    );
    thread.join().unwrap();
    result
}

/// `BaseQueueTestMixin.basic_queue_test`.
fn basic_queue_test<Q: TestQueue<i32>>(q: &Arc<Q>, target_order: [i32; 3]) {
    assert_eq!(q.qsize(), 0, "call this function with an empty queue");
    assert!(q.is_empty());
    assert!(!q.is_full());
    // I guess we better check things actually queue correctly a little :)
    q.put(111).unwrap();
    q.put(333).unwrap();
    q.put(222).unwrap();
    let actual_order = [q.get().unwrap(), q.get().unwrap(), q.get().unwrap()];
    assert_eq!(
        actual_order, target_order,
        "didn't seem to queue the correct data"
    );
    for i in 0..QUEUE_SIZE as i32 - 1 {
        q.put(i).unwrap();
        assert!(q.qsize() > 0, "queue should not be empty");
    }
    assert!(!qfull(&**q), "queue should not be full");
    let last = 2 * QUEUE_SIZE as i32;
    let full = 3 * 2 * QUEUE_SIZE as i32;
    q.put(last).unwrap();
    assert!(qfull(&**q), "queue should be full");
    assert!(!q.is_empty());
    assert!(q.is_full());
    match q.try_put(full) {
        Err(PutError::Full(item)) => assert_eq!(item, full),
        other => panic!("didn't appear to block with a full queue: {other:?}"),
    }
    let t = Instant::now();
    match q.put_timeout(full, SHORT) {
        Err(PutError::Full(item)) => assert_eq!(item, full),
        other => panic!("didn't appear to time-out with a full queue: {other:?}"),
    }
    assert_timeout(t.elapsed(), SHORT);
    // Test a blocking put.
    let q2 = Arc::clone(q);
    do_blocking_test(
        || q.put(full).unwrap(),
        move || {
            q2.get().unwrap();
        },
    );
    let q2 = Arc::clone(q);
    do_blocking_test(
        || q.put_timeout(full, LONG).unwrap(),
        move || {
            q2.get().unwrap();
        },
    );
    // Empty it.
    for _ in 0..QUEUE_SIZE {
        q.get().unwrap();
    }
    assert_eq!(q.qsize(), 0, "queue should be empty");
    assert_eq!(q.try_get(), Err(GetError::Empty));
    let t = Instant::now();
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    assert_timeout(t.elapsed(), SHORT);
    // Test a blocking get.
    let q2 = Arc::clone(q);
    let got = do_blocking_test(|| q.get().unwrap(), move || q2.put(-7).unwrap());
    assert_eq!(got, -7);
    let q2 = Arc::clone(q);
    let got = do_blocking_test(|| q.get_timeout(LONG).unwrap(), move || q2.put(-8).unwrap());
    assert_eq!(got, -8);
}

fn test_basic<Q: TestQueue<i32>>(target_order: [i32; 3]) {
    // Do it a couple of times on the same queue.
    let q = Arc::new(Q::with_maxsize(QUEUE_SIZE));
    basic_queue_test(&q, target_order);
    basic_queue_test(&q, target_order);
}

/// `BaseQueueTestMixin.queue_join_test`: two workers; `join` returns only
/// after every item was marked done.
fn queue_join_test<Q: TestQueue<i32>>(q: &Arc<Q>) {
    let cum = Arc::new(Mutex::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (q, cum) = (Arc::clone(q), Arc::clone(&cum));
            thread::spawn(move || {
                loop {
                    let x = q.get().unwrap();
                    if x < 0 {
                        q.task_done().unwrap();
                        return;
                    }
                    *cum.lock().unwrap() += x;
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    q.join();
    assert_eq!(
        *cum.lock().unwrap(),
        (0..100).sum::<i32>(),
        "q.join() did not block until all tasks were done"
    );
    assert_eq!(q.unfinished_tasks(), 0);
    for _ in 0..2 {
        q.put(-1).unwrap(); // instruct the threads to close
    }
    q.join(); // verify that you can join twice
    for t in threads {
        t.join().unwrap();
    }
}

fn test_queue_join<Q: TestQueue<i32>>() {
    let q = Arc::new(Q::with_maxsize(0));
    queue_join_test(&q);
    queue_join_test(&q);
    assert!(q.task_done().unwrap_err().is_task_done_too_many());
}

/// `test_queue_task_done`, plus: the failed call leaves the count as it was.
fn test_queue_task_done<Q: TestQueue<i32>>() {
    let q = Q::with_maxsize(0);
    let err = q.task_done().unwrap_err();
    assert!(err.is_task_done_too_many());
    assert!(
        err.to_string()
            .contains("task_done() called too many times")
    );
    assert_eq!(q.unfinished_tasks(), 0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    q.get().unwrap();
    q.get().unwrap();
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(q.task_done().unwrap_err().is_task_done_too_many());
    assert_eq!(q.unfinished_tasks(), 0);
    // The count did not wrap: one more put is one unfinished task.
    q.put(3).unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
}

fn test_nowait<Q: TestQueue<i32>>() {
    let q = Q::with_maxsize(QUEUE_SIZE);
    for _ in 0..QUEUE_SIZE {
        q.try_put(1).unwrap();
    }
    assert!(q.try_put(1).unwrap_err().is_full());
    for _ in 0..QUEUE_SIZE {
        q.try_get().unwrap();
    }
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

/// Unbounded queues (maxsize 0) are never full.
fn test_unbounded_never_full<Q: TestQueue<i32>>() {
    let q = Q::with_maxsize(0);
    assert_eq!(q.maxsize(), 0);
    for i in 0..10_000 {
        q.try_put(i).unwrap();
        assert!(!q.is_full());
    }
    assert_eq!(q.qsize(), 10_000);
}

fn test_shutdown_empty<Q: TestQueue<&'static str>>() {
    let q = Q::with_maxsize(0);
    q.shutdown(false);
    assert_eq!(q.put("data").unwrap_err(), PutError::ShutDown("data"));
    assert_eq!(q.get(), Err(GetError::ShutDown));
}

fn test_shutdown_nonempty<Q: TestQueue<&'static str>>() {
    let q = Q::with_maxsize(0);
    q.put("data").unwrap();
    q.shutdown(false);
    assert_eq!(q.get(), Ok("data"));
    assert_eq!(q.get(), Err(GetError::ShutDown));
}

fn test_shutdown_immediate<Q: TestQueue<&'static str>>() {
    let q = Q::with_maxsize(0);
    q.put("data").unwrap();
    q.shutdown(true);
    assert_eq!(q.get(), Err(GetError::ShutDown));
}

fn test_shutdown_allowed_transitions<Q: TestQueue<&'static str>>() {
    // Allowed transitions would be from alive via shutdown to immediate.
    let q = Q::with_maxsize(0);
    assert!(!q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
    q.shutdown(true);
    assert!(q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
}

/// `_shutdown_all_methods_in_one_thread`.
fn shutdown_all_methods_in_one_thread<Q: TestQueue<&'static str>>(immediate: bool) {
    let q = Q::with_maxsize(2);
    q.put("L").unwrap();
    q.try_put("O").unwrap();
    q.shutdown(immediate);
    assert!(q.put("E").unwrap_err().is_shutdown());
    assert!(q.try_put("W").unwrap_err().is_shutdown());
    assert!(q.put_timeout("X", SHORT).unwrap_err().is_shutdown());
    if immediate {
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert!(q.task_done().unwrap_err().is_task_done_too_many());
        q.join();
    } else {
        let mut got = [q.get().unwrap(), ""];
        q.task_done().unwrap();
        got[1] = q.get().unwrap();
        q.task_done().unwrap();
        got.sort_unstable();
        assert_eq!(got, ["L", "O"]);
        q.join();
        // When the queue is empty, get raises ShutDown, blocking or not.
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        let t = Instant::now();
        assert_eq!(q.get_timeout(LONG), Err(GetError::ShutDown));
        assert!(t.elapsed() < LONG / 2);
    }
}

/// `_shutdown_get`: getters that come after the shutdown drain the items
/// (non-immediate; one of three gets ShutDown) or get ShutDown (immediate).
fn shutdown_get<Q: TestQueue<&'static str>>(immediate: bool) {
    let q = Arc::new(Q::with_maxsize(2));
    let go = Arc::new(Event::new());
    q.put("Y").unwrap();
    q.put("D").unwrap();
    // The queue is full.
    let n = if immediate { 2 } else { 3 };
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (q, go) = (Arc::clone(&q), Arc::clone(&go));
            thread::spawn(move || {
                go.wait();
                q.get()
            })
        })
        .collect();
    q.shutdown(immediate);
    go.set();
    let mut results: Vec<bool> = threads
        .into_iter()
        .map(|t| t.join().unwrap().is_ok())
        .collect();
    results.sort_unstable();
    if immediate {
        assert_eq!(results, [false, false]);
    } else {
        assert_eq!(results, [false, true, true]);
    }
}

/// `_shutdown_put`, with the putters blocked on the full queue before the
/// shutdown: they wake with ShutDown and get their items back.
fn shutdown_put<Q: TestQueue<&'static str>>(immediate: bool) {
    let q = Arc::new(Q::with_maxsize(2));
    q.put("Y").unwrap();
    q.put("D").unwrap();
    // The queue is full.
    let (tx, rx) = mpsc::channel();
    let threads: Vec<_> = ["E", "W"]
        .into_iter()
        .map(|msg| {
            let (q, tx) = (Arc::clone(&q), tx.clone());
            thread::spawn(move || {
                tx.send(Probe::current()).unwrap();
                q.put(msg)
            })
        })
        .collect();
    for _ in 0..2 {
        rx.recv().unwrap().wait_until_blocked();
    }
    q.shutdown(immediate);
    let mut returned: Vec<&str> = threads
        .into_iter()
        .map(|t| match t.join().unwrap() {
            Err(PutError::ShutDown(item)) => item,
            other => panic!("a blocked put ended with {other:?}"),
        })
        .collect();
    returned.sort_unstable();
    assert_eq!(returned, ["E", "W"]);
    assert_eq!(q.qsize(), if immediate { 0 } else { 2 });
}

/// `_shutdown_join`: joiners blocked on unfinished work are released by an
/// immediate shutdown, or by getters finishing the work.
fn shutdown_join<Q: TestQueue<&'static str>>(immediate: bool) {
    let q = Arc::new(Q::with_maxsize(0));
    q.put("Y").unwrap();
    let go = Arc::new(Event::new());
    let nb = q.qsize();
    let (tx, rx) = mpsc::channel();
    let joiners: Vec<_> = (0..2)
        .map(|_| {
            let (q, tx) = (Arc::clone(&q), tx.clone());
            thread::spawn(move || {
                tx.send(Probe::current()).unwrap();
                q.join();
            })
        })
        .collect();
    for _ in 0..2 {
        rx.recv().unwrap().wait_until_blocked();
    }
    let getters: Vec<_> = if immediate {
        Vec::new()
    } else {
        (0..nb)
            .map(|_| {
                let (q, go) = (Arc::clone(&q), Arc::clone(&go));
                thread::spawn(move || {
                    go.wait();
                    let got = q.get();
                    q.task_done().unwrap();
                    got
                })
            })
            .collect()
    };
    q.shutdown(immediate);
    go.set();
    for t in joiners {
        t.join().unwrap();
    }
    for t in getters {
        assert_eq!(t.join().unwrap(), Ok("Y"));
    }
    assert_eq!(q.unfinished_tasks(), 0);
}

/// `_shutdown_put_join`.
fn shutdown_put_join<Q: TestQueue<&'static str>>(immediate: bool) {
    let q = Arc::new(Q::with_maxsize(2));
    let go = Arc::new(Event::new());
    q.put("Y").unwrap();
    // The queue is not full.
    let putter = {
        let (q, go) = (Arc::clone(&q), Arc::clone(&go));
        thread::spawn(move || {
            go.wait();
            q.put("E")
        })
    };
    let joiner = {
        let q = Arc::clone(&q);
        thread::spawn(move || q.join())
    };
    assert_eq!(q.unfinished_tasks(), 1);
    q.shutdown(immediate);
    go.set();
    if immediate {
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    } else {
        assert_eq!(q.get(), Ok("Y"));
        q.task_done().unwrap();
    }
    assert_eq!(putter.join().unwrap(), Err(PutError::ShutDown("E")));
    joiner.join().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
}

fn test_shutdown_get_task_done_join<Q: TestQueue<&'static str>>() {
    let q = Arc::new(Q::with_maxsize(2));
    let go = Arc::new(Event::new());
    q.put("Y").unwrap();
    q.put("D").unwrap();
    assert_eq!(q.unfinished_tasks(), q.qsize());
    let getters: Vec<_> = (0..2)
        .map(|_| {
            let (q, go) = (Arc::clone(&q), Arc::clone(&go));
            thread::spawn(move || {
                go.wait();
                let got = q.get().unwrap();
                q.task_done().unwrap();
                got
            })
        })
        .collect();
    let joiners: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || q.join())
        })
        .collect();
    go.set();
    q.shutdown(false);
    let mut got: Vec<&str> = getters.into_iter().map(|t| t.join().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, ["D", "Y"]);
    for t in joiners {
        t.join().unwrap();
    }
}

/// `test_shutdown_pending_get`: a getter blocked on an empty queue wakes
/// with ShutDown.
fn test_shutdown_pending_get<Q: TestQueue<&'static str>>() {
    let q = Arc::new(Q::with_maxsize(0));
    let (tx, rx) = mpsc::channel();
    let getters: Vec<_> = (0..3)
        .map(|i| {
            let (q, tx) = (Arc::clone(&q), tx.clone());
            thread::spawn(move || {
                tx.send(Probe::current()).unwrap();
                // Blocking and timed gets alike.
                if i == 0 { q.get() } else { q.get_timeout(LONG) }
            })
        })
        .collect();
    for _ in 0..3 {
        rx.recv().unwrap().wait_until_blocked();
    }
    let t = Instant::now();
    q.shutdown(false);
    for g in getters {
        assert_eq!(g.join().unwrap(), Err(GetError::ShutDown));
    }
    assert!(t.elapsed() < LONG / 2);
}

/// An item that counts its drops, to see what an immediate shutdown frees.
#[derive(Debug)]
struct Tracked {
    id: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Tracked {}
impl PartialOrd for Tracked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Tracked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

/// `shutdown(immediate=True)` drops the items (their destructors run at
/// once), counts them as done so that a blocked `join` returns, and makes
/// `get` fail at once.
fn test_shutdown_immediate_drops_items<Q: TestQueue<Tracked>>() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Arc::new(Q::with_maxsize(0));
    for id in 0..5 {
        q.put(Tracked {
            id,
            drops: Arc::clone(&drops),
        })
        .unwrap();
    }
    // One item is out being worked on.
    let taken = q.get().unwrap();
    assert_eq!(q.unfinished_tasks(), 5);
    let (tx, rx) = mpsc::channel();
    let joiner = {
        let q = Arc::clone(&q);
        thread::spawn(move || {
            tx.send(Probe::current()).unwrap();
            q.join();
        })
    };
    rx.recv().unwrap().wait_until_blocked();
    assert_eq!(drops.load(SeqCst), 0);
    q.shutdown(true);
    assert_eq!(drops.load(SeqCst), 4, "the 4 queued items were dropped");
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.unfinished_tasks(), 1);
    let t = Instant::now();
    assert_eq!(q.get_timeout(LONG), Err(GetError::ShutDown));
    assert!(t.elapsed() < LONG / 2);
    match q.put(Tracked {
        id: 9,
        drops: Arc::clone(&drops),
    }) {
        Err(PutError::ShutDown(item)) => assert_eq!(item.id, 9),
        other => panic!("put after shutdown: {other:?}"),
    }
    assert_eq!(
        drops.load(SeqCst),
        5,
        "the refused item came back, then dropped"
    );
    // The worker finishes the item it had; that releases the joiner.
    drop(taken);
    q.task_done().unwrap();
    joiner.join().unwrap();
    assert_eq!(drops.load(SeqCst), 6);
    assert_eq!(q.unfinished_tasks(), 0);
}

/// `_shutdown_all_methods_in_many_threads`, scaled down: writers, readers
/// (and joiners, when immediate) around a shutdown made mid-stream.
fn shutdown_all_methods_in_many_threads<Q: TestQueue<(usize, &'static str)>>(immediate: bool) {
    const WRITE_THREADS: usize = 4;
    const READ_THREADS: usize = 6;
    const JOIN_THREADS: usize = 2;
    const NB_MSGS: usize = 1024 * 8;
    const NB_MSGS_W: usize = NB_MSGS / WRITE_THREADS;
    const WHEN_EXEC_SHUTDOWN: usize = NB_MSGS_W / 2;
    let q = Arc::new(Q::with_maxsize(0));
    let res_puts = Arc::new(Mutex::new(Vec::new()));
    let res_gets = Arc::new(Mutex::new(Vec::new()));
    let res_shutdown = Arc::new(Mutex::new(Vec::new()));
    let nparties = WRITE_THREADS + READ_THREADS + if immediate { JOIN_THREADS } else { 0 };
    let barrier_start = Arc::new(Barrier::builder(nparties).timeout(LONG).build().unwrap());
    let ev_exec_shutdown = Arc::new(Event::new());
    let mut threads = Vec::new();
    for _ in 0..WRITE_THREADS {
        let (q, results, event, barrier) = (
            Arc::clone(&q),
            Arc::clone(&res_puts),
            Arc::clone(&ev_exec_shutdown),
            Arc::clone(&barrier_start),
        );
        threads.push(thread::spawn(move || {
            for i in 0..WHEN_EXEC_SHUTDOWN / 2 {
                q.put((i, "LOYD")).unwrap();
            }
            barrier.wait().unwrap();
            for i in WHEN_EXEC_SHUTDOWN / 2..NB_MSGS_W {
                if q.put((i, "YDLO")).is_err() {
                    results.lock().unwrap().push(false);
                    break;
                }
                // Trigger the queue shutdown; only one thread should.
                if i == WHEN_EXEC_SHUTDOWN && !event.is_set() {
                    event.set();
                    results.lock().unwrap().push(true);
                }
            }
        }));
    }
    for _ in 0..READ_THREADS {
        let (q, results, barrier) = (
            Arc::clone(&q),
            Arc::clone(&res_gets),
            Arc::clone(&barrier_start),
        );
        threads.push(thread::spawn(move || {
            // Get at least one item.
            q.get().unwrap();
            q.task_done().unwrap();
            barrier.wait().unwrap();
            loop {
                match q.try_get() {
                    Ok(_) => q.task_done().unwrap(),
                    Err(GetError::ShutDown) => {
                        results.lock().unwrap().push(true);
                        break;
                    }
                    Err(GetError::Empty) => thread::yield_now(),
                    Err(e) => panic!("a thread queue failed otherwise: {e}"),
                }
            }
        }));
    }
    {
        let (q, results, event) = (
            Arc::clone(&q),
            Arc::clone(&res_shutdown),
            Arc::clone(&ev_exec_shutdown),
        );
        threads.push(thread::spawn(move || {
            event.wait();
            q.shutdown(immediate);
            results.lock().unwrap().push(q.qsize() == 0);
        }));
    }
    if immediate {
        for _ in 0..JOIN_THREADS {
            let (q, barrier) = (Arc::clone(&q), Arc::clone(&barrier_start));
            threads.push(thread::spawn(move || {
                barrier.wait().unwrap();
                q.join();
            }));
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(res_puts.lock().unwrap().contains(&true));
    assert_eq!(
        res_gets.lock().unwrap().iter().filter(|&&r| r).count(),
        READ_THREADS
    );
    if immediate {
        assert_eq!(*res_shutdown.lock().unwrap(), [true]);
        assert!(q.is_empty());
    }
    assert_eq!(q.unfinished_tasks(), 0);
}

/// The bounded-queue tests, instantiated for one queue type. Each `#[test]`
/// names the CPython test it ports.
macro_rules! base_queue_tests {
    ($module:ident, $ty:ident, $order:expr) => {
        mod $module {
            use super::*;

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_basic
            // (basic_queue_test: order, full/empty, blocking put and get).
            #[test]
            fn test_basic() {
                super::test_basic::<$ty<i32>>($order);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_queue_task_done.
            #[test]
            fn test_queue_task_done() {
                super::test_queue_task_done::<$ty<i32>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_queue_join.
            #[test]
            fn test_queue_join() {
                super::test_queue_join::<$ty<i32>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_nowait.
            #[test]
            fn test_nowait() {
                super::test_nowait::<$ty<i32>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.basic_queue_test
            // (qfull is false for maxsize 0): an unbounded queue is never full.
            #[test]
            fn test_unbounded_never_full() {
                super::test_unbounded_never_full::<$ty<i32>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_empty.
            #[test]
            fn test_shutdown_empty() {
                super::test_shutdown_empty::<$ty<&'static str>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_nonempty.
            #[test]
            fn test_shutdown_nonempty() {
                super::test_shutdown_nonempty::<$ty<&'static str>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate.
            #[test]
            fn test_shutdown_immediate() {
                super::test_shutdown_immediate::<$ty<&'static str>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_allowed_transitions.
            #[test]
            fn test_shutdown_allowed_transitions() {
                super::test_shutdown_allowed_transitions::<$ty<&'static str>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_all_methods_in_one_thread.
            #[test]
            fn test_shutdown_all_methods_in_one_thread() {
                shutdown_all_methods_in_one_thread::<$ty<&'static str>>(false);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate_all_methods_in_one_thread.
            #[test]
            fn test_shutdown_immediate_all_methods_in_one_thread() {
                shutdown_all_methods_in_one_thread::<$ty<&'static str>>(true);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_all_methods_in_many_threads.
            #[test]
            fn test_shutdown_all_methods_in_many_threads() {
                shutdown_all_methods_in_many_threads::<$ty<(usize, &'static str)>>(false);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate_all_methods_in_many_threads.
            #[test]
            fn test_shutdown_immediate_all_methods_in_many_threads() {
                shutdown_all_methods_in_many_threads::<$ty<(usize, &'static str)>>(true);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_get.
            #[test]
            fn test_shutdown_get() {
                shutdown_get::<$ty<&'static str>>(false);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate_get.
            #[test]
            fn test_shutdown_immediate_get() {
                shutdown_get::<$ty<&'static str>>(true);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_put
            // (with the putters blocked on the full queue first).
            #[test]
            fn test_shutdown_put() {
                shutdown_put::<$ty<&'static str>>(false);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate_put.
            #[test]
            fn test_shutdown_immediate_put() {
                shutdown_put::<$ty<&'static str>>(true);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_join.
            #[test]
            fn test_shutdown_join() {
                shutdown_join::<$ty<&'static str>>(false);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate_join.
            #[test]
            fn test_shutdown_immediate_join() {
                shutdown_join::<$ty<&'static str>>(true);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_put_join.
            #[test]
            fn test_shutdown_put_join() {
                shutdown_put_join::<$ty<&'static str>>(false);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_immediate_put_join.
            #[test]
            fn test_shutdown_immediate_put_join() {
                shutdown_put_join::<$ty<&'static str>>(true);
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_get_task_done_join.
            #[test]
            fn test_shutdown_get_task_done_join() {
                super::test_shutdown_get_task_done_join::<$ty<&'static str>>();
            }

            // Ports Lib/test/test_queue.py BaseQueueTestMixin.test_shutdown_pending_get
            // (several getters, blocking and timed).
            #[test]
            fn test_shutdown_pending_get() {
                super::test_shutdown_pending_get::<$ty<&'static str>>();
            }

            // Checks the documented shutdown(immediate=True) accounting (the
            // 3.13 docs; no single CPython test): dropped items' destructors
            // run, they count as done so join returns, get fails at once.
            #[test]
            fn test_shutdown_immediate_drops_items() {
                super::test_shutdown_immediate_drops_items::<$ty<Tracked>>();
            }
        }
    };
}

base_queue_tests!(queue_test, Queue, [111, 333, 222]);
base_queue_tests!(lifo_queue_test, LifoQueue, [222, 333, 111]);
base_queue_tests!(priority_queue_test, PriorityQueue, [111, 222, 333]);

// Checks PriorityQueue order on many items (no CPython test beyond
// basic_queue_test): the smallest comes out first, whatever the put order.
#[test]
fn priority_queue_order() {
    let q = PriorityQueue::new();
    let items: Vec<u32> = (0..200).map(|i| (i * 7919) % 211).collect();
    for &i in &items {
        q.put(i).unwrap();
    }
    let mut sorted = items.clone();
    sorted.sort_unstable();
    let out: Vec<u32> = (0..items.len()).map(|_| q.get().unwrap()).collect();
    assert_eq!(out, sorted);
}

// Checks the Rust guarantee for equal priorities (Python's heapq gives none,
// hence the `(priority, count, item)` idiom in the queue docs): with
// `Prioritized`, items of one priority come out in the order they were put.
#[test]
fn priority_queue_is_stable_for_equal_priorities() {
    let q = PriorityQueue::new();
    let puts = [
        (2, "a"),
        (1, "b"),
        (2, "c"),
        (3, "d"),
        (1, "e"),
        (2, "f"),
        (1, "g"),
    ];
    for (priority, item) in puts {
        q.put(Prioritized::new(priority, item)).unwrap();
    }
    let order: Vec<&str> = (0..puts.len()).map(|_| q.get().unwrap().item).collect();
    assert_eq!(order, ["b", "e", "g", "a", "c", "f", "d"]);
}

// ---------------------------------------------------------------------------
// BaseSimpleQueueTest
// ---------------------------------------------------------------------------

/// `BaseSimpleQueueTest.run_threads`: `n` feeders share `inputs` and each
/// ends with a sentinel (`None`); `n` consumers take until a sentinel.
fn run_simple_threads(
    n: usize,
    inputs: &[u32],
    consume: fn(&SimpleQueue<Option<u32>>) -> Option<u32>,
) -> Vec<u32> {
    let q = Arc::new(SimpleQueue::new());
    let seq = Arc::new(Mutex::new(inputs.iter().rev().copied().collect::<Vec<_>>()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let feeders: Vec<_> = (0..n)
        .map(|_| {
            let (q, seq) = (Arc::clone(&q), Arc::clone(&seq));
            thread::spawn(move || {
                loop {
                    let val = seq.lock().unwrap().pop();
                    let Some(v) = val else {
                        q.put(None);
                        return;
                    };
                    q.put(Some(v));
                    // CPython sleeps at random here, half of the time.
                    if coin(v) {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..n)
        .map(|_| {
            let (q, results) = (Arc::clone(&q), Arc::clone(&results));
            thread::spawn(move || {
                while let Some(v) = consume(&q) {
                    results.lock().unwrap().push(v);
                }
            })
        })
        .collect();
    for t in feeders.into_iter().chain(consumers) {
        t.join().unwrap();
    }
    assert!(q.is_empty());
    assert_eq!(q.qsize(), 0);
    Arc::try_unwrap(results).unwrap().into_inner().unwrap()
}

/// A cheap, deterministic stand-in for CPython's `rnd.random() > 0.5`.
fn coin(v: u32) -> bool {
    (v.wrapping_mul(2_654_435_761) >> 16) & 1 == 0
}

fn consume(q: &SimpleQueue<Option<u32>>) -> Option<u32> {
    q.get()
}

fn consume_nonblock(q: &SimpleQueue<Option<u32>>) -> Option<u32> {
    loop {
        match q.try_get() {
            Ok(v) => return v,
            Err(e) => {
                assert!(e.is_empty());
                thread::yield_now();
            }
        }
    }
}

fn consume_timeout(q: &SimpleQueue<Option<u32>>) -> Option<u32> {
    loop {
        if let Ok(v) = q.get_timeout(Duration::from_micros(10)) {
            return v;
        }
    }
}

// Ports Lib/test/test_queue.py BaseSimpleQueueTest.test_basic.
#[test]
fn simple_queue_test_basic() {
    let q = SimpleQueue::new();
    assert!(q.is_empty());
    assert_eq!(q.qsize(), 0);
    q.put(1);
    assert!(!q.is_empty());
    assert_eq!(q.qsize(), 1);
    q.put(2);
    q.put(3);
    q.put(4);
    assert_eq!(q.qsize(), 4);
    assert_eq!(q.get(), 1);
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.try_get(), Ok(3));
    assert!(!q.is_empty());
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_timeout(Duration::from_millis(100)), Ok(4));
    assert!(q.is_empty());
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.try_get(), Err(GetError::Empty));
    let t = Instant::now();
    assert_eq!(q.get_timeout(SHORT), Err(GetError::Empty));
    assert_timeout(t.elapsed(), SHORT);
    assert!(q.is_empty());
}

// Ports Lib/test/test_queue.py BaseSimpleQueueTest.test_order: one producer
// and one consumer, results in the order put.
#[test]
fn simple_queue_test_order() {
    let inputs: Vec<u32> = (0..100).collect();
    let results = run_simple_threads(1, &inputs, consume);
    assert_eq!(results, inputs);
}

// Ports Lib/test/test_queue.py BaseSimpleQueueTest.test_many_threads.
#[test]
fn simple_queue_test_many_threads() {
    let inputs: Vec<u32> = (0..10_000).collect();
    let mut results = run_simple_threads(8, &inputs, consume);
    results.sort_unstable();
    assert_eq!(results, inputs);
}

// Ports Lib/test/test_queue.py BaseSimpleQueueTest.test_many_threads_nonblock.
#[test]
fn simple_queue_test_many_threads_nonblock() {
    let inputs: Vec<u32> = (0..10_000).collect();
    let mut results = run_simple_threads(8, &inputs, consume_nonblock);
    results.sort_unstable();
    assert_eq!(results, inputs);
}

// Ports Lib/test/test_queue.py BaseSimpleQueueTest.test_many_threads_timeout.
#[test]
fn simple_queue_test_many_threads_timeout() {
    let inputs: Vec<u32> = (0..10_000).collect();
    let mut results = run_simple_threads(8, &inputs, consume_timeout);
    results.sort_unstable();
    assert_eq!(results, inputs);
}

// Checks FIFO per producer (no CPython test: test_many_threads only sorts):
// with several producers and one consumer, each producer's items arrive in
// the order that producer put them, and nothing is lost.
#[test]
fn simple_queue_order_preserved_per_producer() {
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 2_000;
    let q = Arc::new(SimpleQueue::new());
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    q.put((p, i));
                }
            })
        })
        .collect();
    let mut next: HashMap<usize, usize> = HashMap::new();
    for _ in 0..PRODUCERS * PER_PRODUCER {
        let (p, i) = q.get_timeout(LONG).expect("an item");
        let expected = next.entry(p).or_insert(0);
        assert_eq!(i, *expected, "producer {p} out of order");
        *expected += 1;
    }
    for t in producers {
        t.join().unwrap();
    }
    assert!((0..PRODUCERS).all(|p| next[&p] == PER_PRODUCER));
    assert!(q.is_empty());
}

// Ports Lib/test/test_queue.py BaseSimpleQueueTest.test_basic (the blocking
// get): a getter blocked on an empty SimpleQueue takes an item put later.
#[test]
fn simple_queue_blocking_get() {
    let q = Arc::new(SimpleQueue::new());
    let q2 = Arc::clone(&q);
    let got = do_blocking_test(|| q.get(), move || q2.put("late"));
    assert_eq!(got, "late");
}
