//! `PriorityQueue`: Python's `asyncio.PriorityQueue`, smallest item first.

use super::generic_queue::GenericQueue;
use super::storage::Priority;

/// A queue that hands out its smallest item first (Python's
/// `asyncio.PriorityQueue`): a [`GenericQueue`] with the methods and
/// guarantees of [`Queue`](super::Queue), for items that are [`Ord`].
///
/// Items that compare equal come out in the order they were put — a
/// guarantee Python's `heapq` does not give. To order by a priority alone,
/// put [`Prioritized`](crate::Prioritized) items.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{Prioritized, PriorityQueue};
///
/// let q = PriorityQueue::new();
/// q.try_put(Prioritized::new(2, "write report")).unwrap();
/// q.try_put(Prioritized::new(1, "fix outage")).unwrap();
/// q.try_put(Prioritized::new(2, "lunch")).unwrap();
/// let order: Vec<_> = (0..3).map(|_| q.try_get().unwrap().item).collect();
/// assert_eq!(order, ["fix outage", "write report", "lunch"]);
/// ```
pub type PriorityQueue<T> = GenericQueue<T, Priority<T>>;
