//! `LifoQueue`: Python's `queue.LifoQueue`, last in, first out (a stack).

use super::generic_queue::GenericQueue;
use super::storage::Lifo;

/// A last-in, first-out queue (Python's `queue.LifoQueue`): a
/// [`GenericQueue`] with the methods and guarantees of
/// [`Queue`](super::Queue), but `get` returns the most recently put item.
///
/// # Examples
///
/// ```
/// use corun::queue::LifoQueue;
///
/// let q = LifoQueue::new();
/// for i in 0..3 {
///     q.put(i).unwrap();
/// }
/// assert_eq!([q.get(), q.get(), q.get()], [Ok(2), Ok(1), Ok(0)]);
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo<T>>;
