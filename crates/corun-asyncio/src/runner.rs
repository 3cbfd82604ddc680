//! [`run`] and [`Runner`]: a loop for the length of a program's async part
//! (Python: `asyncio.run`, `asyncio.Runner`).

use std::fmt;
use std::future::Future;

use corun_core::Error;

use crate::event_loop::EventLoop;

/// Runs `future` on a new loop, then cancels the tasks it left behind,
/// waits for their cleanup, and closes the loop (Python: `asyncio.run`).
///
/// Closing reports, through the loop's exception handler, each task that
/// failed without anyone retrieving its error. No thread is left behind:
/// the loop runs on the calling thread.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{create_task, run, sleep};
/// use std::time::Duration;
///
/// let answer = run(async {
///     let _forgotten = create_task(sleep(Duration::from_secs(3600))); // cancelled at the end
///     42
/// });
/// assert_eq!(answer.unwrap(), 42);
/// ```
///
/// # Errors
///
/// The future's own error (a panic, a cancel), or
/// [`InvalidState`](corun_core::ErrorKind::InvalidState) when called inside
/// a running loop (or a tokio runtime); [`Io`](corun_core::ErrorKind::Io)
/// if the loop cannot be made.
pub fn run<F>(future: F) -> Result<F::Output, Error>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut runner = Runner::new()?;
    let output = runner.run(future);
    runner.close()?;
    output
}

/// A loop that runs several top-level futures in turn, and closes when
/// dropped (Python 3.11: `asyncio.Runner`, a context manager).
///
/// # Examples
///
/// ```
/// use corun::asyncio::Runner;
///
/// let runner = Runner::new().unwrap();
/// assert_eq!(runner.run(async { 1 }).unwrap(), 1);
/// assert_eq!(runner.run(async { 2 }).unwrap(), 2);
/// let event_loop = runner.get_loop().clone();
/// drop(runner); // closes the loop
/// assert!(event_loop.is_closed());
/// ```
pub struct Runner {
    event_loop: EventLoop,
}

impl Runner {
    /// A runner with a new loop.
    ///
    /// # Errors
    ///
    /// [`Io`](corun_core::ErrorKind::Io) if the loop cannot be made.
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            event_loop: EventLoop::new()?,
        })
    }

    /// The runner's loop (Python: `Runner.get_loop()`): to set its debug
    /// mode or exception handler, say.
    pub fn get_loop(&self) -> &EventLoop {
        &self.event_loop
    }

    /// Runs `future` to completion on the runner's loop (Python:
    /// `Runner.run(coro)`); tasks it leaves pending stay for the next
    /// `run`, or are cancelled at [`close`](Self::close).
    ///
    /// # Errors
    ///
    /// As [`EventLoop::run_until_complete`].
    pub fn run<F>(&self, future: F) -> Result<F::Output, Error>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.event_loop.run_until_complete(future)
    }

    /// Cancels the tasks still pending, runs the loop until they are done
    /// (their cleanup runs), and closes the loop (Python:
    /// `Runner.close()`). Closing twice does nothing.
    ///
    /// # Errors
    ///
    /// [`InvalidState`](corun_core::ErrorKind::InvalidState) if called
    /// while the loop runs (from inside one of its tasks).
    pub fn close(&mut self) -> Result<(), Error> {
        let event_loop = &self.event_loop;
        if event_loop.is_closed() {
            return Ok(());
        }
        let pending = event_loop.all_tasks();
        if !pending.is_empty() && !event_loop.is_running() {
            for task in &pending {
                task.cancel();
            }
            // An error here (another loop runs on this thread) leaves the
            // drops to `close`, which does them without running the loop.
            let _ = event_loop.run_until_complete(async move {
                for task in &pending {
                    task.wait_done().await;
                }
            });
        }
        event_loop.close()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("event_loop", &self.event_loop)
            .finish()
    }
}
