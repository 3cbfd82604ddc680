//! `Prioritized`: an item ordered by a separate priority only.

use std::cmp::Ordering;

/// An item with a priority, compared by the priority alone — the Rust form
/// of Python's `@dataclass(order=True)` with `field(compare=False)` idiom.
/// In a [`PriorityQueue`](super::PriorityQueue), items of equal priority
/// come out in insertion order.
///
/// # Examples
///
/// ```
/// use corun::queue::Prioritized;
///
/// assert!(Prioritized::new(1, "b") < Prioritized::new(2, "a"));
/// assert_eq!(Prioritized::new(1, "x"), Prioritized::new(1, "y"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Prioritized<P, T> {
    /// Smaller comes out first.
    pub priority: P,
    /// The payload; never compared.
    pub item: T,
}

impl<P, T> Prioritized<P, T> {
    /// Pairs `item` with `priority`.
    ///
    /// ```
    /// let p = corun::queue::Prioritized::new(3, 'x');
    /// assert_eq!((p.priority, p.item), (3, 'x'));
    /// ```
    pub fn new(priority: P, item: T) -> Self {
        Self { priority, item }
    }
}

impl<P: Ord, T> PartialEq for Prioritized<P, T> {
    fn eq(&self, other: &Self) -> bool {
        self.priority == other.priority
    }
}

impl<P: Ord, T> Eq for Prioritized<P, T> {}

impl<P: Ord, T> PartialOrd for Prioritized<P, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<P: Ord, T> Ord for Prioritized<P, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.cmp(&other.priority)
    }
}
