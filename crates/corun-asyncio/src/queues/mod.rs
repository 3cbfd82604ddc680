//! Python's `asyncio` queues, for the tasks of one event loop: [`Queue`],
//! [`LifoQueue`], [`PriorityQueue`] — aliases of one [`GenericQueue`]
//! whose [`storage`] order is their only difference.
//!
//! They have the shapes of `corun::queue`'s thread queues and share their
//! errors ([`PutError`], [`GetError`]); `put`, `get` and `join` are
//! awaited instead of blocking. As in Python they are not thread-safe and
//! have no time-out parameters.

mod fifo_queue;
mod futures;
mod generic_queue;
mod lifo_queue;
mod priority_queue;

/// The orders the queues keep their items in: the same module as
/// `corun::queue::storage`, shared by the thread queues and these.
pub use corun_threading::queue::storage;
pub use fifo_queue::Queue;
pub use futures::{QueueGet, QueueJoin, QueuePut};
pub use generic_queue::GenericQueue;
pub use lifo_queue::LifoQueue;
pub use priority_queue::PriorityQueue;
