//! Python's `multiprocessing` queues — [`Queue`], [`JoinableQueue`],
//! [`SimpleQueue`] — as rings of serialised items in shared memory.
//!
//! | Python `multiprocessing`                      | corun                                      |
//! |-----------------------------------------------|--------------------------------------------|
//! | `Queue(maxsize)`, `JoinableQueue(maxsize)`     | [`Queue::with_maxsize`], [`Queue::new`], [`Queue::builder`] (`ring_size`); the same on [`JoinableQueue`] |
//! | `SimpleQueue()`                               | [`SimpleQueue::new`]                       |
//! | `put(x)`, `put_nowait(x)`, `put(x, timeout=t)` | `put`, `try_put`, `put_timeout`           |
//! | `get()`, `get_nowait()`, `get(timeout=t)`     | `get`, `try_get`, `get_timeout`            |
//! | `qsize()`, `empty()`, `full()`                | `qsize` (exact), `is_empty`, `is_full`     |
//! | `task_done()`, `join()`                       | [`JoinableQueue::task_done`], [`JoinableQueue::join`] (+ `join_timeout`) |
//! | `queue.Full`, `queue.Empty`                   | [`PutError::Full`], [`GetError::Empty`] (the thread queues' own errors, `corun::queue`) |
//! | `ValueError` from `task_done()`               | an [`Error`](crate::Error) of kind [`TaskDoneTooMany`](crate::ErrorKind::TaskDoneTooMany) |
//! | `close()`, `join_thread()`, `cancel_join_thread()` | not needed: no feeder thread; `shutdown` (Python 3.13's `queue.Queue.shutdown`) stops every process |
//!
//! `Queue` and `JoinableQueue` are aliases of one type, [`GenericQueue`],
//! whose [`kind`] is their only difference; its page documents their
//! methods, and those only a `JoinableQueue` has.
//!
//! A handle travels to a worker as the name of its segment, inside any
//! argument; the worker attaches and checks that the segment holds a queue
//! of the same kind and item type. The segment goes away with the last
//! handle, in whatever process (see [`SharedMemory`](crate::SharedMemory)).
//!
//! Beyond Python: puts are synchronous (an item is in shared memory when
//! `put` returns, and an error comes back to the caller, with the item),
//! and a process killed inside a put or a get leaves the queue consistent.
//! As in Python, an unbounded queue takes any number of items of any size:
//! the ring grows inside the queue's segment, and shrinks back when the
//! queue empties. `src/README.md` describes the layout and the protocol.

mod builder;
mod core;
// `pub` items that only the test hooks reach.
#[cfg_attr(not(feature = "__test-hooks"), allow(unreachable_pub))]
pub(crate) mod fault;
mod fifo_queue;
mod generic_queue;
mod joinable_queue;
pub mod kind;
#[allow(unsafe_code, reason = "maps the grown ring and copies its bytes")]
mod memory;
mod ring;
mod simple_queue;
mod state;

pub use builder::QueueBuilder;
pub use corun_threading::queue::{GetError, PutError};
pub use fifo_queue::Queue;
pub use generic_queue::GenericQueue;
pub use joinable_queue::JoinableQueue;
pub use simple_queue::SimpleQueue;

/// The size a queue's ring starts at unless chosen otherwise: 1 MiB (memory
/// is committed only as its pages are first written). It grows when more
/// is waiting.
pub const DEFAULT_RING_SIZE: usize = 1 << 20;
