//! [`gather()`]: run futures side by side as tasks and collect their results
//! in the order given (Python: `asyncio.gather`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use corun_core::Error;

use crate::task::{AnyTask, Task, create_task};
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
/// the task that awaits it, or dropping it) cancels its children; a
/// cancelled task that awaited a gather ends once its children have, as in
/// Python.
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

/// [`gather()`] over tasks made already (Python: `gather(*tasks)`, where
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
    Gather {
        core: Core::new(tasks.into_iter().collect()),
    }
}

/// The future of [`gather()`]: all the children's values in input order, or
/// the first failure.
#[must_use = "the children run anyway; await the gather for their results"]
pub struct Gather<T: 'static> {
    core: Core<Task<T>>,
}

/// What a gather needs of a child: a [`Task`], or an [`AnyTask`] (for
/// [`gather!`](crate::gather!)).
trait Child {
    fn erased(&self) -> AnyTask;
    fn is_cancelled(&self) -> bool;
    fn failure(&self) -> Option<Error>;
    fn cancel_child(&self);
}

impl<T: 'static> Child for Task<T> {
    fn erased(&self) -> AnyTask {
        self.as_any()
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled()
    }
    fn failure(&self) -> Option<Error> {
        self.exception().ok().flatten()
    }
    fn cancel_child(&self) {
        self.as_any().cancel_owned();
    }
}

impl Child for AnyTask {
    fn erased(&self) -> AnyTask {
        self.clone()
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled()
    }
    fn failure(&self) -> Option<Error> {
        self.exception().ok().flatten()
    }
    fn cancel_child(&self) {
        self.cancel_owned();
    }
}

/// The children of a gather, and how many are still to finish.
struct Core<C: Child> {
    children: Vec<C>,
    watch: Watch,
    remaining: usize,
    done: bool,
}

impl<C: Child> Core<C> {
    fn new(children: Vec<C>) -> Self {
        let watch = Watch::new();
        for (index, child) in children.iter().enumerate() {
            watch.add(index, &child.erased(), true);
        }
        Self {
            remaining: children.len(),
            children,
            watch,
            done: false,
        }
    }

    /// Counts the children done since the last poll; with `fail_fast`,
    /// the first failure found is returned.
    fn poll_children(&mut self, cx: &Context<'_>, fail_fast: bool) -> Poll<Result<(), Error>> {
        while let Some(index) = self.watch.pop() {
            self.remaining -= 1;
            if fail_fast {
                let child = &self.children[index];
                if child.is_cancelled() {
                    self.done = true;
                    return Poll::Ready(Err(Error::cancelled()));
                }
                if let Some(error) = child.failure() {
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

impl<C: Child> Drop for Core<C> {
    /// A gather dropped before it is done was cancelled: so are its
    /// children not done yet. A gather done (even by a failure) leaves
    /// them running.
    fn drop(&mut self) {
        if !self.done {
            for child in &self.children {
                child.cancel_child();
            }
        }
    }
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
        &self.core.children
    }
}

impl<T: 'static> Future for Gather<T> {
    type Output = Result<Vec<T>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &mut self.get_mut().core;
        match core.poll_children(cx, true) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Ready(Ok(())) => Poll::Ready(core.children.iter().map(Task::take).collect()),
        }
    }
}

impl<T: 'static> Future for GatherResults<T> {
    type Output = Vec<Result<T, Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &mut self.get_mut().gather.core;
        match core.poll_children(cx, false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(core.children.iter().map(Task::take).collect()),
        }
    }
}

impl<T: 'static> fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.core.children.len())
            .field("remaining", &self.core.remaining)
            .field("done", &self.core.done)
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

/// Gathers futures with different outputs (Python: `asyncio.gather(*aws)`
/// over any awaitables): `gather!(a, b, c)` is a future of
/// `Result<(A, B, C), Error>`, with [`gather()`]'s rules.
///
/// Each future becomes a task at once (the children run whether or not the
/// gather is awaited); their values come back in input order; the first
/// failure (a panic, or a child cancelled) comes back at once and the
/// others keep running; dropping the gather before it is done (cancelling
/// the task that awaits it) cancels the children not done. A [`Task`]
/// given is one child like any other future: awaited by its own task.
///
/// ```
/// use corun::asyncio::{gather, run, sleep}; // the function and the macro
/// use std::time::Duration;
///
/// let (n, s, v) = run(async {
///     gather!(
///         async {
///             sleep(Duration::from_millis(1)).await;
///             1
///         },
///         async { "two" },
///         async { vec![3.0] },
///     )
///     .await
/// })
/// .unwrap()
/// .unwrap();
/// assert_eq!((n, s, v), (1, "two", vec![3.0]));
/// ```
///
/// # Panics
///
/// Outside a running loop.
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_impl!([] $($future),+)
    };
}

/// The steps of [`gather!`]: names each child (`task`, one per expansion,
/// told apart by hygiene), then gathers them.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_impl {
    ([$($task:ident = $future:expr;)*] $next:expr $(, $rest:expr)*) => {
        $crate::__gather_impl!([$($task = $future;)* task = $next;] $($rest),*)
    };
    ([$($task:ident = $future:expr;)*]) => {{
        $(let $task = $crate::create_task($future);)*
        let all = $crate::__private::gather_all(::std::vec![$($task.as_any()),*]);
        async move {
            all.await?;
            ::std::result::Result::Ok::<_, $crate::Error>(($($task.await?,)*))
        }
    }};
}

/// The erased gather behind [`gather!`]: its children's outcomes stay in
/// their tasks.
#[doc(hidden)]
#[must_use = "the children run anyway; await the gather for their results"]
pub struct GatherAll {
    core: Core<AnyTask>,
}

/// [`gather_tasks`] over tasks of any outputs; resolves to `Ok(())` once
/// all finished, or to the first failure.
#[doc(hidden)]
pub fn gather_all(tasks: Vec<AnyTask>) -> GatherAll {
    GatherAll {
        core: Core::new(tasks),
    }
}

impl Future for GatherAll {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().core.poll_children(cx, true)
    }
}

impl fmt::Debug for GatherAll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("children", &self.core.children.len())
            .field("remaining", &self.core.remaining)
            .finish()
    }
}
