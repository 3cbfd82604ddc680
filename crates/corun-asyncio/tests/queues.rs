//! Queue, LifoQueue and PriorityQueue, with behaviours ported from
//! CPython's Lib/test/test_asyncio/test_queues.py (each test names its
//! source): order, bounds, waiting puts and gets, cancellation, task_done
//! and join, and Python 3.13's shutdown.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use corun::asyncio::storage::Storage;
use corun::asyncio::{
    GenericQueue, GetError, LifoQueue, PriorityQueue, PutError, Queue, Sleep, Task, create_task,
    run, sleep,
};

/// Python's `await asyncio.sleep(0)`: one turn of the loop.
fn sleep0() -> Sleep {
    sleep(Duration::ZERO)
}

/// Awaits every task, keeping their outcomes.
async fn gather<T: 'static>(tasks: Vec<Task<T>>) -> Vec<Result<T, corun::Error>> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await);
    }
    out
}

/// A task that gets one item from `q`.
fn getter<T: 'static, S: Storage<T> + 'static>(
    q: &Rc<GenericQueue<T, S>>,
) -> Task<Result<T, GetError>> {
    let q = q.clone();
    create_task(async move { q.get().await })
}

/// A task that puts `item` into `q`.
fn putter<T: 'static, S: Storage<T> + 'static>(
    q: &Rc<GenericQueue<T, S>>,
    item: T,
) -> Task<Result<(), PutError<T>>> {
    let q = q.clone();
    create_task(async move { q.put(item).await })
}

// Ports QueueBasicTests.test_empty, test_full and test_order.
#[test]
fn queue_basics() {
    run(async {
        let q = Queue::new();
        assert!(q.is_empty());
        q.put(1).await.unwrap();
        assert!(!q.is_empty());
        assert_eq!(q.get().await, Ok(1));
        assert!(!q.is_full(), "an unbounded queue is never full");

        let q = Queue::with_maxsize(1);
        q.put(1).await.unwrap();
        assert!(q.is_full());

        let q = Queue::new();
        for i in [1, 3, 2] {
            q.put(i).await.unwrap();
        }
        let mut items = Vec::new();
        for _ in 0..3 {
            items.push(q.get().await.unwrap());
        }
        assert_eq!(items, [1, 3, 2]);
    })
    .unwrap();
}

// Ports LifoQueueTests.test_order and PriorityQueueTests.test_order.
#[test]
fn lifo_and_priority_order() {
    run(async {
        let lifo = LifoQueue::new();
        let prio = PriorityQueue::new();
        for i in [1, 3, 2] {
            lifo.put(i).await.unwrap();
            prio.put(i).await.unwrap();
        }
        let (mut l, mut p) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            l.push(lifo.get().await.unwrap());
            p.push(prio.get().await.unwrap());
        }
        assert_eq!(l, [2, 3, 1]);
        assert_eq!(p, [1, 2, 3]);
    })
    .unwrap();
}

// Ports QueueBasicTests.test_maxsize: a putter blocks after filling the
// queue and resumes when an item is taken.
#[test]
fn queue_maxsize_blocks_the_putter() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(2));
        assert_eq!(q.maxsize(), 2);
        let have_been_put = Rc::new(RefCell::new(Vec::new()));
        let (qq, put) = (q.clone(), have_been_put.clone());
        let t = create_task(async move {
            for i in 0..3 {
                qq.put(i).await.unwrap();
                put.borrow_mut().push(i);
            }
            true
        });
        sleep0().await;
        sleep0().await;
        assert_eq!(*have_been_put.borrow(), [0, 1]);
        assert_eq!(q.get().await, Ok(0));
        sleep0().await;
        assert_eq!(*have_been_put.borrow(), [0, 1, 2]);
        assert_eq!(q.get().await, Ok(1));
        assert_eq!(q.get().await, Ok(2));
        assert!(t.await.unwrap());
    })
    .unwrap();
}

// Ports QueueGetTests.test_nonblocking_get_exception and
// QueuePutTests.test_nonblocking_put_exception: QueueEmpty and QueueFull
// are GetError::Empty and PutError::Full, the put's item handed back.
#[test]
fn queue_nowait_errors() {
    let q = Queue::with_maxsize(1);
    assert_eq!(q.try_get(), Err(GetError::Empty));
    q.try_put(1).unwrap();
    assert_eq!(q.try_put(2), Err(PutError::Full(2)));
    assert_eq!(q.try_get(), Ok(1));
}

// Ports QueueGetTests.test_get_with_waiting_putters and
// QueuePutTests.test_put_with_waiting_getters.
#[test]
fn queue_waiting_putters_and_getters_are_served() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(1));
        let a = putter(&q, "a");
        let b = putter(&q, "b");
        assert_eq!(q.get().await, Ok("a"));
        assert_eq!(q.get().await, Ok("b"));
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();

        let q = Rc::new(Queue::new());
        let t = getter(&q);
        sleep0().await;
        q.put("a").await.unwrap();
        assert_eq!(t.await.unwrap(), Ok("a"));
    })
    .unwrap();
}

// Ports QueueGetTests.test_why_are_getters_waiting: a producer and a
// consumer through a queue of one finish.
#[test]
fn queue_producer_and_consumer_finish() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(1));
        let qp = q.clone();
        let producer = create_task(async move {
            for i in 0..5 {
                qp.put(i).await.unwrap();
            }
        });
        let qc = q.clone();
        let consumer = create_task(async move {
            let mut got = Vec::new();
            for _ in 0..5 {
                got.push(qc.get().await.unwrap());
            }
            got
        });
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), [0, 1, 2, 3, 4]);
    })
    .unwrap();
}

// Ports QueueGetTests.test_get_cancelled_race: the first getter cancelled,
// the item reaches the second.
#[test]
fn queue_cancelled_getter_leaves_the_item_to_the_next() {
    run(async {
        let q = Rc::new(Queue::new());
        let t1 = getter(&q);
        let t2 = getter(&q);
        sleep0().await;
        t1.cancel();
        sleep0().await;
        assert!(t1.done());
        q.put('a').await.unwrap();
        sleep0().await;
        assert_eq!(t2.await.unwrap(), Ok('a'));
    })
    .unwrap();
}

// Ports QueuePutTests.test_get_cancel_drop_one_pending_reader: a getter
// woken for an item and cancelled before it runs drops nothing.
#[test]
fn queue_woken_getter_cancelled_drops_no_item() {
    run(async {
        let q = Rc::new(Queue::new());
        let reader = getter(&q);
        sleep0().await;
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        reader.cancel();
        assert!(reader.await.unwrap_err().is_cancelled());
        assert_eq!(getter(&q).await.unwrap(), Ok(1), "1 was not dropped");
    })
    .unwrap();
}

// Ports QueuePutTests.test_get_cancel_drop_many_pending_readers: with three
// readers and two items, cancelling the first woken one passes its item on.
#[test]
fn queue_woken_getter_cancelled_passes_its_wake_up_on() {
    run(async {
        let q = Rc::new(Queue::new());
        let r1 = getter(&q);
        let r2 = getter(&q);
        let r3 = getter(&q);
        sleep0().await;
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        r1.cancel();
        assert!(r1.await.unwrap_err().is_cancelled());
        let mut got = vec![r2.await.unwrap().unwrap(), r3.await.unwrap().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
    })
    .unwrap();
}

// Ports QueuePutTests.test_put_cancel_drop: a putter woken for room and
// cancelled leaves the room to a new put.
#[test]
fn queue_woken_putter_cancelled_leaves_the_room() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(1));
        q.try_put(1).unwrap();
        let writer = putter(&q, 2);
        sleep0().await;
        assert_eq!(q.try_get(), Ok(1));
        writer.cancel();
        assert!(writer.await.unwrap_err().is_cancelled());
        putter(&q, 2).await.unwrap().unwrap();
        assert_eq!(q.try_get(), Ok(2));
        assert_eq!(q.qsize(), 0);
    })
    .unwrap();
}

// Ports QueuePutTests.test_put_cancelled_race: of three putters into a
// queue of one, the third cancelled; the others go through in order.
#[test]
fn queue_put_cancelled_race() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(1));
        let put_a = putter(&q, 'a');
        let put_b = putter(&q, 'b');
        let put_c = putter(&q, 'X');
        sleep0().await;
        assert!(put_a.done());
        assert!(!put_b.done());
        put_c.cancel();
        sleep0().await;
        assert!(put_c.done());
        assert_eq!(q.try_get(), Ok('a'));
        sleep0().await;
        assert_eq!(q.try_get(), Ok('b'));
        put_b.await.unwrap().unwrap();
    })
    .unwrap();
}

// Ports QueuePutTests.test_cancelled_puts_not_being_held_in_self_putters and
// QueueGetTests.test_cancelled_getters_not_being_held_in_self_getters.
#[test]
fn queue_cancelled_waiters_leave_no_trace() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(1));
        q.try_put(1).unwrap();
        let put = putter(&q, 2);
        sleep0().await;
        assert!(format!("{q:?}").contains("putters: 1"));
        put.cancel();
        assert!(put.await.unwrap_err().is_cancelled());
        assert!(format!("{q:?}").contains("putters: 0"), "{q:?}");

        let q = Rc::new(Queue::<u8>::with_maxsize(5));
        let get = getter(&q);
        sleep0().await;
        get.cancel();
        assert!(get.await.unwrap_err().is_cancelled());
        assert!(format!("{q:?}").contains("getters: 0"), "{q:?}");
    })
    .unwrap();
}

// Beyond Python: a getter woken for an item that another task took first
// keeps its place at the head of the line (Python sends it to the back).
#[test]
fn queue_woken_getter_that_lost_its_item_keeps_its_place() {
    run(async {
        let q = Rc::new(Queue::new());
        let first = getter(&q);
        sleep0().await;
        let second = getter(&q);
        sleep0().await;
        q.try_put(1).unwrap(); // wakes `first`
        assert_eq!(q.try_get(), Ok(1)); // … but this task takes the item
        sleep0().await; // `first` runs, finds nothing, waits again
        q.try_put(2).unwrap();
        assert_eq!(first.await.unwrap(), Ok(2));
        q.try_put(3).unwrap();
        assert_eq!(second.await.unwrap(), Ok(3));
    })
    .unwrap();
}

// Ports _QueueJoinTestMixin.test_task_done_underflow, for all three queues.
#[test]
fn task_done_too_many_times_is_an_error() {
    assert!(
        Queue::<u8>::new()
            .task_done()
            .unwrap_err()
            .is_task_done_too_many()
    );
    assert!(
        LifoQueue::<u8>::new()
            .task_done()
            .unwrap_err()
            .is_task_done_too_many()
    );
    assert!(
        PriorityQueue::<u8>::new()
            .task_done()
            .unwrap_err()
            .is_task_done_too_many()
    );
}

/// _QueueJoinTestMixin.test_task_done for one queue: two workers take 100
/// items and mark each done; `join` returns once all are.
async fn task_done_and_join<S: Storage<i32> + 'static>(q: GenericQueue<i32, S>) {
    let q = Rc::new(q);
    for i in 0..100 {
        q.try_put(i).unwrap();
    }
    let accumulator = Rc::new(Cell::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (q, acc) = (q.clone(), accumulator.clone());
            create_task(async move {
                while let Ok(item) = q.get().await {
                    acc.set(acc.get() + item);
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    q.join().await;
    assert_eq!(accumulator.get(), (0..100).sum::<i32>());
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown(false);
    for r in gather(workers).await {
        r.unwrap();
    }
}

// Ports _QueueJoinTestMixin.test_task_done and test_join_empty_queue.
#[test]
fn task_done_releases_join() {
    run(async {
        task_done_and_join(Queue::new()).await;
        task_done_and_join(LifoQueue::new()).await;
        task_done_and_join(PriorityQueue::new()).await;
        let q = Queue::<u8>::new();
        q.join().await;
        q.join().await;
    })
    .unwrap();
}

// Ports _QueueShutdownTestMixin.test_shutdown_empty, test_shutdown_nonempty
// and test_shutdown_immediate.
#[test]
fn shutdown_fails_puts_and_drains_gets() {
    run(async {
        let q = Queue::new();
        q.shutdown(false);
        assert!(q.put("data").await.unwrap_err().is_shutdown());
        assert_eq!(q.get().await, Err(GetError::ShutDown));

        let q = Queue::new();
        q.try_put("data").unwrap();
        q.shutdown(false);
        assert_eq!(q.get().await, Ok("data"));
        assert_eq!(q.get().await, Err(GetError::ShutDown));

        let q = Queue::new();
        q.try_put("data").unwrap();
        q.shutdown(true);
        assert_eq!(q.get().await, Err(GetError::ShutDown));
        assert!(q.is_shutdown());
    })
    .unwrap();
}

// Ports _QueueShutdownTestMixin.test_shutdown_all_methods_in_one_task and
// its immediate twin (Python 3.13 final: after an immediate shutdown the
// dropped items count as done, so task_done is one too many and join
// returns).
#[test]
fn shutdown_all_methods_in_one_task() {
    for immediate in [false, true] {
        run(async move {
            let q = Queue::new();
            q.put("L").await.unwrap();
            q.try_put("O").unwrap();
            q.shutdown(immediate);
            assert_eq!(q.put("E").await, Err(PutError::ShutDown("E")));
            assert_eq!(q.try_put("W"), Err(PutError::ShutDown("W")));
            if immediate {
                assert_eq!(q.get().await, Err(GetError::ShutDown));
                assert_eq!(q.try_get(), Err(GetError::ShutDown));
                assert!(q.task_done().unwrap_err().is_task_done_too_many());
                q.join().await;
            } else {
                assert_eq!(q.get().await, Ok("L"));
                q.task_done().unwrap();
                assert_eq!(q.try_get(), Ok("O"));
                q.task_done().unwrap();
                q.join().await;
                assert_eq!(q.get().await, Err(GetError::ShutDown));
                assert_eq!(q.try_get(), Err(GetError::ShutDown));
            }
        })
        .unwrap();
    }
}

// Ports _QueueShutdownTestMixin._shutdown_putters: a put waiting on a full
// queue fails with ShutDown, its item handed back, and leaves the line.
#[test]
fn shutdown_wakes_waiting_putters() {
    for immediate in [false, true] {
        run(async move {
            let q = Rc::new(Queue::with_maxsize(2));
            q.put("E").await.unwrap();
            q.put("W").await.unwrap();
            let t = putter(&q, "Y");
            sleep0().await;
            assert!(format!("{q:?}").contains("putters: 1"));
            q.shutdown(immediate);
            assert_eq!(t.await.unwrap(), Err(PutError::ShutDown("Y")));
            assert!(format!("{q:?}").contains("putters: 0"));
        })
        .unwrap();
    }
}

// Ports _QueueShutdownTestMixin._shutdown_getters: waiting gets wake up and
// fail once nothing is left; the accounting of undone items follows
// Python (an immediate shutdown counts the dropped items as done).
#[test]
fn shutdown_wakes_waiting_getters() {
    for immediate in [false, true] {
        run(async move {
            let q = Rc::new(Queue::with_maxsize(1));
            q.put("Y").await.unwrap();
            let first = getter(&q);
            sleep0().await;
            assert_eq!(first.await.unwrap(), Ok("Y"));
            let t = getter(&q);
            sleep0().await;
            assert!(format!("{q:?}").contains("getters: 1"));
            q.shutdown(immediate);
            assert_eq!(t.await.unwrap(), Err(GetError::ShutDown));
            assert!(format!("{q:?}").contains("getters: 0"));
            assert_eq!(q.unfinished_tasks(), 1, "the item taken is not done yet");
        })
        .unwrap();
    }
}

// Ports _QueueShutdownTestMixin.test_shutdown_get_task_done_join: two
// workers take the two items and mark them done; two joins return, with a
// (non-immediate) shutdown in between.
#[test]
fn shutdown_get_task_done_join() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(2));
        q.put("Y").await.unwrap();
        q.put("D").await.unwrap();
        assert_eq!(q.unfinished_tasks(), q.qsize());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                create_task(async move {
                    let item = q.get().await.unwrap();
                    q.task_done().unwrap();
                    item
                })
            })
            .collect();
        let joins: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                create_task(async move { q.join().await })
            })
            .collect();
        q.shutdown(false);
        let mut got: Vec<_> = gather(workers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        got.sort();
        assert_eq!(got, ["D", "Y"]);
        for r in gather(joins).await {
            r.unwrap();
        }
        assert_eq!(q.unfinished_tasks(), 0);
    })
    .unwrap();
}

// Ports _QueueShutdownTestMixin._shutdown_put_join: an immediate shutdown
// releases a waiting join (the dropped items count as done) and fails a
// waiting put; after a plain shutdown the join still waits for the items.
#[test]
fn shutdown_immediate_releases_join() {
    run(async {
        let q = Rc::new(Queue::with_maxsize(2));
        q.put("Y").await.unwrap();
        q.put("D").await.unwrap();
        let put = putter(&q, "E");
        let qj = q.clone();
        let join = create_task(async move { qj.join().await });
        sleep0().await;
        q.shutdown(false);
        assert_eq!(put.await.unwrap(), Err(PutError::ShutDown("E")));
        sleep0().await;
        assert!(!join.done(), "two items are not done yet");
        q.shutdown(true);
        join.await.unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.qsize(), 0);
    })
    .unwrap();
}

// Dropping items on an immediate shutdown runs their destructors, with the
// queue usable from inside them.
#[test]
fn shutdown_immediate_drops_items_outside_the_queue_state() {
    struct Probe(Rc<Queue<Probe>>, Rc<Cell<usize>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.1.set(self.1.get() + self.0.qsize() + 1);
        }
    }
    let q = Rc::new(Queue::new());
    let dropped = Rc::new(Cell::new(0));
    for _ in 0..3 {
        q.try_put(Probe(q.clone(), dropped.clone())).unwrap();
    }
    q.shutdown(true);
    assert_eq!(dropped.get(), 3, "each saw an empty queue");
}

// A priority queue hands out equal items in the order they were put.
#[test]
fn priority_queue_is_stable() {
    use corun::asyncio::Prioritized;
    let q = PriorityQueue::new();
    for (p, name) in [(2, "a"), (1, "b"), (2, "c"), (1, "d")] {
        q.try_put(Prioritized::new(p, name)).unwrap();
    }
    let order: Vec<_> = std::iter::from_fn(|| q.try_get().ok())
        .map(|e| e.item)
        .collect();
    assert_eq!(order, ["b", "d", "a", "c"]);
}
