//! Python's `queue` module: synchronised queues for passing items between
//! threads.
//!
//! | Python `queue`                       | corun                                  |
//! |--------------------------------------|----------------------------------------|
//! | `Queue(maxsize)`                     | [`Queue::with_maxsize`], [`Queue::new`] |
//! | `LifoQueue`, `PriorityQueue`         | [`LifoQueue`], [`PriorityQueue`]       |
//! | `SimpleQueue`                        | [`SimpleQueue`]                        |
//! | `put(x)`, `put_nowait(x)`, `put(x, timeout=t)` | `put`, `try_put`, `put_timeout` |
//! | `get()`, `get_nowait()`, `get(timeout=t)` | `get`, `try_get`, `get_timeout`   |
//! | `task_done()`, `join()`              | `task_done`, `join` (+ `join_timeout`) |
//! | `shutdown(immediate)` (3.13)         | `shutdown(immediate)`                  |
//! | `Full`, `Empty`, `ShutDown`          | [`PutError::Full`], [`GetError::Empty`], `ShutDown` variants |
//!
//! A put that fails returns the item inside the error, so nothing is lost.
//!
//! `Queue`, `LifoQueue` and `PriorityQueue` are aliases of one type,
//! [`GenericQueue`], whose [`storage`] order is their only difference; its
//! page documents their methods.

mod core;
mod error;
mod fifo_queue;
mod generic_queue;
mod lifo_queue;
mod prioritized;
mod priority_queue;
mod simple_queue;
pub mod storage;

pub use error::{GetError, PutError};
pub use fifo_queue::Queue;
pub use generic_queue::GenericQueue;
pub use lifo_queue::LifoQueue;
pub use prioritized::Prioritized;
pub use priority_queue::PriorityQueue;
pub use simple_queue::SimpleQueue;
