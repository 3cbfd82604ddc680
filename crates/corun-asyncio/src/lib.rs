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
//! | `task.add_done_callback(fn)`, `remove_done_callback(fn)` | the same names on [`Task`], with a [`CallbackId`] |
//! | `asyncio.current_task()`, `all_tasks()`       | [`current_task`], [`all_tasks`]              |
//! | `asyncio.sleep(delay)`, `sleep(0)`            | [`sleep`], `sleep(Duration::ZERO)`           |
//! | `CancelledError`, `InvalidStateError`         | [`Error::is_cancelled`], [`ErrorKind::InvalidState`] |
//! | `asyncio.to_thread(func)`                     | [`to_thread`] (the loop's default `ThreadPoolExecutor`) |
//! | `loop.run_in_executor(None, func)`            | [`EventLoop::to_thread`]                     |
//! | `loop.run_in_executor(executor, func, arg)`   | [`run_in_executor`], [`EventLoop::run_in_executor`]: any corun executor |
//! | `asyncio.wrap_future(future)`                 | [`wrap_future`] → [`WrappedTask`]            |
//! | `asyncio.run_coroutine_threadsafe(coro, loop)` | [`run_coroutine_threadsafe`], [`LoopHandle::spawn_threadsafe`] → `corun::concurrent::Task` |
//! | (the future `run_coroutine_threadsafe` chains) | [`Task::into_concurrent`]                   |
//! | `asyncio.gather(*aws)`                        | [`gather()`] (futures), [`gather_tasks`] (tasks): a [`Gather`] |
//! | `gather(*aws, return_exceptions=True)`        | [`Gather::return_exceptions`]                |
//! | `gather(a, b, c)` of different result types   | [`gather!`]`(a, b, c)` → `Result<(A, B, C), Error>` |
//! | `asyncio.wait(aws, timeout=, return_when=)`   | [`wait`] with [`ReturnWhen`]                 |
//! | `async for t in asyncio.as_completed(aws, timeout=)` | [`as_completed`]: a `Stream` ([`AsCompleted`]) |
//! | `asyncio.wait_for(aw, timeout)`               | [`wait_for`]                                 |
//! | `async with asyncio.timeout(d) as cm:`, `timeout_at(when)` | [`timeout`], [`timeout_at`]: `cm.run(body).await` ([`Timeout`]) |
//! | `asyncio.shield(aw)`                          | [`shield`] ([`Shield`])                      |
//! | `async with asyncio.TaskGroup() as tg:`       | [`TaskGroup`]: `tg.run(body).await`, `tg.wait().await` |
//! | a child calling `tg.create_task(coro)`        | [`TaskGroup::handle`] → [`TaskGroupHandle`]  |
//! | `ExceptionGroup`                              | [`ErrorKind::Group`], [`Error::errors`]      |
//! | (a timeline of task steps, e.g. `viztracer`)  | [`EventLoop::set_recorder`] with `corun::trace::Recorder` |
//! | `Lock()`, `async with lock`                   | [`Lock<T>`], `let g = lock.acquire().await;` ([`LockGuard`]) |
//! | `Event()`, `set`, `clear`, `is_set`, `wait`   | [`Event`]                                    |
//! | `Condition()`, `wait`, `wait_for`, `notify(n)`, `notify_all` | [`Condition<T>`], [`ConditionGuard`] (`guard = guard.wait().await`) |
//! | `Semaphore(n)`, `BoundedSemaphore(n)`         | [`Semaphore`], [`BoundedSemaphore`], [`SemaphorePermit`] (RAII) |
//! | `Barrier(parties)`, `wait`, `reset`, `abort`  | [`Barrier`] (`reset`, `abort` need no await) |
//! | `BrokenBarrierError`, `ValueError` (over-release) | [`Error::is_broken_barrier`], [`Error::is_over_release`] |
//! | `Queue(maxsize)`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] ([`GenericQueue`]) |
//! | `await q.put(x)`, `q.put_nowait(x)`           | `q.put(x).await`, [`try_put`](GenericQueue::try_put) |
//! | `await q.get()`, `q.get_nowait()`             | `q.get().await`, [`try_get`](GenericQueue::try_get) |
//! | `task_done()`, `await join()`, `shutdown(immediate)` | the same names                        |
//! | `QueueFull`, `QueueEmpty`, `QueueShutDown`    | [`PutError::Full`], [`GetError::Empty`], `ShutDown` variants (as `corun::queue`) |
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
//! Across threads and processes: [`run_in_executor`] takes any corun
//! executor, and a process pool's worker that dies fails only its await;
//! an asyncio task seen as a `corun::concurrent::Task`
//! ([`Task::into_concurrent`], [`run_coroutine_threadsafe`]) can be
//! cancelled from another thread while it runs, and fails with
//! [`ShutDown`](ErrorKind::ShutDown) if its loop closes first, where
//! Python's future would wait forever.
//!
//! Cancelling a task that is suspended drops its future at the await point
//! where it waits, so its `Drop` guards run, as Python's `CancelledError`
//! runs `finally` blocks; unlike Python, the task cannot refuse. As in
//! Python, the cancel reaches a [`Task`] it awaits there (not one behind
//! [`shield`]), and the task ends once that one is done.
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

mod bridges;
mod core;
mod deadline;
mod event_loop;
mod exception;
mod gather;
mod handle;
mod locks;
mod queues;
mod remote;
mod runner;
mod server;
mod shield;
mod sleep;
mod streams;
mod task;
mod task_group;
mod time;
mod timeouts;
mod trace;
mod wait;
mod waiters;
mod watch;

pub use bridges::{WrappedTask, run_coroutine_threadsafe, run_in_executor, to_thread, wrap_future};
pub use corun_core::{Error, ErrorKind};
pub use corun_threading::queue::{GetError, Prioritized, PutError};
pub use event_loop::{EventLoop, get_running_loop};
pub use exception::ExceptionContext;
pub use gather::{Gather, GatherResults, gather, gather_tasks};

/// What the macros of this crate expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::gather::{GatherAll, gather_all};
}
pub use handle::{Handle, TimerHandle};
pub use locks::{
    Barrier, BarrierWait, BoundedSemaphore, Condition, ConditionAcquire, ConditionGuard,
    ConditionWait, Event, EventWait, Lock, LockAcquire, LockGuard, Semaphore, SemaphoreAcquire,
    SemaphorePermit,
};
pub use queues::storage;
pub use queues::{GenericQueue, LifoQueue, PriorityQueue, Queue, QueueGet, QueueJoin, QueuePut};
pub use remote::LoopHandle;
pub use runner::{Runner, run};
pub use server::{Server, start_server};
pub use shield::{Shield, shield};
pub use sleep::{Sleep, sleep};
pub use streams::{DEFAULT_LIMIT, ReadError, StreamReader, StreamWriter, open_connection};
pub use task::{
    AnyTask, CallbackId, Task, all_tasks, create_task, create_task_named, current_task,
};
pub use task_group::{TaskGroup, TaskGroupHandle};
pub use timeouts::{Timeout, timeout, timeout_at, wait_for};
pub use wait::{AsCompleted, ReturnWhen, Waitable, as_completed, wait};
