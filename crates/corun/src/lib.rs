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
//! | Node `events`, pyee  | [`events`]             |
//! | `reactivex` (RxPY)   | [`reactive`]           |
//! | PyOpenCL, PyCUDA     | [`gpu`]                |
//! | Ray, Dask, Celery    | `cluster` (opt-in)     |
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
//! `queue`, `concurrent`, `multiprocessing`, `asyncio`, `events`, `reactive`,
//! `gpu` and `trace`; and
//! `macros`, [`#[corun::main]`](main). `cluster` (the process pool's
//! tasks on many machines, through NATS JetStream) is opt-in: it brings a
//! network client along. A program that
//! needs only threads and queues depends on
//! `corun = { version = "0.1", default-features = false, features = ["threading", "queue"] }`
//! and builds on any system; `multiprocessing` (which turns on
//! `concurrent`) is there on Linux only, and adds nothing elsewhere.
//! [`Error`] and [`ErrorKind`] are always there: every module reports its
//! failures with this one error type.

#![forbid(unsafe_code)]

/// Runs an `async fn main` on the [`asyncio`] event loop, after
/// [`multiprocessing::init`] (Python: `asyncio.run(main())` under
/// `if __name__ == "__main__":`), like `#[tokio::main]`.
///
/// The function becomes a plain `fn main` that first calls
/// `multiprocessing::init()` (when that feature is on), so that a worker
/// process started from this binary serves its parent and never runs the
/// body; then it runs the body with [`asyncio::run`], which cancels the
/// tasks left behind and closes the loop (joining its default executor's
/// threads) before `main` returns. A panic in the body is `main`'s panic.
/// `main` may return a `Result`, and use `?`.
///
/// ```standalone_crate
/// use corun::asyncio::{run_in_executor, sleep};
/// use corun::multiprocessing::ProcessPoolExecutor;
/// use std::time::Duration;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// #[corun::main]
/// async fn main() -> Result<(), corun::Error> {
///     let pool = ProcessPoolExecutor::builder().max_workers(2).build()?;
///     let calls: Vec<_> = (1..=3)
///         .map(|x| run_in_executor(&pool, square as fn(u64) -> u64, x))
///         .collect();
///     sleep(Duration::from_millis(1)).await; // the loop goes on meanwhile
///     let mut squares = Vec::new();
///     for call in calls {
///         squares.push(call.await?);
///     }
///     assert_eq!(squares, [1, 4, 9]);
///     Ok(())
/// }
/// ```
///
/// A panic in the body fails `main` as a panic in a plain `main` does:
///
/// ```should_panic
/// #[corun::main]
/// async fn main() {
///     corun::asyncio::sleep(std::time::Duration::ZERO).await;
///     panic!("the loop's main failed");
/// }
/// ```
///
/// It refuses, at compile time and saying why, a function that is not
/// `async`:
///
/// ```compile_fail
/// #[corun::main]
/// fn main() {}
/// ```
///
/// one that takes arguments (read them with `std::env::args()`):
///
/// ```compile_fail
/// #[corun::main]
/// async fn main(args: Vec<String>) {}
/// ```
///
/// and one that is generic:
///
/// ```compile_fail
/// #[corun::main]
/// async fn main<T>() {}
/// ```
#[cfg(feature = "macros")]
pub use corun_macros::main;

/// What `#[corun::main]` expands to call; not an API.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod __private {
    use std::future::Future;
    use std::pin::Pin;

    /// Turns this process into a worker if it was started as one.
    pub fn main_prologue() {
        #[cfg(all(feature = "multiprocessing", target_os = "linux"))]
        crate::multiprocessing::init();
    }

    /// Runs `main`'s body on a new loop; its panic is `main`'s, without a
    /// second message (the panic hook reported it where it happened).
    pub fn block_on<T: 'static>(body: Pin<Box<dyn Future<Output = T>>>) -> T {
        match crate::asyncio::run(body) {
            Ok(value) => value,
            Err(error) if error.kind() == crate::ErrorKind::Panicked => {
                let message = error.panic_message().unwrap_or("main panicked").to_owned();
                std::panic::resume_unwind(Box::new(message))
            }
            Err(error) => panic!("#[corun::main]: {error}"),
        }
    }
}

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
/// `call_soon` / `call_later` / `call_soon_threadsafe`; bridges to the
/// executors: [`to_thread`](asyncio::to_thread),
/// [`run_in_executor`](asyncio::run_in_executor),
/// [`wrap_future`](asyncio::wrap_future),
/// [`run_coroutine_threadsafe`](asyncio::run_coroutine_threadsafe); and
/// [`#[corun::main]`](main).
#[cfg(feature = "asyncio")]
pub mod asyncio {
    #[doc(inline)]
    pub use corun_asyncio::*;
}

/// Node's and pyee's event emitters: [`EventEmitter`](events::EventEmitter)
/// (any thread) and [`LocalEmitter`](events::LocalEmitter) (one thread),
/// typed payloads, snapshot emits, the `error` event that catches
/// panicking listeners, async listeners as tasks on the [`asyncio`] loop,
/// [`once`](events::once()) as a future and [`on`](events::on()) as a
/// `Stream`.
#[cfg(feature = "events")]
pub mod events {
    #[doc(inline)]
    pub use corun_events::*;
}

/// RxPY's reactive streams: [`Observable`](reactive::Observable) with the
/// Rx contract enforced by construction, operators as chained methods and
/// in [`pipe`](reactive::Observable::pipe) form ([`op`](reactive::op)),
/// [`Subject`](reactive::Subject) and its kin, schedulers on the thread
/// pool and the event loop, and the virtual-time
/// [`TestScheduler`](reactive::TestScheduler) for marble tests.
#[cfg(feature = "reactive")]
pub mod reactive {
    #[doc(inline)]
    pub use corun_reactive::*;
}

/// GPU offload through OpenCL, loaded at run time (PyOpenCL, PyCUDA):
/// [`devices`](gpu::devices) and [`default_device`](gpu::default_device),
/// the [`GpuExecutor`](gpu::GpuExecutor) whose launches, reads and writes
/// return [`concurrent::Task`]s, typed device [`Buffer`](gpu::Buffer)s,
/// [`Program`](gpu::Program)s built from OpenCL C and their
/// [`Kernel`](gpu::Kernel)s. Builds without any OpenCL SDK; a machine
/// without OpenCL gets no devices and a clear error.
#[cfg(feature = "gpu")]
pub mod gpu {
    #[doc(inline)]
    pub use corun_gpu::*;
}

/// The process pool's `fn(A) -> R` tasks on many machines, through a NATS
/// server with JetStream: the [`ClusterExecutor`](cluster::ClusterExecutor)
/// submits them and hands back [`concurrent::Task`]s, and the workers are
/// this same binary, started with a cluster URL
/// ([`worker_from_env`](cluster::worker_from_env)), each running its tasks
/// in a local process pool. Opt-in feature `cluster`; Linux only.
#[cfg(all(feature = "cluster", target_os = "linux"))]
pub mod cluster {
    #[doc(inline)]
    pub use corun_cluster::*;
}

/// Timelines of what an executor did: a [`Recorder`](trace::Recorder) given
/// to an executor's builder records every task, exported as Chrome trace
/// JSON or an SVG timing diagram with one lane per worker.
#[cfg(feature = "trace")]
pub mod trace {
    #[doc(inline)]
    pub use corun_trace::*;
}
