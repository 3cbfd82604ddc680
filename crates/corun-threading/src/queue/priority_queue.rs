//! `PriorityQueue`: Python's `queue.PriorityQueue`, smallest item first.

use std::fmt;

use super::core::{Core, Wait, queue_methods};
use super::error::{GetError, PutError};
use super::storage::Priority;
use crate::error::Error;

/// A queue that hands out its smallest item first (Python's
/// `queue.PriorityQueue`), with the methods and guarantees of
/// [`Queue`](super::Queue).
///
/// Items that compare equal come out in the order they were put — a
/// guarantee Python's `heapq` does not give, which is why Python code writes
/// `(priority, count, item)` tuples. To order by a priority alone, put
/// [`Prioritized`](super::Prioritized) items.
///
/// # Examples
///
/// ```
/// use corun::queue::{Prioritized, PriorityQueue};
///
/// let q = PriorityQueue::new();
/// q.put(Prioritized::new(2, "write report")).unwrap();
/// q.put(Prioritized::new(1, "fix outage")).unwrap();
/// q.put(Prioritized::new(2, "lunch")).unwrap();
/// let order: Vec<_> = (0..3).map(|_| q.get().unwrap().item).collect();
/// assert_eq!(order, ["fix outage", "write report", "lunch"]);
/// ```
pub struct PriorityQueue<T: Ord> {
    core: Core<T, Priority<T>>,
}

impl<T: Ord> PriorityQueue<T> {
    /// A priority queue holding at most `maxsize` items; 0 means unbounded.
    ///
    /// ```
    /// let q = corun::queue::PriorityQueue::<u8>::with_maxsize(3);
    /// assert_eq!(q.maxsize(), 3);
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Self {
        Self {
            core: Core::new(maxsize, Priority::new()),
        }
    }

    queue_methods!(PriorityQueue);
}

impl<T: Ord> Default for PriorityQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Ord> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt(f)
    }
}
