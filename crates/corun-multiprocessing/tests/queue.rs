//! `Queue`, `JoinableQueue` and `SimpleQueue` across processes: ported
//! from CPython's `Lib/test/_test_multiprocessing.py` (`_TestQueue`,
//! `_TestSimpleQueue`) where it has the same test, plus what Python gets
//! wrong (items lost by the feeder thread, joins that deadlock, queues
//! corrupted by a killed process), with faults really injected. Each test
//! checks that it leaves no descriptor, process or segment behind.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Gate, Refuses, isolated, segment_exists, wait_at_gate, watch_segment};
use corun_multiprocessing::queue::{GetError, PutError};
use corun_multiprocessing::test_hooks::{Fault, abort_inside_next, hang_inside_next};
use corun_multiprocessing::{JoinableQueue, Process, Queue, SimpleQueue};
use corun_test_support::{DEADLINE, poll_until};
use serde::{Deserialize, Serialize};

corun_multiprocessing::enable_test_workers!();

/// Whether shared-memory segment `name` still exists.
fn in_dev_shm(name: &str) -> bool {
    std::path::Path::new("/dev/shm").join(name).exists()
}

/// Waits until process `pid` (its main thread, which runs the worker's
/// function) is asleep in a futex wait: where a worker blocked in `get`,
/// `put` or `join`, or on the queue's lock, sleeps. Where the system call
/// cannot be read, it settles for "asleep".
fn wait_until_asleep(pid: u32) {
    let futex = libc::SYS_futex.to_string();
    poll_until(
        "the worker sleeps in a futex wait",
        || match std::fs::read_to_string(format!("/proc/{pid}/syscall")) {
            Ok(call) => call.split_whitespace().next() == Some(futex.as_str()),
            Err(_) => std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rfind(')')
                    .is_some_and(|i| stat[i + 1..].split_whitespace().next() == Some("S"))
            }),
        },
    );
}

/// Takes everything left in `q` without waiting.
fn drain<T: Serialize + for<'de> Deserialize<'de>>(q: &Queue<T>) -> Vec<T> {
    std::iter::from_fn(|| q.try_get().ok()).collect()
}

/// The size of segment `name` in `/dev/shm`: what the queue's memory
/// takes, its ring included.
fn segment_len(name: &str) -> u64 {
    std::fs::metadata(std::path::Path::new("/dev/shm").join(name))
        .unwrap()
        .len()
}

/// `len` bytes that differ from place to place and with `seed`, so that a
/// misplaced byte or a mixed-up item shows.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(31) ^ seed.wrapping_mul(7)) as u8)
        .collect()
}

/// The `i`th item of the mixed stream: every fourth one large (256 KiB to
/// about 1.3 MiB, far more than the test's ring), the rest small.
fn mixed_item(i: u32) -> Vec<u8> {
    if i % 4 == 0 {
        pattern((256 << 10) + (i as usize * 8_191) % (1 << 20), i)
    } else {
        pattern(i as usize % 50, i)
    }
}

// ---- worker functions ----

fn get_six_after_gate((q, gate): (Queue<u32>, String)) -> Vec<u32> {
    wait_at_gate(&gate);
    (0..6).map(|_| q.get().unwrap()).collect()
}

fn put_after_gate((q, gate, items): (Queue<u32>, String, Vec<u32>)) {
    wait_at_gate(&gate);
    for item in items {
        q.put(item).unwrap();
    }
}

fn put_range((q, from, to): (Queue<u32>, u32, u32)) {
    for i in from..to {
        q.put(i).unwrap();
    }
}

fn put_big((q, len): (Queue<Vec<u8>>, usize)) {
    q.put(vec![7; len]).unwrap();
}

fn put_numbers((q, n): (Queue<u64>, u64)) {
    for i in 0..n {
        q.put(i * 1_000_003).unwrap();
    }
}

fn put_pattern((q, len, seed): (Queue<Vec<u8>>, usize, u32)) {
    q.put(pattern(len, seed)).unwrap();
}

fn put_mixed((q, n): (Queue<(u32, Vec<u8>)>, u32)) {
    for i in 0..n {
        q.put((i, mixed_item(i))).unwrap();
    }
}

fn hang_inside_large_put((q, len): (Queue<Vec<u8>>, usize)) {
    hang_inside_next(Fault::PutHalfWritten);
    let _ = q.put(pattern(len, 5));
    unreachable!("the put never returns");
}

fn get_vec(q: Queue<Vec<u8>>) -> Vec<u8> {
    q.get().unwrap()
}

fn hang_inside_large_get(q: Queue<Vec<u8>>) {
    hang_inside_next(Fault::GetCopied);
    let _ = q.get();
    unreachable!("the get never returns");
}

/// Takes one item with little address space left: what the process has
/// mapped now and 16 MiB more, set after it attached to the queue and
/// before the test lets it through the gate.
fn get_with_little_address_space((q, gate): (Queue<Vec<u8>>, String)) -> Vec<u8> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmSize:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let limit = kib * 1024 + (16 << 20);
    let rlimit = rustix::process::Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    rustix::process::setrlimit(rustix::process::Resource::As, rlimit).unwrap();
    wait_at_gate(&gate);
    q.get().unwrap()
}

fn work_until_none(q: JoinableQueue<Option<u32>>) -> u32 {
    let mut done = 0;
    while let Some(_item) = q.get().unwrap() {
        std::thread::sleep(Duration::from_millis(1));
        done += 1;
        q.task_done().unwrap();
    }
    done
}

fn put_empty_twice((q, gate): (SimpleQueue<bool>, String)) {
    wait_at_gate(&gate);
    q.put(q.is_empty()).unwrap();
    q.put(q.is_empty()).unwrap();
}

fn produce((q, producer, count): (Queue<(u32, Vec<u8>)>, u32, u32)) {
    for i in 0..count {
        // Sizes from 0 to 60 bytes, so records wrap at every offset.
        let payload = vec![producer as u8; ((i * 7 + producer) % 61) as usize];
        q.put((producer * 100_000 + i, payload)).unwrap();
    }
}

fn consume(q: Queue<(u32, Vec<u8>)>) -> Vec<u32> {
    let mut got = Vec::new();
    while let Ok((id, payload)) = q.get() {
        let producer = id / 100_000;
        assert!(payload.iter().all(|&b| u32::from(b) == producer), "{id}");
        got.push(id);
    }
    got
}

/// A worker's get, its error as text (errors stay in their process).
fn get_one(q: Queue<u32>) -> Result<u32, String> {
    q.get().map_err(|e| e.to_string())
}

fn get_one_simple(q: SimpleQueue<u32>) -> u32 {
    q.get().unwrap()
}

fn put_one((q, item): (Queue<u32>, u32)) -> Result<(), String> {
    q.put(item).map_err(|e| e.to_string())
}

fn abort_inside_put((q, fault): (Queue<String>, Fault)) {
    abort_inside_next(fault);
    let _ = q.put("x".repeat(100));
    unreachable!("the put aborts the process");
}

fn abort_inside_get(q: Queue<String>) {
    abort_inside_next(Fault::GetCopied);
    let _ = q.get();
    unreachable!("the get aborts the process");
}

fn hang_inside_put(q: Queue<String>) {
    hang_inside_next(Fault::PutHalfWritten);
    let _ = q.put("x".repeat(100));
    unreachable!("the put never returns");
}

fn get_string(q: Queue<String>) -> Result<String, String> {
    q.get().map_err(|e| e.to_string())
}

fn join_queue(q: JoinableQueue<u32>) -> bool {
    q.join_timeout(DEADLINE)
}

// ---- CPython's _TestQueue ----

// _TestQueue.test_put: a full queue refuses puts (at once, or after a
// time-out) until a child takes items.
#[test]
fn test_put() {
    isolated(|| {
        const MAXSIZE: usize = 6;
        let q = Queue::with_maxsize(MAXSIZE).unwrap();
        let gate = Gate::new();
        let child = Process::start(get_six_after_gate, (q.clone(), gate.path())).unwrap();
        assert!(q.is_empty());
        assert!(!q.is_full());
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.put_timeout(3, Duration::MAX).unwrap();
        q.try_put(4).unwrap();
        q.put_timeout(5, Duration::from_secs(1)).unwrap();
        q.try_put(6).unwrap();
        // No sleep needed: a put returns once the item is in the queue.
        assert!(!q.is_empty());
        assert!(q.is_full());
        assert_eq!(q.qsize(), MAXSIZE);
        assert!(matches!(q.try_put(7), Err(PutError::Full(7))));
        assert!(
            q.put_timeout(7, Duration::from_millis(100))
                .unwrap_err()
                .is_full()
        );
        assert!(q.put_timeout(7, Duration::ZERO).unwrap_err().is_full());
        gate.open();
        assert_eq!(child.join().unwrap(), [1, 2, 3, 4, 5, 6]);
        assert!(q.is_empty());
        assert!(!q.is_full());
    });
}

// _TestQueue.test_get: items a child put come out in order, then the
// queue reports Empty (at once, or after a time-out).
#[test]
fn test_get() {
    isolated(|| {
        let q = Queue::new().unwrap();
        let gate = Gate::new();
        let child = Process::start(
            put_after_gate,
            (q.clone(), gate.path(), vec![1, 2, 3, 4, 5]),
        )
        .unwrap();
        assert!(q.is_empty());
        gate.open();
        child.join().unwrap();
        assert!(!q.is_empty());
        // CPython leaves out the first get ("hangs unexpectedly"); not here.
        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.get_timeout(Duration::MAX), Ok(2));
        assert_eq!(q.get(), Ok(3));
        assert_eq!(q.get_timeout(Duration::from_secs(1)), Ok(4));
        assert_eq!(q.try_get(), Ok(5));
        assert!(q.is_empty());
        assert_eq!(q.try_get(), Err(GetError::Empty));
        assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
        assert_eq!(
            q.get_timeout(Duration::from_millis(100)),
            Err(GetError::Empty)
        );
    });
}

// _TestQueue.test_fork: items put by the parent and by a child that then
// exits all arrive, in order.
#[test]
fn test_fork() {
    isolated(|| {
        let q = Queue::new().unwrap();
        for i in 0..10 {
            q.put(i).unwrap();
        }
        let child = Process::start(put_range, (q.clone(), 10, 20)).unwrap();
        for i in 0..20 {
            assert_eq!(q.get_timeout(DEADLINE), Ok(i));
        }
        assert_eq!(q.try_get(), Err(GetError::Empty));
        child.join().unwrap();
    });
}

// The "joining processes that use queues" trap of Python's docs: a child
// that put a large item nobody has taken yet can be joined first. Python
// deadlocks here, its child waiting at exit for its feeder thread.
#[test]
fn joining_a_producer_before_draining_does_not_deadlock() {
    isolated(|| {
        let q = Queue::new().unwrap();
        let child = Process::start(put_big, (q.clone(), 1_000_000)).unwrap();
        child.join().unwrap();
        assert_eq!(q.qsize(), 1);
        let item = q.try_get().unwrap();
        assert_eq!(item.len(), 1_000_000);
        assert!(item.iter().all(|&b| b == 7));
    });
}

// _TestQueue.test_qsize, which is exact here.
#[test]
fn test_qsize() {
    isolated(|| {
        let q = Queue::new().unwrap();
        assert_eq!(q.qsize(), 0);
        q.put(1).unwrap();
        assert_eq!(q.qsize(), 1);
        q.put(5).unwrap();
        assert_eq!(q.qsize(), 2);
        q.get().unwrap();
        assert_eq!(q.qsize(), 1);
        q.get().unwrap();
        assert_eq!(q.qsize(), 0);
    });
}

// _TestQueue.test_task_done: four worker processes mark each item done;
// the parent's join returns once all ten are.
#[test]
fn test_task_done() {
    isolated(|| {
        let q = JoinableQueue::new().unwrap();
        let workers: Vec<_> = (0..4)
            .map(|_| Process::start(work_until_none, q.clone()).unwrap())
            .collect();
        for i in 0..10 {
            q.put(Some(i)).unwrap();
        }
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        for _ in &workers {
            q.put(None).unwrap();
        }
        let done: u32 = workers.into_iter().map(|p| p.join().unwrap()).sum();
        assert_eq!(done, 10);
    });
}

// _TestQueue.test_timeout: a timed get waits at least its time-out.
#[test]
fn test_timeout() {
    isolated(|| {
        let q = Queue::<u8>::new().unwrap();
        let start = Instant::now();
        assert_eq!(
            q.get_timeout(Duration::from_millis(200)),
            Err(GetError::Empty)
        );
        assert!(start.elapsed() >= Duration::from_millis(200));
    });
}

// _TestQueue.test_queue_feeder_donot_stop_onexc: an item that cannot be
// serialised does not stop the queue. Beyond Python, the put reports the
// error and hands the item back, instead of returning as if all went well
// while a feeder thread prints the error and drops the item.
#[test]
fn a_put_that_cannot_serialise_returns_the_error_and_the_item() {
    #[derive(Debug, Serialize, Deserialize)]
    enum Item {
        Fine(u32),
        Bad(Refuses),
    }

    isolated(|| {
        let q = Queue::new().unwrap();
        let err = q.put(Item::Bad(Refuses)).unwrap_err();
        assert!(err.is_serialization(), "{err:?}");
        assert!(err.to_string().contains("could not be serialised"), "{err}");
        assert!(matches!(err.into_inner(), Item::Bad(_)));
        assert!(q.is_empty());
        q.put(Item::Fine(1)).unwrap();
        assert!(matches!(q.get(), Ok(Item::Fine(1))));

        let simple = SimpleQueue::new().unwrap();
        assert!(
            simple
                .put(Item::Bad(Refuses))
                .unwrap_err()
                .is_serialization()
        );
        assert!(simple.is_empty());
    });
}

// A record that does not deserialise fails that get only; the queue goes
// on with the next item, and a JoinableQueue counts it as done.
#[test]
fn an_item_that_does_not_deserialise_fails_only_its_get() {
    /// Deserialises only even numbers.
    #[derive(Debug, PartialEq, Serialize)]
    struct Even(u32);

    impl<'de> Deserialize<'de> for Even {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let n = u32::deserialize(d)?;
            if n % 2 == 0 {
                Ok(Even(n))
            } else {
                Err(serde::de::Error::custom(format!("{n} is odd")))
            }
        }
    }

    isolated(|| {
        let q = JoinableQueue::new().unwrap();
        q.put(Even(1)).unwrap();
        q.put(Even(2)).unwrap();
        let err = q.get().unwrap_err();
        assert!(err.is_serialization(), "{err:?}");
        assert!(
            err.to_string().contains("could not be deserialised"),
            "{err}"
        );
        assert_eq!(q.unfinished_tasks(), 1, "the bad item counts as done");
        assert_eq!(q.get(), Ok(Even(2)));
        q.task_done().unwrap();
        assert!(q.join_timeout(Duration::ZERO));
    });
}

// ---- bounds ----

// A put blocks, in another process, while the queue holds maxsize items,
// and goes on when one is taken.
#[test]
fn a_put_waits_while_the_queue_is_full() {
    isolated(|| {
        let q = Queue::with_maxsize(2).unwrap();
        let gate = Gate::new();
        let child =
            Process::start(put_after_gate, (q.clone(), gate.path(), vec![1, 2, 3, 4])).unwrap();
        gate.open();
        poll_until("the child filled the queue", || q.is_full());
        wait_until_asleep(child.pid());
        assert_eq!(q.qsize(), 2, "the third put waits");
        let got: Vec<u32> = (0..4).map(|_| q.get_timeout(DEADLINE).unwrap()).collect();
        assert_eq!(got, [1, 2, 3, 4]);
        child.join().unwrap();
        assert!(q.is_empty());
    });
}

// A bounded queue bounds the number of items, as Python's does, not
// their bytes: items far larger than the ring go in until it holds
// maxsize of them; then puts fail at once or after their time-out, and a
// put in another process waits for a get.
#[test]
fn a_bounded_queue_blocks_by_count_not_bytes() {
    isolated(|| {
        let q: Queue<Vec<u8>> = Queue::builder().maxsize(3).ring_size(64).build().unwrap();
        watch_segment(q.name());
        q.put(vec![1; 100]).unwrap();
        q.try_put(vec![2; 1000]).unwrap();
        q.put_timeout(vec![3; 10_000], Duration::ZERO).unwrap();
        assert!(q.is_full());
        assert!(q.try_put(vec![4]).unwrap_err().is_full());
        assert!(
            q.put_timeout(vec![4], Duration::from_millis(20))
                .unwrap_err()
                .is_full()
        );
        let child = Process::start(put_big, (q.clone(), 5000)).unwrap();
        wait_until_asleep(child.pid());
        assert_eq!(q.qsize(), 3, "the fourth put waits");
        assert_eq!(q.get().unwrap(), vec![1; 100]);
        child.join().unwrap();
        assert_eq!(drain(&q), [vec![2; 1000], vec![3; 10_000], vec![7; 5000]]);
    });
}

// ---- unbounded: any number of items, of any size ----

// Python's "joining processes that use queues" trap, with many times the
// ring's size in small items: the producer puts them all and exits, its
// join does not wait for anyone to take them, and the parent then drains
// every one, in order. The ring grew to hold them, and gives the memory
// back once the queue is empty.
#[test]
fn a_producer_of_more_than_the_ring_holds_is_joined_before_draining() {
    isolated(|| {
        const ITEMS: u64 = 400_000; // about 4.8 MB of records: 4.6 rings
        let q = Queue::new().unwrap();
        watch_segment(q.name());
        let first_len = segment_len(q.name());
        let mut child = Process::start(put_numbers, (q.clone(), ITEMS)).unwrap();
        let joined = child.join_timeout(DEADLINE);
        if joined.is_err() {
            child.kill();
        }
        joined.expect("the producer's puts never wait in an unbounded queue");
        assert_eq!(q.qsize(), ITEMS as usize);
        assert!(segment_len(q.name()) > first_len, "the ring grew");
        for i in 0..ITEMS {
            assert_eq!(q.try_get(), Ok(i * 1_000_003));
        }
        assert_eq!(q.try_get(), Err(GetError::Empty));
        assert_eq!(segment_len(q.name()), first_len, "the memory is given back");
    });
}

// An item larger than the ring goes through intact: 4 MiB through the
// default 1 MiB ring from a process joined before the get, through a
// 1 KiB ring, and through a SimpleQueue and a JoinableQueue.
#[test]
fn an_item_larger_than_the_ring_goes_through_intact() {
    isolated(|| {
        const BIG: usize = 4 << 20;
        let q: Queue<Vec<u8>> = Queue::new().unwrap();
        watch_segment(q.name());
        let first_len = segment_len(q.name());
        Process::start(put_pattern, (q.clone(), BIG, 1))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(q.qsize(), 1);
        assert!(q.try_get().unwrap() == pattern(BIG, 1), "intact");
        assert_eq!(segment_len(q.name()), first_len, "the memory is given back");

        let small: Queue<Vec<u8>> = Queue::builder().ring_size(1024).build().unwrap();
        watch_segment(small.name());
        assert_eq!(small.ring_size(), 1024);
        small.put(pattern(1024, 2)).unwrap();
        small.put(pattern(BIG, 3)).unwrap();
        assert!(small.get().unwrap() == pattern(1024, 2));
        assert!(small.get().unwrap() == pattern(BIG, 3));

        let simple = SimpleQueue::new().unwrap();
        watch_segment(simple.name());
        simple.put(pattern(BIG, 4)).unwrap();
        assert!(simple.get().unwrap() == pattern(BIG, 4));

        let joinable = JoinableQueue::new().unwrap();
        watch_segment(joinable.name());
        joinable.put(pattern(BIG, 5)).unwrap();
        assert!(!joinable.join_timeout(Duration::ZERO));
        assert!(joinable.get().unwrap() == pattern(BIG, 5));
        joinable.task_done().unwrap();
        assert!(joinable.join_timeout(Duration::ZERO));
    });
}

// Large items interleaved with small ones, from a producer process to a
// consumer taking them meanwhile, through a ring far smaller than the
// large ones: the ring grows (around records that wrap) and shrinks again
// many times, and every item arrives intact and in order.
#[test]
fn large_and_small_items_interleaved_keep_their_order() {
    isolated(|| {
        const ITEMS: u32 = 120;
        let q = Queue::builder().ring_size(64 << 10).build().unwrap();
        watch_segment(q.name());
        let first_len = segment_len(q.name());
        let producer = Process::start(put_mixed, (q.clone(), ITEMS)).unwrap();
        for i in 0..ITEMS {
            let (id, item) = q.get_timeout(DEADLINE).unwrap();
            assert_eq!(id, i, "out of order");
            assert!(item == mixed_item(i), "item {i} changed on the way");
        }
        producer.join().unwrap();
        assert!(q.is_empty());
        assert_eq!(segment_len(q.name()), first_len, "the memory is given back");
    });
}

// A queue dropped with large items still in it leaves nothing behind:
// they live in the queue's own segment, which goes with its last handle.
#[test]
fn a_queue_dropped_holding_large_items_leaves_nothing_behind() {
    isolated(|| {
        let q: Queue<Vec<u8>> = Queue::builder().ring_size(4096).build().unwrap();
        let name = q.name().to_owned();
        watch_segment(&name);
        for seed in 0..3 {
            Process::start(put_pattern, (q.clone(), 2 << 20, seed))
                .unwrap()
                .join()
                .unwrap();
        }
        q.put(pattern(3 << 20, 9)).unwrap();
        assert_eq!(q.qsize(), 4);
        drop(q);
        assert!(!segment_exists(&name), "nothing left in /dev/shm");
    });
}

// A process killed (SIGKILL) inside a large put, holding the lock with the
// ring grown and half the item written, leaves the queue as before; one
// killed inside a large get, with the item copied out, takes nothing. The
// memory the dead put reserved is given back once the queue is empty, and
// the segment goes with the last handle.
#[test]
fn a_process_killed_inside_a_large_put_or_get_leaves_nothing_behind() {
    isolated(|| {
        let q: Queue<Vec<u8>> = Queue::builder().ring_size(4096).build().unwrap();
        let name = q.name().to_owned();
        watch_segment(&name);
        let first_len = segment_len(&name);
        q.put(pattern(100, 1)).unwrap();
        let putter = Process::start(hang_inside_large_put, (q.clone(), 4 << 20)).unwrap();
        poll_until("the put grows the ring", || segment_len(&name) > first_len);
        wait_until_asleep(putter.pid());
        putter.kill();
        assert!(putter.join().unwrap_err().to_string().contains("SIGKILL"));
        assert_eq!(q.qsize(), 1);
        assert!(q.get().unwrap() == pattern(100, 1));
        assert_eq!(
            segment_len(&name),
            first_len,
            "the dead put's memory is back"
        );

        q.put(pattern(3 << 20, 2)).unwrap();
        q.put(pattern(10, 3)).unwrap();
        let getter = Process::start(hang_inside_large_get, q.clone()).unwrap();
        wait_until_asleep(getter.pid());
        // Asleep with items there to take: the getter holds the lock.
        let waiter = Process::start(get_vec, q.clone()).unwrap();
        wait_until_asleep(waiter.pid());
        getter.kill();
        assert!(getter.join().unwrap_err().to_string().contains("SIGKILL"));
        assert!(waiter.join().unwrap() == pattern(3 << 20, 2));
        assert!(q.get().unwrap() == pattern(10, 3));
        assert_eq!(segment_len(&name), first_len);
        drop(q);
        assert!(!segment_exists(&name), "nothing left in /dev/shm");
    });
}

// A put that grows a ring whose records wrap moves the part at the end
// beyond the old end, then writes its record where that part was: killed
// (SIGKILL) halfway through that record, it leaves every record whole.
#[test]
fn a_process_killed_writing_into_a_grown_wrapped_ring_leaves_the_records_whole() {
    isolated(|| {
        let q: Queue<Vec<u8>> = Queue::builder().ring_size(4096).build().unwrap();
        watch_segment(q.name());
        q.put(pattern(2000, 1)).unwrap(); // bytes 0..2008
        q.put(pattern(1500, 2)).unwrap(); // bytes 2008..3516
        assert!(q.get().unwrap() == pattern(2000, 1));
        q.put(pattern(1500, 3)).unwrap(); // no room before the end: 0..1508
        let first_len = segment_len(q.name());
        // 8 000 bytes: the ring grows, and the record goes at 1508, over
        // where the second item was.
        let putter = Process::start(hang_inside_large_put, (q.clone(), 8000)).unwrap();
        poll_until("the put grows the ring", || {
            segment_len(q.name()) > first_len
        });
        wait_until_asleep(putter.pid());
        putter.kill();
        assert!(putter.join().unwrap_err().to_string().contains("SIGKILL"));
        assert_eq!(q.qsize(), 2);
        assert!(q.get().unwrap() == pattern(1500, 2));
        assert!(q.get().unwrap() == pattern(1500, 3));
        assert!(q.is_empty());
    });
}

// A process that cannot map the grown ring (its address space is nearly
// used up) still takes its item: it reads the ring through the segment's
// file instead.
#[test]
fn a_process_without_room_to_map_the_grown_ring_still_gets() {
    isolated(|| {
        let q: Queue<Vec<u8>> = Queue::builder().ring_size(4096).build().unwrap();
        watch_segment(q.name());
        let gate = Gate::new();
        let child =
            Process::start(get_with_little_address_space, (q.clone(), gate.path())).unwrap();
        q.put(pattern(100, 1)).unwrap();
        q.put(pattern(20 << 20, 2)).unwrap(); // the ring grows past 20 MiB
        gate.open();
        assert!(child.join().unwrap() == pattern(100, 1));
        assert!(q.get().unwrap() == pattern(20 << 20, 2));
    });
}

// Several producer and consumer processes share a small ring (records
// wrap around it, puts wait for room): every item arrives exactly once.
#[test]
fn many_producers_and_consumers_lose_and_duplicate_nothing() {
    isolated(|| {
        const PRODUCERS: u32 = 3;
        const CONSUMERS: usize = 3;
        const EACH: u32 = 400;
        let q = Queue::builder().ring_size(2048).build().unwrap();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| Process::start(consume, q.clone()).unwrap())
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| Process::start(produce, (q.clone(), p, EACH)).unwrap())
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        q.shutdown(false); // consumers drain the rest, then stop
        let mut seen = BTreeMap::new();
        for c in consumers {
            let got = c.join().unwrap();
            // Each consumer sees each producer's items in order.
            for p in 0..PRODUCERS {
                let mine: Vec<_> = got.iter().filter(|&&id| id / 100_000 == p).collect();
                assert!(mine.windows(2).all(|w| w[0] < w[1]), "out of order");
            }
            for id in got {
                *seen.entry(id).or_insert(0) += 1;
            }
        }
        let expected: BTreeMap<u32, i32> = (0..PRODUCERS)
            .flat_map(|p| (0..EACH).map(move |i| (p * 100_000 + i, 1)))
            .collect();
        assert_eq!(seen, expected);
    });
}

// ---- JoinableQueue ----

#[test]
fn task_done_more_often_than_puts_is_an_error() {
    isolated(|| {
        let q = JoinableQueue::new().unwrap();
        assert!(q.task_done().is_err());
        q.put(1).unwrap();
        q.put(2).unwrap();
        assert_eq!(q.unfinished_tasks(), 2);
        q.task_done().unwrap();
        q.task_done().unwrap();
        let err = q.task_done().unwrap_err();
        assert_eq!(err.to_string(), "task_done() called too many times");
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.join_timeout(Duration::ZERO));
    });
}

// A join in another process returns once the parent marks the items done.
#[test]
fn join_waits_for_task_done_in_another_process() {
    isolated(|| {
        let q = JoinableQueue::new().unwrap();
        q.put(1).unwrap();
        q.put(2).unwrap();
        let joiner = Process::start(join_queue, q.clone()).unwrap();
        wait_until_asleep(joiner.pid());
        assert_eq!(q.get(), Ok(1));
        q.task_done().unwrap();
        assert_eq!(q.get(), Ok(2));
        q.task_done().unwrap();
        assert!(joiner.join().unwrap(), "join returned in time");
    });
}

// ---- shutdown ----

// A get blocked in another process wakes up with ShutDown.
#[test]
fn shutdown_wakes_a_get_in_another_process() {
    isolated(|| {
        let q = Queue::new().unwrap();
        let child = Process::start(get_one, q.clone()).unwrap();
        wait_until_asleep(child.pid());
        q.shutdown(false);
        assert_eq!(child.join().unwrap(), Err(GetError::ShutDown.to_string()));
    });
}

// An immediate shutdown drops the items, counts them done (releasing
// join), and wakes a put blocked on the full queue.
#[test]
fn an_immediate_shutdown_drops_the_items_and_releases_join() {
    isolated(|| {
        let q = JoinableQueue::with_maxsize(2).unwrap();
        q.put(1).unwrap();
        q.put(2).unwrap();
        assert!(!q.join_timeout(Duration::from_millis(1)));
        q.shutdown(true);
        assert!(q.is_empty());
        assert!(q.join_timeout(Duration::ZERO));
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert!(q.put(3).unwrap_err().is_shutdown());

        let q = Queue::with_maxsize(1).unwrap();
        q.put(1).unwrap();
        let child = Process::start(put_one, (q.clone(), 2)).unwrap();
        wait_until_asleep(child.pid());
        q.shutdown(true);
        assert_eq!(child.join().unwrap(), Err("queue is shut down".to_owned()));
    });
}

// ---- CPython's _TestSimpleQueue ----

// _TestSimpleQueue.test_empty: a child sees the queue empty, then not.
#[test]
fn test_empty() {
    isolated(|| {
        let q = SimpleQueue::new().unwrap();
        let gate = Gate::new();
        let child = Process::start(put_empty_twice, (q.clone(), gate.path())).unwrap();
        assert!(q.is_empty());
        gate.open();
        child.join().unwrap();
        assert!(!q.is_empty());
        assert_eq!(q.get(), Ok(true));
        assert_eq!(q.get(), Ok(false));
        assert!(q.is_empty());
        assert_eq!(
            q.get_timeout(Duration::from_millis(1)),
            Err(GetError::Empty)
        );
    });
}

// ---- handles ----

// A handle attaches only as the same queue type with the same item type.
#[test]
fn a_handle_attaches_only_with_its_own_kind_and_item_type() {
    isolated(|| {
        let q = Queue::<u32>::new().unwrap();
        let wire = postcard::to_allocvec(&q).unwrap();
        let same: Queue<u32> = postcard::from_bytes(&wire).unwrap();
        same.put(5).unwrap();
        assert_eq!(q.get(), Ok(5));
        assert!(postcard::from_bytes::<Queue<String>>(&wire).is_err());
        assert!(postcard::from_bytes::<JoinableQueue<u32>>(&wire).is_err());
        assert!(postcard::from_bytes::<SimpleQueue<u32>>(&wire).is_err());
        let debug = format!("{q:?}");
        assert!(
            debug.contains("qsize: 0") && debug.contains(q.name()),
            "{debug}"
        );
    });
}

// The segment goes away with the last handle, wherever it was.
#[test]
fn the_last_handle_removes_the_segment() {
    isolated(|| {
        let q = Queue::new().unwrap();
        let name = q.name().to_owned();
        Process::start(put_range, (q.clone(), 0, 3))
            .unwrap()
            .join()
            .unwrap();
        assert!(in_dev_shm(&name));
        assert_eq!(drain(&q), [0, 1, 2]);
        drop(q);
        assert!(!in_dev_shm(&name));
    });
}

// ---- faults ----

// A process that dies inside a put, holding the lock with half a record
// written, leaves the queue as it was: the items before are all there,
// the half record is not, and puts and gets go on.
#[test]
fn a_process_aborted_inside_put_leaves_the_queue_as_before() {
    isolated(|| {
        let q = Queue::new().unwrap();
        q.put("before".to_owned()).unwrap();
        let child = Process::start(abort_inside_put, (q.clone(), Fault::PutHalfWritten)).unwrap();
        assert!(child.join().unwrap_err().is_worker_died());
        assert_eq!(q.qsize(), 1);
        q.put("after".to_owned()).unwrap();
        assert_eq!(drain(&q), ["before", "after"]);
        assert!(q.is_empty());
    });
}

// A process that dies after logging its put, with the change half
// published, has its put finished by the next process to take the lock.
#[test]
fn a_put_logged_before_the_process_died_is_finished_by_the_next() {
    isolated(|| {
        let q = Queue::new().unwrap();
        q.put("before".to_owned()).unwrap();
        let child =
            Process::start(abort_inside_put, (q.clone(), Fault::CommitHalfApplied)).unwrap();
        assert!(child.join().unwrap_err().is_worker_died());
        assert_eq!(q.qsize(), 2);
        q.put("after".to_owned()).unwrap();
        assert_eq!(
            drain(&q),
            ["before".to_owned(), "x".repeat(100), "after".to_owned()]
        );
    });
}

// A process that dies inside a get, with the item copied out but the
// queue not yet changed, takes nothing with it: the item is still there.
#[test]
fn a_process_aborted_inside_get_takes_nothing() {
    isolated(|| {
        let q = Queue::new().unwrap();
        q.put("first".to_owned()).unwrap();
        q.put("second".to_owned()).unwrap();
        let child = Process::start(abort_inside_get, q.clone()).unwrap();
        assert!(child.join().unwrap_err().is_worker_died());
        assert_eq!(drain(&q), ["first", "second"]);
    });
}

// A process killed while asleep in get on an empty queue: the next item
// goes to a live consumer, not to the dead one's registration, and the
// parent goes on.
#[test]
fn a_consumer_killed_while_waiting_in_get_loses_nothing() {
    isolated(|| {
        let q = Queue::new().unwrap();
        let doomed = Process::start(get_one, q.clone()).unwrap();
        wait_until_asleep(doomed.pid());
        let survivor = Process::start(get_one, q.clone()).unwrap();
        wait_until_asleep(survivor.pid());
        doomed.kill();
        assert!(doomed.join().unwrap_err().is_worker_died());
        q.put(42).unwrap();
        assert_eq!(survivor.join().unwrap(), Ok(42));
        // Many more puts and gets, with the dead sleeper still registered
        // until the queue notices.
        for i in 0..100 {
            q.put(i).unwrap();
            assert_eq!(q.get(), Ok(i));
        }
        let simple = SimpleQueue::new().unwrap();
        let doomed = Process::start(get_one_simple, simple.clone()).unwrap();
        wait_until_asleep(doomed.pid());
        doomed.kill();
        assert!(doomed.join().is_err());
        simple.put(7).unwrap();
        assert_eq!(simple.get(), Ok(7));
    });
}

// A process killed while asleep in put on a full queue: its item never
// arrives, another producer's does, and the parent goes on.
#[test]
fn a_producer_killed_while_waiting_in_put_leaves_the_queue_usable() {
    isolated(|| {
        let q = Queue::with_maxsize(1).unwrap();
        q.put(1).unwrap();
        let doomed = Process::start(put_one, (q.clone(), 2)).unwrap();
        wait_until_asleep(doomed.pid());
        let survivor = Process::start(put_one, (q.clone(), 3)).unwrap();
        wait_until_asleep(survivor.pid());
        doomed.kill();
        assert!(doomed.join().unwrap_err().is_worker_died());
        assert_eq!(q.get(), Ok(1));
        survivor.join().unwrap().unwrap();
        assert_eq!(drain(&q), [3]);
        assert_eq!(
            q.get_timeout(Duration::from_millis(20)),
            Err(GetError::Empty)
        );
    });
}

// A process killed by SIGKILL while it holds the queue's lock, stopped
// inside a put with half a record written: the kernel releases the lock,
// a process waiting for it goes on, and the queue is as before.
#[test]
fn a_process_killed_holding_the_lock_leaves_the_queue_usable() {
    isolated(|| {
        let q = Queue::new().unwrap();
        let name = q.name().to_owned();
        q.put("kept".to_owned()).unwrap();
        let holder = Process::start(hang_inside_put, q.clone()).unwrap();
        wait_until_asleep(holder.pid());
        let waiter = Process::start(get_string, q.clone()).unwrap();
        wait_until_asleep(waiter.pid());
        holder.kill();
        assert!(holder.join().unwrap_err().to_string().contains("SIGKILL"));
        assert_eq!(waiter.join().unwrap(), Ok("kept".to_owned()));
        assert!(q.is_empty());
        q.put("after".to_owned()).unwrap();
        assert_eq!(drain(&q), ["after"]);
        drop(q);
        assert!(!in_dev_shm(&name), "nothing left in /dev/shm");
    });
}

// Faults one after another, at every point, on one queue: only the items
// whose put was logged arrive, each once.
#[test]
fn repeated_faults_leave_exactly_the_committed_items() {
    isolated(|| {
        let q = Queue::new().unwrap();
        q.put("kept".to_owned()).unwrap();
        for fault in [Fault::PutHalfWritten, Fault::CommitHalfApplied] {
            let child = Process::start(abort_inside_put, (q.clone(), fault)).unwrap();
            assert!(child.join().is_err());
        }
        let child = Process::start(abort_inside_get, q.clone()).unwrap();
        assert!(child.join().is_err());
        assert_eq!(drain(&q), ["kept".to_owned(), "x".repeat(100)]);
    });
}
