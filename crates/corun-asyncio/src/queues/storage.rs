//! The orders a [`GenericQueue`] can keep its items in: [`Fifo`] for
//! [`Queue`], [`Lifo`] for [`LifoQueue`], [`Priority`] for
//! [`PriorityQueue`] — Python's `_init` / `_put` / `_get` / `_qsize`
//! hooks, as a trait, with the same orders as `corun::queue::storage`.
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

/// How a [`GenericQueue`](super::GenericQueue) stores and orders its
/// items: [`Fifo`], [`Lifo`] or [`Priority`].
///
/// The trait is sealed: it can be named in bounds, to write code for every
/// queue order at once, but not implemented outside this crate.
///
/// # Examples
///
/// ```
/// use corun::asyncio::storage::Storage;
/// use corun::asyncio::{GenericQueue, LifoQueue, Queue};
///
/// fn put_all<T, S: Storage<T>>(q: &GenericQueue<T, S>, items: Vec<T>) {
///     for item in items {
///         q.try_put(item).unwrap();
///     }
/// }
///
/// let (fifo, lifo) = (Queue::new(), LifoQueue::new());
/// put_all(&fifo, vec![1, 2]);
/// put_all(&lifo, vec![1, 2]);
/// assert_eq!((fifo.try_get(), lifo.try_get()), (Ok(1), Ok(2)));
/// ```
///
/// Another crate's type cannot be a queue's storage:
///
/// ```compile_fail,E0277
/// struct Unordered;
/// impl corun::asyncio::storage::Storage<u8> for Unordered {}
/// ```
pub trait Storage<T>: sealed::Store<T> {}

/// First in, first out: the order of [`Queue`](super::Queue).
///
/// ```
/// use corun::asyncio::storage::Fifo;
/// use corun::asyncio::{GenericQueue, Queue};
///
/// let q: GenericQueue<u8, Fifo<u8>> = Queue::new();
/// assert!(q.is_empty());
/// ```
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: the order of [`LifoQueue`](super::LifoQueue).
///
/// ```
/// use corun::asyncio::storage::Lifo;
/// use corun::asyncio::{GenericQueue, LifoQueue};
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
/// use corun::asyncio::storage::Priority;
/// use corun::asyncio::{GenericQueue, PriorityQueue};
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

/// The operations behind [`Storage`], out of reach of other crates.
mod sealed {
    /// A queue's item store.
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
}

pub(crate) use sealed::Store;

impl<T> Storage<T> for Fifo<T> {}

impl<T> Storage<T> for Lifo<T> {}

impl<T: Ord> Storage<T> for Priority<T> {}

impl<T> sealed::Store<T> for Fifo<T> {
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

impl<T> sealed::Store<T> for Lifo<T> {
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

impl<T: Ord> sealed::Store<T> for Priority<T> {
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
