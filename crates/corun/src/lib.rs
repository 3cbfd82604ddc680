//! corun: Python's concurrency toolkit, in Rust.
//!
//! The modules carry the names of the Python modules they stand for, and
//! their types the names of Python's classes, with Rust's shapes: guards
//! instead of `release()`, `Result` instead of exceptions, `Duration`
//! time-outs in `*_timeout` methods, builders for configuration.
//!
//! | Python               | corun                  |
//! |----------------------|------------------------|
//! | `threading`          | [`threading`]          |
//! | `queue`              | [`queue`]              |
//! | `concurrent.futures` | [`concurrent`]         |
//! | `multiprocessing`    | [`multiprocessing`]    |
//! | `asyncio`            | [`asyncio`]            |
//! | (timelines)          | [`trace`]              |
//!
//! ```
//! use corun::queue::Queue;
//! use corun::threading::{Lock, Thread};
//! use std::sync::Arc;
//!
//! let total = Arc::new(Lock::new(0_u64));
//! let work = Arc::new(Queue::new());
//! for n in 1..=100_u64 {
//!     work.put(n).unwrap();
//! }
//! work.shutdown(false); // workers drain what is left, then stop
//! let workers: Vec<_> = (0..4)
//!     .map(|_| {
//!         let (total, work) = (Arc::clone(&total), Arc::clone(&work));
//!         Thread::spawn(move || {
//!             while let Ok(n) = work.get() {
//!                 *total.acquire() += n;
//!             }
//!         })
//!         .unwrap()
//!     })
//!     .collect();
//! for w in workers {
//!     w.join().unwrap();
//! }
//! assert_eq!(*total.acquire(), 5050);
//! ```
//!
//! # Features
//!
//! Each module is a feature of its own, all on by default: `threading`,
//! `queue`, `concurrent`, `multiprocessing`, `asyncio` and `trace`. A program that
//! needs only threads and queues depends on
//! `corun = { version = "0.1", default-features = false, features = ["threading", "queue"] }`
//! and builds on any system; `multiprocessing` (which turns on
//! `concurrent`) is there on Linux only, and adds nothing elsewhere.
//! [`Error`] and [`ErrorKind`] are always there: every module reports its
//! failures with this one error type.

#![forbid(unsafe_code)]

#[doc(inline)]
pub use corun_core::{Error, ErrorKind};

/// Python's `threading`: [`Lock`](threading::Lock), [`RLock`](threading::RLock),
/// [`Condition`](threading::Condition), [`Semaphore`](threading::Semaphore),
/// [`BoundedSemaphore`](threading::BoundedSemaphore), [`Event`](threading::Event),
/// [`Barrier`](threading::Barrier), [`Timer`](threading::Timer),
/// [`Thread`](threading::Thread).
#[cfg(feature = "threading")]
pub mod threading {
    #[doc(inline)]
    pub use corun_threading::threading::*;
}

/// Python's `queue`: [`Queue`](queue::Queue), [`LifoQueue`](queue::LifoQueue),
/// [`PriorityQueue`](queue::PriorityQueue), [`SimpleQueue`](queue::SimpleQueue).
#[cfg(feature = "queue")]
pub mod queue {
    #[doc(inline)]
    pub use corun_threading::queue::*;
}

/// Python's `concurrent.futures`: [`Task`](concurrent::Task) (a `Future`),
/// [`Executor`](concurrent::Executor) and [`Submit`](concurrent::Submit),
/// [`ThreadPoolExecutor`](concurrent::ThreadPoolExecutor),
/// [`wait`](concurrent::wait), [`as_completed`](concurrent::as_completed).
#[cfg(feature = "concurrent")]
pub mod concurrent {
    #[doc(inline)]
    pub use corun_concurrent::*;
}

/// Python's `multiprocessing`: [`Process`](multiprocessing::Process),
/// [`Pool`](multiprocessing::Pool),
/// [`ProcessPoolExecutor`](multiprocessing::ProcessPoolExecutor), the
/// cross-process [`Queue`](multiprocessing::Queue) and
/// [`Pipe`](multiprocessing::Pipe),
/// [`SharedMemory`](multiprocessing::SharedMemory),
/// [`Value`](multiprocessing::Value) / [`Array`](multiprocessing::Array),
/// and process-shared [`Lock`](multiprocessing::Lock) and friends. A
/// program that starts processes or makes shared objects calls
/// [`init`](multiprocessing::init) first in `main` (test files:
/// [`enable_test_workers!`](multiprocessing::enable_test_workers)).
#[cfg(all(feature = "multiprocessing", target_os = "linux"))]
pub mod multiprocessing {
    #[doc(inline)]
    pub use corun_multiprocessing::*;
}

/// Python's `asyncio`: the [`EventLoop`](asyncio::EventLoop) on tokio with
/// Python's FIFO scheduling, [`run`](asyncio::run) and
/// [`Runner`](asyncio::Runner), [`Task`](asyncio::Task) (cancellable while
/// it runs), [`create_task`](asyncio::create_task), [`sleep`](asyncio::sleep),
/// `call_soon` / `call_later` / `call_soon_threadsafe`.
#[cfg(feature = "asyncio")]
pub mod asyncio {
    #[doc(inline)]
    pub use corun_asyncio::*;
}

/// Timelines of what an executor did: a [`Recorder`](trace::Recorder) given
/// to an executor's builder records every task, exported as Chrome trace
/// JSON or an SVG timing diagram with one lane per worker.
#[cfg(feature = "trace")]
pub mod trace {
    #[doc(inline)]
    pub use corun_trace::*;
}
