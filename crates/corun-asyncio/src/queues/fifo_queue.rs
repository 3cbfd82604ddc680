//! `Queue`: Python's `asyncio.Queue`, first in, first out.

use super::generic_queue::GenericQueue;
use super::storage::Fifo;

/// A first-in, first-out queue for passing items between the tasks of one
/// event loop (Python's `asyncio.Queue`), optionally bounded, with
/// `task_done` / `join` accounting and Python 3.13's `shutdown`.
///
/// The methods are documented on [`GenericQueue`], the type behind this
/// queue, [`LifoQueue`](super::LifoQueue) and
/// [`PriorityQueue`](super::PriorityQueue).
///
/// # Examples
///
/// A producer and a consumer task; the producer waits while two items
/// wait:
///
/// ```
/// use corun::asyncio::{Queue, create_task, run};
/// use std::rc::Rc;
///
/// let got = run(async {
///     let q = Rc::new(Queue::with_maxsize(2));
///     let producer = {
///         let q = Rc::clone(&q);
///         create_task(async move {
///             for i in 0..5 {
///                 q.put(i).await.unwrap();
///             }
///             q.shutdown(false); // the consumer drains what is left
///         })
///     };
///     let mut got = Vec::new();
///     while let Ok(item) = q.get().await {
///         got.push(item);
///         q.task_done().unwrap();
///     }
///     producer.await.unwrap();
///     got
/// })
/// .unwrap();
/// assert_eq!(got, [0, 1, 2, 3, 4]);
/// ```
pub type Queue<T> = GenericQueue<T, Fifo<T>>;
