//! [`gather`]: run futures side by side as tasks and collect their results
//! in the order given (Python: `asyncio.gather`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use corun_core::Error;

use crate::task::{Task, create_task};
use crate::watch::Watch;

/// Runs each future as a task on the running loop and waits for them all
/// (Python: `await asyncio.gather(*aws)`).
///
/// | event                                   | `gather(..)`                 | `.return_exceptions()`       |
/// |-----------------------------------------|------------------------------|------------------------------|
/// | every child finished                    | `Ok(values)`, in input order | `Ok` of each, in input order |
/// | a child failed or was cancelled         | that error now; the others go on | its `Err` in its place   |
/// | the gather is dropped (its task cancelled) before done | every child not done is cancelled | the same |
///
/// As in Python, a failure does not cancel the siblings: they keep
/// running, and their later failures are marked retrieved (the loop does
/// not report them at close). Only cancelling the gather itself (cancelling
/// the task that awaits it, or dropping it) cancels its children.
///
/// Each future is wrapped in a task at once, as Python's `ensure_future`
/// wraps a coroutine, so the children start in the next iteration whether
/// or not the gather is awaited yet. An empty input gives `Ok(vec![])`.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{gather, run, sleep};
/// use std::time::Duration;
///
/// let values = run(async {
///     gather([3u64, 1, 2].map(|n| async move {
///         sleep(Duration::from_millis(n)).await;
///         n * 10
///     }))
///     .await
/// });
/// assert_eq!(values.unwrap().unwrap(), [30, 10, 20]); // input order, not finish order
/// ```
///
/// # Panics
///
/// Outside a running loop.
pub fn gather<I>(aws: I) -> Gather<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future + 'static,
    <I::Item as Future>::Output: 'static,
{
    gather_tasks(aws.into_iter().map(create_task).collect::<Vec<_>>())
}

/// [`gather`] over tasks made already (Python: `gather(*tasks)`, where
/// `ensure_future` leaves a task as it is): cancelling the gather cancels
/// them.
///
/// A task given twice shares its value with nobody: the second place gets
/// [`AlreadyTaken`](corun_core::ErrorKind::AlreadyTaken).
///
/// ```
/// use corun::asyncio::{create_task, gather_tasks, run};
///
/// let sum: u32 = run(async {
///     let tasks: Vec<_> = (1..=3).map(|n| create_task(async move { n })).collect();
///     gather_tasks(tasks).await.unwrap().into_iter().sum()
/// })
/// .unwrap();
/// assert_eq!(sum, 6);
/// ```
pub fn gather_tasks<T: 'static>(tasks: impl IntoIterator<Item = Task<T>>) -> Gather<T> {
    let children: Vec<Task<T>> = tasks.into_iter().collect();
    let watch = Watch::new();
    for (index, child) in children.iter().enumerate() {
        watch.add(index, &child.as_any(), true);
    }
    Gather {
        remaining: children.len(),
        children,
        watch,
        done: false,
    }
}

/// The future of [`gather`]: all the children's values in input order, or
/// the first failure.
#[must_use = "the children run anyway; await the gather for their results"]
pub struct Gather<T: 'static> {
    children: Vec<Task<T>>,
    watch: Watch,
    remaining: usize,
    done: bool,
}

/// The future of [`Gather::return_exceptions`]: every child's outcome in
/// input order.
#[must_use = "the children run anyway; await the gather for their results"]
pub struct GatherResults<T: 'static> {
    gather: Gather<T>,
}

impl<T: 'static> Gather<T> {
    /// Waits for every child whatever its outcome, and gives each child's
    /// `Result` in its place (Python: `gather(*aws, return_exceptions=True)`).
    /// A cancelled child gives a [`Cancelled`](corun_core::ErrorKind::Cancelled)
    /// error in its place; the gather itself fails only by being cancelled.
    ///
    /// ```
    /// use corun::asyncio::{gather, run};
    ///
    /// let results = run(async {
    ///     gather([1, 2, 3].map(|n| async move {
    ///         assert!(n != 2, "bad");
    ///         n
    ///     }))
    ///     .return_exceptions()
    ///     .await
    /// })
    /// .unwrap();
    /// assert_eq!(*results[0].as_ref().unwrap(), 1);
    /// assert_eq!(results[1].as_ref().unwrap_err().panic_message(), Some("bad"));
    /// assert_eq!(*results[2].as_ref().unwrap(), 3);
    /// ```
    pub fn return_exceptions(self) -> GatherResults<T> {
        GatherResults { gather: self }
    }

    /// The children, in input order.
    pub fn tasks(&self) -> &[Task<T>] {
        &self.children
    }

    /// Counts the children done since the last poll; with `fail_fast`,
    /// the first failure found is returned.
    fn poll_children(&mut self, cx: &Context<'_>, fail_fast: bool) -> Poll<Result<(), Error>> {
        while let Some(index) = self.watch.pop() {
            self.remaining -= 1;
            if fail_fast {
                let child = &self.children[index];
                if child.cancelled() {
                    self.done = true;
                    return Poll::Ready(Err(Error::cancelled()));
                }
                if let Ok(Some(error)) = child.exception() {
                    self.done = true;
                    return Poll::Ready(Err(error));
                }
            }
        }
        if self.remaining == 0 {
            self.done = true;
            return Poll::Ready(Ok(()));
        }
        self.watch.register(cx);
        Poll::Pending
    }
}

impl<T: 'static> Future for Gather<T> {
    type Output = Result<Vec<T>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.poll_children(cx, true) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Ready(Ok(())) => Poll::Ready(this.children.iter().map(Task::take).collect()),
        }
    }
}

impl<T: 'static> Future for GatherResults<T> {
    type Output = Vec<Result<T, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.get_mut().gather;
        match this.poll_children(cx, false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(this.children.iter().map(Task::take).collect()),
        }
    }
}

impl<T: 'static> Drop for Gather<T> {
    /// A gather dropped before it is done was cancelled: so are its
    /// children not done yet. A gather done (even by a failure) leaves
    /// them running.
    fn drop(&mut self) {
        if !self.done {
            for child in &self.children {
                child.cancel();
            }
        }
    }
}

impl<T: 'static> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.children.len())
            .field("remaining", &self.remaining)
            .field("done", &self.done)
            .finish()
    }
}

impl<T: 'static> fmt::Debug for GatherResults<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherResults")
            .field("gather", &self.gather)
            .finish()
    }
}
