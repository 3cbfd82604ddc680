//! [`Queue`]: Python's `multiprocessing.Queue`, first in, first out,
//! across processes.

use super::generic_queue::GenericQueue;
use super::kind::Plain;

/// A first-in, first-out queue shared by processes (Python's
/// `multiprocessing.Queue`), optionally bounded.
///
/// It lives in shared memory: a ring of serialised items (postcard) under
/// a lock that survives a holder that dies. Clone it, or pass it to a
/// worker as (part of) an argument, and every copy is the same queue.
///
/// Beyond Python: no feeder thread. A put serialises in the caller and
/// returns once the item is in shared memory, so an item that cannot be
/// serialised is an error handed back with the item (Python drops it,
/// printing the error from its feeder thread), an item put just before
/// the process exits is never lost, and joining a process that put items
/// nobody took yet never deadlocks (Python's "joining processes that use
/// queues"). [`qsize`](Self::qsize) is exact. A process killed in the
/// middle of a put or get — even by SIGKILL, holding the lock — leaves the
/// queue as before or after its operation, never corrupt (Python:
/// gh-96062).
///
/// Unbounded (`maxsize` 0, as Python's default) means a put never waits:
/// any number of items, each of any size, until `/dev/shm` is full. The
/// ring grows as needed, inside the queue's own segment, so every item
/// goes the same way and lives and dies with the queue (see
/// [`QueueBuilder::ring_size`](super::QueueBuilder::ring_size)). A bounded
/// queue bounds the number of items, as Python's does.
///
/// Every waiting method has a `try_` (never waits) and a `_timeout`
/// variant; a put that fails hands the item back. The methods are
/// documented on [`GenericQueue`], the type behind this queue and
/// [`JoinableQueue`](super::JoinableQueue), which adds `task_done` and
/// `join`.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::{Process, Queue};
///
/// fn produce(q: Queue<u64>) {
///     for i in 0..5 {
///         q.put(i * i).unwrap();
///     }
///     q.shutdown(false); // the consumer drains what is left, then stops
/// }
///
/// corun::multiprocessing::init();
/// let q = Queue::with_maxsize(2).unwrap();
/// let producer = Process::start(produce, q.clone()).unwrap();
/// let mut got = Vec::new();
/// while let Ok(item) = q.get() {
///     got.push(item);
/// }
/// producer.join().unwrap();
/// assert_eq!(got, [0, 1, 4, 9, 16]);
/// ```
pub type Queue<T> = GenericQueue<T, Plain>;
