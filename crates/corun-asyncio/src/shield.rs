//! [`shield`]: await a task without passing a cancel on to it (Python:
//! `asyncio.shield`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use corun_core::Error;

use crate::task::{Task, create_task};

/// Runs `future` as a task and gives a future of its outcome that can be
/// cancelled (dropped) while the task goes on (Python:
/// `await asyncio.shield(aw)`).
///
/// When the task that awaits the shield is cancelled, the shield is
/// dropped at its await point and the inner task keeps running; the loop
/// holds it until it is done, and [`Shield::task`] reaches it. Only a
/// cancel of the inner task itself stops it (the shield then gives a
/// [`Cancelled`](corun_core::ErrorKind::Cancelled) error).
///
/// # Examples
///
/// ```
/// use corun::asyncio::{create_task, run, shield, sleep};
/// use std::time::Duration;
///
/// let value = run(async {
///     let shielded = shield(async {
///         sleep(Duration::from_millis(2)).await;
///         "saved"
///     });
///     let inner = shielded.task().clone();
///     let outer = create_task(shielded);
///     sleep(Duration::ZERO).await;
///     outer.cancel(); // drops the shield, not the inner task
///     assert!(outer.await.unwrap_err().is_cancelled());
///     inner.await.unwrap()
/// });
/// assert_eq!(value.unwrap(), "saved");
/// ```
///
/// # Panics
///
/// Outside a running loop.
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shield {
        task: create_task(future),
    }
}

/// The future of [`shield`]: the inner task's outcome.
#[must_use = "the inner task runs anyway; await the shield for its outcome"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T: 'static> Shield<T> {
    /// The inner task, which a cancel of the shield leaves running.
    pub fn task(&self) -> &Task<T> {
        &self.task
    }
}

impl<T: 'static> Future for Shield<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Not awaited as a `Task` is: dropping the shield on a cancel must
        // not pass the cancel on.
        self.task.poll_unlinked(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield").field("task", &self.task).finish()
    }
}
