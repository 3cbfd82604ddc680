//! Python's `multiprocessing`, in Rust: functions run in worker processes
//! that re-execute the current binary.
//!
//! This crate is re-exported by `corun` as `corun::multiprocessing`.
//!
//! | Python `multiprocessing`                          | corun                                               |
//! |---------------------------------------------------|-----------------------------------------------------|
//! | `if __name__ == "__main__":` (the spawn rule)     | [`init()`] first in `main`; [`enable_test_workers!`] in test files |
//! | `Process(target=f, args=(x,)).start()`            | [`Process::start(f, x)`](Process::start), [`Process::builder`] |
//! | `Process(name=…, daemon=…)`                       | [`ProcessBuilder::name`], [`ProcessBuilder::daemon`] |
//! | `p.join()`, `p.join(timeout)`                     | [`Process::join`] (returns `f`'s value), [`Process::join_timeout`] |
//! | `p.terminate()`, `p.kill()`, `p.is_alive()`       | [`Process::terminate`], [`Process::kill`], [`Process::is_alive`] |
//! | `p.pid`, `p.name`, `p.daemon`, `p.exitcode`       | [`Process::pid`], [`Process::name`], [`Process::daemon`], [`Process::exitcode`] |
//! | `current_process()`, `parent_process()`           | [`current_process`], [`parent_process`] ([`ProcessInfo`]) |
//! | `cpu_count()`                                     | [`cpu_count`] (the CPUs this process may use)        |
//! | `Pool(processes, initializer, initargs, maxtasksperchild)` | [`Pool::builder`] ([`PoolBuilder`]), plus `task_timeout` and `memory_limit` |
//! | `pool.apply`, `apply_async`, `map`, `starmap`     | [`Pool::apply`], [`Pool::apply_async`] (a `corun::concurrent::Task`), [`Pool::map`], [`Pool::map_chunked`], [`Pool::starmap`] |
//! | `pool.imap`, `imap_unordered`                     | [`Pool::imap`], [`Pool::imap_chunked`], [`Pool::imap_unordered`] ([`Imap`]) |
//! | `pool.close()`, `terminate()`, `join()`           | [`Pool::close`], [`Pool::terminate`], [`Pool::join`]  |
//! | `concurrent.futures.ProcessPoolExecutor`          | [`ProcessPoolExecutor`] (the `Executor` and `Submit` traits) |
//! | `Pipe()`, `Pipe(duplex=False)`                    | [`Pipe::duplex`], [`Pipe::one_way`] (two [`Connection`]s, passable to workers as arguments) |
//! | `conn.send`, `recv`, `send_bytes`, `recv_bytes`, `recv_bytes_into`, `poll` | [`Connection::send`], [`Connection::recv`] (and `recv_timeout`), [`Connection::send_bytes`], [`Connection::recv_bytes`], [`Connection::recv_bytes_into`], [`Connection::poll`] |
//! | `EOFError`, `BufferTooShort` (from a `Connection`) | [`Error`] of kind [`Closed`](ErrorKind::Closed), [`InvalidArgument`](ErrorKind::InvalidArgument) |
//! | `Value('d', 0.0)`, `RawValue`, `v.get_lock()`     | [`Value`] (with a [`ValueGuard`]), [`RawValue`]: any `bytemuck::Pod` type, checked on attach |
//! | `Array('i', 10)`, `RawArray`, `a.get_lock()`      | [`Array`] (with an [`ArrayGuard`] that derefs to `[T]`), [`RawArray`] |
//! | `Queue`, `JoinableQueue`, `SimpleQueue`           | [`Queue`], [`JoinableQueue`], [`SimpleQueue`] (module [`queue`]) |
//! | `shared_memory.SharedMemory(name, create, size)`  | [`SharedMemory::create`], [`SharedMemory::create_named`], [`SharedMemory::attach`], [`SharedMemory::unlink`] |
//! | `Lock()`, `RLock()`                               | [`Lock`], [`RLock`]: a holder's death is [`OwnerDied`] for the next acquirer |
//! | `Semaphore(n)`, `BoundedSemaphore(n)`             | [`Semaphore`], [`BoundedSemaphore`]                  |
//! | `Event()`, `Condition()`, `Barrier(parties)`      | [`Event`], [`Condition`], [`Barrier`]                |
//! | "share only through inheritance"                 | every shared object is `Serialize`: pass it in a worker's argument |
//! | start method `"spawn"`                            | the only one: no `fork` of a threaded parent          |
//! | exceptions, `TimeoutError`, `OSError`, `IndexError`, `BrokenBarrierError` | [`Error`] (corun's one error type, `corun::Error`): [`kind()`](Error::kind) and predicates |
//! | (calls carried to other machines)                | [`remote`]: [`Call`](remote::Call) and [`Reply`](remote::Reply) as bytes, [`ProcessPoolExecutor::submit_call`], [`binary_fingerprint`](remote::binary_fingerprint) |
//!
//! # How a function crosses
//!
//! A worker runs the same executable as its parent: the parent starts
//! `/proc/self/exe` with a marker in the environment and one end of a Unix
//! socket pair as its standard input, and the worker's `main` hands control
//! to [`init`] at once. The two check, in a handshake, that they run the
//! same file with the same code layout; then the parent sends calls as
//! code offsets plus a postcard-encoded argument, and the worker answers
//! with the encoded result, or the message of its panic. Functions are
//! plain `fn(A) -> R` items with `A` and `R` serde types — the Rust twin of
//! Python's "picklable top-level function". The source is laid out by
//! concern, each folder's module docs telling its part: `launch/` (how a
//! worker is started), `crossing/` (how a call crosses: handshake, frames,
//! descriptors), `workers/` (a worker's life, `Process`), `pools/` (the
//! engine behind `Pool` and `ProcessPoolExecutor`), `shm/` (segments and
//! their cleanup tracker), `synchronize/`, `sharedctypes/`, `queue/`, and
//! `connection.rs`. Imports between folders point one way: `launch/` and
//! `shm/` at the bottom, then `synchronize/` and `crossing/`, then
//! `sharedctypes/`, `queue/`, `connection.rs` and `workers/`, with
//! `pools/` at the top.
//!
//! Beyond Python: a pool worker that dies (abort, segfault, `exit`, a
//! signal) fails only the task it was running, with an error that says how,
//! and is replaced — Python's `Pool` waits forever for that task and its
//! `ProcessPoolExecutor` fails every pending one; a task past the pool's
//! `task_timeout` has its worker killed and replaced; `terminate` fails
//! every unfinished task instead of leaving it pending. A process's
//! function returns its value through [`Process::join`], and a panic its
//! message; a worker dies with its
//! parent (socket closed, or `SIGKILL` from the kernel when the parent
//! process dies), so no orphan is left behind; an argument or result that
//! cannot be serialised is an error for that call, never a hang.
//!
//! Queues, values, arrays and locks live in shared memory ([`SharedMemory`]
//! segments under `/dev/shm`), each handle holding the segment open: the
//! last handle to close removes it, a cleanup tracker (a re-run of the
//! program, started with the first segment) removes those whose users all
//! crashed, and none is removed while a process still has it open. A
//! process that dies holding a lock leaves it to the next acquirer with an
//! [`OwnerDied`] error, and one killed inside a queue's `put` or `get`
//! leaves the queue whole.
//!
//! # Examples
//!
//! A program that starts processes calls [`init`] first:
//!
//! ```standalone_crate
//! use corun::multiprocessing::{Process, current_process};
//!
//! fn whoami(greeting: String) -> String {
//!     format!("{greeting} from {}", current_process().name())
//! }
//!
//! // The doctest's body is `main`, and `init` comes first in it.
//! corun::multiprocessing::init(); // workers stop here: see `init`
//! let p = Process::builder().name("helper").start(whoami, "hi".to_owned()).unwrap();
//! assert_eq!(p.join().unwrap(), "hi from helper");
//! ```
//!
//! (Examples that start processes are `standalone_crate` doctests, so that
//! each is a program of its own whose `main` calls `init`.)
//!
//! # Platform
//!
//! Linux: workers rely on `/proc/self/exe`, `PR_SET_PDEATHSIG` and pidfds
//! (Linux 5.3; older kernels poll).

#![deny(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod collect;
mod connection;
mod crossing;
mod launch;
mod pools;
pub mod queue;
pub mod remote;
mod sharedctypes;
mod shm;
mod synchronize;
mod workers;

pub use connection::{Connection, Pipe};
pub use corun_core::{Error, ErrorKind};
pub use pools::imap::Imap;
pub use pools::pool::{Pool, PoolBuilder};
pub use pools::process_pool::{ProcessPoolBuilder, ProcessPoolExecutor};
pub use pools::settings::WorkerPoolBuilder;
pub use queue::{JoinableQueue, Queue, SimpleQueue};
pub use sharedctypes::array::{Array, ArrayGuard, RawArray};
pub use sharedctypes::value::{RawValue, Value, ValueGuard};
pub use shm::shared_memory::SharedMemory;
pub use synchronize::{
    AcquireError, Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard, Event,
    Lock, LockGuard, OwnerDied, RLock, RLockGuard, Semaphore, SemaphorePermit,
};
pub use workers::current::{ProcessInfo, cpu_count, current_process, parent_process};
pub use workers::init::init;
pub use workers::process::{Process, ProcessBuilder};

/// Internals for this crate's own tests (the worker handle, the cleanup
/// tracker's pid, fault injection in queues, the pools' pipelines); not
/// part of the API, and outside any stability promise.
#[cfg(feature = "__test-hooks")]
#[doc(hidden)]
pub mod test_hooks {
    pub use crate::pools::engine::Pipelines;
    pub use crate::queue::fault::{Fault, abort_inside_next, hang_inside_next};
    pub use crate::shm::tracker::tracker_pid;
    pub use crate::workers::worker::{
        Call, RecvError, Reply, Starting, Worker, WorkerOptions, describe_exit, exitcode,
    };
}
