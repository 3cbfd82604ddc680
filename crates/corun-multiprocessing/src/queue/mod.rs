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
//! queue empties. The sections below describe the layout and the protocol.
//!
//! # Queues in shared memory
//!
//! `Queue`, `JoinableQueue` and `SimpleQueue` are one engine
//! (`core.rs`) over one `SharedObject` per queue: the state below, then
//! the ring of items as the segment's tail, which grows when more is waiting
//! (see below). There is no feeder thread: a put
//! serialises (postcard) in the caller, before taking the lock, and returns
//! once the record is in shared memory; a get copies the record out under the
//! lock and deserialises after releasing it.
//!
//! # The ring (`ring.rs`)
//!
//! ```text
//! offset 0                                                             size
//! [len: u32 LE][len bytes of postcard][pad to 4][len][…][pad] … [u32::MAX]…
//! ^ head                                         tail ^          wrap marker:
//!                                                                next record at 0
//! ```
//!
//! Records never wrap: one that does not fit before the end leaves a wrap
//! marker and starts at offset 0. `head` and `tail` are byte offsets, `used`
//! the bytes between them (wrap padding included; it tells a full ring from
//! an empty one), `count` the records. When the queue is empty the next record
//! starts at 0 again. A record of 2³² − 2 bytes or more has the length word
//! `u32::MAX - 1` and its length as a `u64` after it.
//!
//! A put waits only while `count == maxsize` (a bounded queue, as in Python).
//! An unbounded queue takes any number of items of any size: a record without
//! room grows the ring.
//!
//! # Growing and shrinking (`memory.rs`)
//!
//! The ring grows inside the queue's own segment: its file is extended under
//! it (`fallocate`, so a full `/dev/shm` is a `PutError::Failed` with an `Io` error, not a
//! `SIGBUS` later), to `max(2 × size, size + record)` rounded up to 4 KiB —
//! enough for the record wherever the others lie. When the records wrap, the
//! part from `head` to the old end is copied to the new end and `head` moves
//! with it; the part from 0 to `tail`, and the meaning of a wrap marker ("go
//! on at 0"), stay:
//!
//! ```text
//! before  [C C C . . . . . . B B B W]            (W: wrap marker)
//!          0     ^tail       ^head   ^size
//! after   [C C C . . . . . . B B B W . . . . . . . . . . . . B B B W]
//!          0     ^tail                           ^head             ^2 × size
//! ```
//!
//! The copy lands beyond the old end, where no published record lies, so a
//! process that dies during it leaves the old ring whole. Each process maps
//! the segment again, once, when it first meets a larger ring (all under the
//! queue's lock, so nobody in the process reads through the old mapping
//! meanwhile); one that cannot map it (no address space left) reads and
//! writes through the file (`pread`, `pwrite`).
//!
//! When a change leaves the queue empty with the ring grown, the ring goes
//! back to its first size and the file is cut back to its first length
//! (`ftruncate`), which gives the memory back to the system. So every item,
//! large or small, lives in the queue's one segment: nothing else is made,
//! nothing else can be left behind, and the segment goes with its last
//! handle as any other.
//!
//! # The state (`state.rs`)
//!
//! | field | what |
//! |---|---|
//! | `mutex` | robust process-shared mutex guarding everything below |
//! | `item_type`, `maxsize` | set by the creator; attach refuses another item type (FNV-1a of `type_name::<T>()`) |
//! | `live` | `head`, `tail`, `used`, `count`, `size` (the ring's, grown or not), `reserved` (the ring bytes the file may hold), `unfinished`, `shutdown` as of the last complete change |
//! | `log`, `logged` | the redo log: the change being made, valid while `logged == 1` |
//! | `seq[3]` | futex words: not empty, not full, all done |
//! | `sleeping[3]`, `sleeper[64]` | per futex word, a bit per registered sleeper; each slot's pid |
//!
//! # Death safety: a redo log
//!
//! Every change is made on a copy of `live` under the lock, then `commit`:
//! write the copy to `log`, store `logged = 1`, apply it to `live`, store
//! `logged = 0` (release stores, so none moves before the mark). A put writes
//! its record *beyond* the published tail before committing; a get copies its
//! record out before committing. So a process that dies holding the lock —
//! abort, SIGKILL, anywhere — leaves either
//!
//! - no valid log: the state is as before its operation (a half-written record
//!   lies beyond `tail`, where nobody reads; a get's item is still there); or
//! - a valid log: the next process to lock sees `EOWNERDEAD` from the robust
//!   mutex, applies the log again (its values are absolute, so applying twice
//!   is harmless) and goes on: the operation happened.
//!
//! Nothing is lost or duplicated but the item of a put that died before its
//! commit, or of a get that died after it. `tests/queue.rs` injects each
//! case, through the crate's test hooks (`abort_inside_next`, and
//! `hang_inside_next` then SIGKILL).
//!
//! A put that grows the ring commits three times: `reserved` first, then
//! (with the file grown and the moved records copied) the grown ring's `size`
//! and `head`, then its record, written only into the grown ring's free
//! bytes — written before the grown ring is published, it could cover
//! records of the old ring that only the grown one has moved. Emptying the
//! queue commits the first `size`, cuts the file back, then commits
//! `reserved`. So a process that dies anywhere leaves at worst a file longer
//! than the ring, with `reserved` saying so, and the next change that leaves
//! the queue empty cuts it back: the memory is never lost for longer than the
//! queue holds items.
//!
//! # Waiting and waking
//!
//! A caller that must wait first releases the lock and watches `count` for
//! about 30 µs, spinning then yielding, so a producer
//! and a consumer that keep pace never sleep. Then, under the lock, it reads
//! its futex word, registers in a free slot (its pid, then its bit), releases
//! the lock and sleeps in `futex::wait` on that word; woken, it locks and
//! unregisters.
//!
//! A change that may let someone go on checks the bit mask under the lock: if
//! nobody is registered it makes no system call. Otherwise it bumps the futex
//! word under the lock (so a sleeper that read the word before cannot miss
//! it) and calls `futex::wake` after releasing the lock: one getter per put;
//! one putter per get from a queue full by count, all putters otherwise (one
//! woken before may have timed out without taking the slot); everyone on shutdown and on `join`'s
//! word when `unfinished` reaches 0.
//!
//! A sleeper killed in its sleep leaves its bit set; wake-ups still reach the
//! live sleepers, at the cost of a wake-up call that finds nobody. Every 16th
//! such call the waker removes the bits of slots whose pid no longer exists.
//! A 65th concurrent sleeper gets no slot and naps 5 ms at a time instead.

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
