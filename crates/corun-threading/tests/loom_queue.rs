//! Model checks of the queue's unfinished-task accounting and shutdown
//! under loom.
#![cfg(corun_loom)]

use corun_threading::queue::{GetError, Queue};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// Through a queue of one slot, a producer's second put waits for the
/// consumer; `join` returns only after both items were marked done.
#[test]
fn join_waits_for_every_task_done() {
    loom::model(|| {
        let q = Arc::new(Queue::with_maxsize(1));
        let done = Arc::new(AtomicUsize::new(0));
        let consumer = {
            let (q, done) = (Arc::clone(&q), Arc::clone(&done));
            thread::spawn(move || {
                for expected in 0..2 {
                    assert_eq!(q.get(), Ok(expected));
                    done.fetch_add(1, Ordering::SeqCst);
                    q.task_done().unwrap();
                }
            })
        };
        q.put(0).unwrap();
        q.put(1).unwrap();
        q.join();
        assert_eq!(done.load(Ordering::SeqCst), 2);
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.task_done().unwrap_err().is_task_done_too_many());
        consumer.join().unwrap();
    });
}

/// A shutdown racing a blocked getter wakes it: it gets the item put
/// before the shutdown, then `ShutDown`; never a hang.
#[test]
fn shutdown_wakes_getter() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match q.get() {
                        Ok(item) => got.push(item),
                        Err(e) => {
                            assert_eq!(e, GetError::ShutDown);
                            return got;
                        }
                    }
                }
            })
        };
        q.put(7).unwrap();
        q.shutdown(false);
        assert!(q.put(8).unwrap_err().is_shutdown());
        assert_eq!(getter.join().unwrap(), [7]);
    });
}

/// An immediate shutdown counts the dropped items as done, which releases
/// a thread blocked in `join`.
#[test]
fn immediate_shutdown_releases_join() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        q.put(1).unwrap();
        q.put(2).unwrap();
        let joiner = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.join())
        };
        q.shutdown(true);
        joiner.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    });
}
