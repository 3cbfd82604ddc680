//! The three orders a [`Core`](super::core::Core) can keep its items in —
//! Python's `_put` / `_get` / `_qsize` hooks, as a trait.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

/// How a queue stores and orders its items.
pub(crate) trait Storage<T> {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
    /// Removes every item (for an immediate shutdown).
    fn take_all(&mut self) -> Vec<T>;
}

/// First in, first out.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);

/// Last in, first out.
#[derive(Debug)]
pub(crate) struct Lifo<T>(Vec<T>);

/// Smallest first; equal items in insertion order.
#[derive(Debug)]
pub(crate) struct Priority<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    next_seq: u64,
}

/// An item and its insertion number, ordered by item then number, which
/// makes the heap stable.
#[derive(Debug)]
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T> Fifo<T> {
    pub(crate) fn new() -> Self {
        Self(VecDeque::new())
    }
}

impl<T> Lifo<T> {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }
}

impl<T> Priority<T> {
    pub(crate) fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T> Storage<T> for Fifo<T> {
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
    fn take_all(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

impl<T> Storage<T> for Lifo<T> {
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

impl<T: Ord> Storage<T> for Priority<T> {
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { item, seq }));
    }
    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|Reverse(entry)| entry.item)
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
    fn take_all(&mut self) -> Vec<T> {
        self.heap.drain().map(|Reverse(entry)| entry.item).collect()
    }
}

impl<T: Ord> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}

impl<T: Ord> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.item.cmp(&other.item).then(self.seq.cmp(&other.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_is_stable_for_equal_items() {
        #[derive(Debug)]
        struct ByKey(u8, &'static str);
        impl PartialEq for ByKey {
            fn eq(&self, o: &Self) -> bool {
                self.0 == o.0
            }
        }
        impl Eq for ByKey {}
        impl PartialOrd for ByKey {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for ByKey {
            fn cmp(&self, o: &Self) -> Ordering {
                self.0.cmp(&o.0)
            }
        }
        let mut p = Priority::new();
        for (k, v) in [(2, "a"), (1, "b"), (2, "c"), (1, "d"), (2, "e")] {
            p.push(ByKey(k, v));
        }
        let order: Vec<_> = std::iter::from_fn(|| p.pop()).map(|e| e.1).collect();
        assert_eq!(order, ["b", "d", "a", "c", "e"]);
    }
}
