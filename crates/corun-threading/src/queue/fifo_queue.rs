//! `Queue`: Python's `queue.Queue`, first in, first out.

use super::generic_queue::GenericQueue;
use super::storage::Fifo;

/// A first-in, first-out queue for passing items between threads (Python's
/// `queue.Queue`), optionally bounded, with `task_done` / `join` accounting
/// and Python 3.13's `shutdown`.
///
/// Share it with an `Arc`. Every blocking method has a `try_` (never blocks)
/// and a `_timeout` variant; a put that fails hands the item back. The
/// methods are documented on [`GenericQueue`], the type behind this queue,
/// [`LifoQueue`](super::LifoQueue) and [`PriorityQueue`](super::PriorityQueue).
///
/// # Examples
///
/// ```
/// use corun::queue::Queue;
/// use std::sync::Arc;
///
/// let q = Arc::new(Queue::with_maxsize(2));
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || {
///         for i in 0..5 {
///             q.put(i).unwrap(); // blocks while two items wait
///         }
///         q.shutdown(false);
///     })
/// };
/// let mut got = Vec::new();
/// while let Ok(item) = q.get() {
///     got.push(item);
///     q.task_done().unwrap();
/// }
/// producer.join().unwrap();
/// assert_eq!(got, [0, 1, 2, 3, 4]);
/// ```
pub type Queue<T> = GenericQueue<T, Fifo<T>>;
