//! Python's `concurrent.futures`, in Rust.
//!
//! | Python `concurrent.futures`              | corun                                           |
//! |------------------------------------------|-------------------------------------------------|
//! | `Future`                                 | [`Task<T>`] (also a Rust `Future`: `.await` it) |
//! | `future.result(timeout)`                 | [`Task::result`], [`Task::result_timeout`]      |
//! | `future.cancel()`, `cancelled()`, `running()`, `done()` | the same names on [`Task`]       |
//! | `future.add_done_callback(fn)`           | [`Task::add_done_callback`]                     |
//! | `Executor.submit(fn, arg)`, `map`, `shutdown` | [`Submit::submit`], [`Executor::map`], [`Executor::shutdown`] |
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)` | [`ThreadPoolExecutor::builder`] |
//! | `wait(fs, timeout, return_when)`         | [`wait()`] with [`ReturnWhen`]                  |
//! | `as_completed(fs, timeout)`              | [`as_completed()`]                              |
//! | `CancelledError`, `TimeoutError`, `BrokenExecutor` | [`Error::is_cancelled`], [`Error::is_timeout`], [`Error::is_broken`] |
//! | (none: threads cannot be stopped)        | [`CancelToken`], polled by the task             |
//!
//! # Building an executor
//!
//! Every corun executor — the thread pool here, the process pools of
//! `corun::multiprocessing`, and those still to come — is made of the same
//! parts, public so that an executor outside this crate is made of them
//! too: a [`Task`] and its [`Promise`] per job (the state machine, cancel
//! rules and done-callbacks); an [`Intake`], its queue of jobs and whether
//! it still takes them (submit, shutdown, broken); a [`Window`] behind
//! `map` (lazy input, a bounded number in flight, one deadline); and an
//! [`Observer`] it reports each task to (`corun::trace::Recorder` draws the
//! timeline). Failures are corun's one [`Error`].
//!
//! Beyond Python: a panicking task fails only its own [`Task`] and its
//! worker goes on; a panicking done-callback is caught and reported;
//! `map` reads its input lazily, with a bounded number of tasks in flight
//! that a slow task does not hold up; and a pool thread that waits on a
//! task runs the pool's queued tasks meanwhile, so a task may wait on
//! sub-tasks of its own pool without deadlocking it (see
//! [`ThreadPoolExecutor`] for what still can).
//!
//! ```
//! use corun::concurrent::{Executor, ThreadPoolExecutor};
//!
//! let pool = ThreadPoolExecutor::new();
//! let total: u64 = pool.map(|n: u64| n * n, 0..1000).map(Result::unwrap).sum();
//! assert_eq!(total, 332_833_500);
//! ```

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod as_completed;
mod cancel_token;
mod error;
mod executor;
mod help;
mod intake;
mod observer;
mod signal;
mod task;
mod thread_pool;
mod wait;
mod window;

pub use as_completed::{AsCompleted, as_completed};
pub use cancel_token::CancelToken;
pub use error::{Error, ErrorKind};
pub use executor::{Executor, Map, Submit};
pub use intake::Intake;
pub use observer::{Observer, Outcome, TaskId};
pub use task::{Promise, Task};
pub use thread_pool::{ThreadPoolBuilder, ThreadPoolExecutor};
pub use wait::{ReturnWhen, Waited, wait};
pub use window::{Submitter, Window};
