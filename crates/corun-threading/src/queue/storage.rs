//! The orders a [`GenericQueue`] can keep its items in: [`Fifo`] for
//! [`Queue`], [`Lifo`] for [`LifoQueue`], [`Priority`] for
//! [`PriorityQueue`] — Python's `_init` / `_put` / `_get` / `_qsize` hooks,
//! as a trait.
//!
//! These types only name an order in a queue's type; a queue creates and
//! owns its storage, and nothing else can reach it.
//!
//! [`GenericQueue`]: super::GenericQueue
//! [`Queue`]: super::Queue
//! [`LifoQueue`]: super::LifoQueue
//! [`PriorityQueue`]: super::PriorityQueue

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

/// How a [`GenericQueue`](super::GenericQueue) stores and orders its items:
/// [`Fifo`], [`Lifo`] or [`Priority`].
///
/// The trait is sealed: it can be named in bounds, to write code for every
/// queue order at once, but not implemented outside this crate.
///
/// # Examples
///
/// ```
/// use corun::queue::storage::Storage;
/// use corun::queue::{GenericQueue, LifoQueue, Queue};
///
/// fn put_all<T, S: Storage<T>>(q: &GenericQueue<T, S>, items: Vec<T>) {
///     for item in items {
///         q.put(item).unwrap();
///     }
/// }
///
/// let (fifo, lifo) = (Queue::new(), LifoQueue::new());
/// put_all(&fifo, vec![1, 2]);
/// put_all(&lifo, vec![1, 2]);
/// assert_eq!((fifo.get(), lifo.get()), (Ok(1), Ok(2)));
/// ```
///
/// Another crate's type cannot be a queue's storage:
///
/// ```compile_fail,E0277
/// struct Unordered;
/// impl corun::queue::storage::Storage<u8> for Unordered {}
/// ```
///
/// The same orders serve the event loop's queues
/// (`corun::asyncio::storage` is this module).
pub trait Storage<T>: Store<T> + sealed::Sealed {}

/// First in, first out: the order of [`Queue`](super::Queue).
///
/// ```
/// use corun::queue::storage::Fifo;
/// use corun::queue::{GenericQueue, Queue};
///
/// let q: GenericQueue<u8, Fifo<u8>> = Queue::new();
/// assert!(q.is_empty());
/// ```
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: the order of [`LifoQueue`](super::LifoQueue).
///
/// ```
/// use corun::queue::storage::Lifo;
/// use corun::queue::{GenericQueue, LifoQueue};
///
/// let q: GenericQueue<u8, Lifo<u8>> = LifoQueue::new();
/// assert!(q.is_empty());
/// ```
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Smallest first, equal items in insertion order: the order of
/// [`PriorityQueue`](super::PriorityQueue).
///
/// ```
/// use corun::queue::storage::Priority;
/// use corun::queue::{GenericQueue, PriorityQueue};
///
/// let q: GenericQueue<u8, Priority<u8>> = PriorityQueue::new();
/// assert!(q.is_empty());
/// ```
#[derive(Debug)]
pub struct Priority<T> {
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

/// Keeps [`Storage`] for this crate's orders.
mod sealed {
    pub trait Sealed {}
}

/// The operations behind [`Storage`]: what a queue calls on its store
/// (under its lock, for a thread queue). Public only so that corun's
/// other queues (the event loop's) keep their items in the same orders;
/// [`Storage`] stays sealed.
#[doc(hidden)]
#[allow(clippy::len_without_is_empty)] // queues ask `len() == 0` themselves
pub trait Store<T> {
    /// An empty store.
    fn new() -> Self;
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the item that comes out next, if any.
    fn pop(&mut self) -> Option<T>;
    /// The number of items.
    fn len(&self) -> usize;
    /// Removes every item (for an immediate shutdown).
    fn take_all(&mut self) -> Vec<T>;
}

impl<T> sealed::Sealed for Fifo<T> {}

impl<T> sealed::Sealed for Lifo<T> {}

impl<T> sealed::Sealed for Priority<T> {}

impl<T> Storage<T> for Fifo<T> {}

impl<T> Storage<T> for Lifo<T> {}

impl<T: Ord> Storage<T> for Priority<T> {}

impl<T> Store<T> for Fifo<T> {
    fn new() -> Self {
        Self(VecDeque::new())
    }
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

impl<T> Store<T> for Lifo<T> {
    fn new() -> Self {
        Self(Vec::new())
    }
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

impl<T: Ord> Store<T> for Priority<T> {
    fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
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
