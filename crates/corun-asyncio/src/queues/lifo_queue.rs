//! `LifoQueue`: Python's `asyncio.LifoQueue`, last in, first out.

use super::generic_queue::GenericQueue;
use super::storage::Lifo;

/// A queue that hands out its newest item first (Python's
/// `asyncio.LifoQueue`): a [`GenericQueue`] with the methods and
/// guarantees of [`Queue`](super::Queue).
///
/// # Examples
///
/// ```
/// let q = corun::asyncio::LifoQueue::new();
/// for i in [1, 3, 2] {
///     q.try_put(i).unwrap();
/// }
/// let order: Vec<_> = (0..3).map(|_| q.try_get().unwrap()).collect();
/// assert_eq!(order, [2, 3, 1]);
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo<T>>;
