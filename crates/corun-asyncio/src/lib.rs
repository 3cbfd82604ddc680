//! Python's `asyncio` event loop and tasks, in Rust, on tokio.
//!
//! | Python `asyncio`                              | corun                                        |
//! |-----------------------------------------------|----------------------------------------------|
//! | `asyncio.run(main())`                         | [`run`]                                      |
//! | `asyncio.Runner()`                            | [`Runner`] (closes when dropped)             |
//! | `asyncio.new_event_loop()`                    | [`EventLoop::new`]                           |
//! | `asyncio.get_running_loop()`                  | [`get_running_loop`]                         |
//! | `loop.run_until_complete`, `run_forever`, `stop`, `close` | the same names on [`EventLoop`]  |
//! | `loop.call_soon`, `call_later`, `call_at`, `time` | the same names; [`Handle`], [`TimerHandle`] |
//! | `loop.call_soon_threadsafe`                   | [`LoopHandle::call_soon_threadsafe`] (`loop.handle()`) |
//! | `loop.set_exception_handler`, `set_debug`     | [`EventLoop::set_exception_handler`] with [`ExceptionContext`], [`EventLoop::set_debug`] |
//! | `asyncio.create_task(coro, name=)`            | [`create_task`], [`create_task_named`]       |
//! | `asyncio.Task`                                | [`Task<T>`] (a `Future`: `.await` it), [`AnyTask`] |
//! | `task.cancel()`, `cancelling()`, `uncancel()` | the same names on [`Task`]                   |
//! | `asyncio.current_task()`, `all_tasks()`       | [`current_task`], [`all_tasks`]              |
//! | `asyncio.sleep(delay)`, `sleep(0)`            | [`sleep`], `sleep(Duration::ZERO)`           |
//! | `CancelledError`, `InvalidStateError`         | [`Error::is_cancelled`], [`ErrorKind::InvalidState`] |
//! | `asyncio.open_connection(host, port)`         | [`open_connection`]                          |
//! | `asyncio.start_server(cb, host, port)`, `Server` | [`start_server`], [`Server`] (`start_serving=False`: [`Server::bind`]) |
//! | `StreamReader.read`, `readline`, `readexactly`, `readuntil`, `at_eof` | the same names on [`StreamReader`]; `read(-1)` is [`StreamReader::read_to_end`] |
//! | `StreamWriter.write`, `drain`, `close`, `wait_closed`, `is_closing` | the same names on [`StreamWriter`] |
//! | `writer.get_extra_info("peername")`           | [`StreamWriter::peername`]                   |
//! | `IncompleteReadError`, `LimitOverrunError`    | [`ReadError::Incomplete`], [`ReadError::LimitOverrun`] |
//!
//! The loop runs tasks and callbacks in Python's order: one FIFO ready
//! queue of callbacks and task steps, each iteration running exactly what
//! was ready when it began, timers by deadline. Tokio underneath (a
//! current-thread runtime, no second runtime, no thread of its own) drives
//! sockets and timers; tokio's types work inside tasks.
//!
//! Beyond Python: the loop holds every task until it is done (no "Task was
//! destroyed but it is pending!" because a reference was dropped); a task
//! failure nobody retrieved is reported when the loop closes, not whenever
//! the garbage collector runs; a panicking task fails only itself and a
//! panicking callback reaches the exception handler, while the loop goes
//! on; running a loop inside another (or inside a tokio runtime) is an
//! [`InvalidState`](ErrorKind::InvalidState) error, not a panic; and
//! timers due at the same time run in the order they were scheduled.
//!
//! Cancelling a task that is suspended drops its future at the await point
//! where it waits, so its `Drop` guards run, as Python's `CancelledError`
//! runs `finally` blocks; unlike Python, the task cannot refuse.
//!
//! ```
//! use corun::asyncio::{create_task, run, sleep};
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let l = log.clone();
//! run(async move {
//!     let tasks: Vec<_> = ["A", "B"]
//!         .into_iter()
//!         .map(|name| {
//!             let log = l.clone();
//!             create_task(async move {
//!                 for i in 0..2 {
//!                     log.borrow_mut().push(format!("{name}{i}"));
//!                     sleep(Duration::ZERO).await;
//!                 }
//!             })
//!         })
//!         .collect();
//!     for task in tasks {
//!         task.await.unwrap();
//!     }
//! })
//! .unwrap();
//! assert_eq!(*log.borrow(), ["A0", "B0", "A1", "B1"]);
//! ```

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod core;
mod event_loop;
mod exception;
mod handle;
mod remote;
mod runner;
mod server;
mod sleep;
mod streams;
mod task;
mod time;

pub use corun_core::{Error, ErrorKind};
pub use event_loop::{EventLoop, get_running_loop};
pub use exception::ExceptionContext;
pub use handle::{Handle, TimerHandle};
pub use remote::LoopHandle;
pub use runner::{Runner, run};
pub use server::{Server, start_server};
pub use sleep::{Sleep, sleep};
pub use streams::{DEFAULT_LIMIT, ReadError, StreamReader, StreamWriter, open_connection};
pub use task::{AnyTask, Task, all_tasks, create_task, create_task_named, current_task};
