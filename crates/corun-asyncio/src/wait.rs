//! [`wait`] and [`as_completed`]: wait on tasks without taking their
//! results (Python: `asyncio.wait`, `asyncio.as_completed`).
//!
//! Neither cancels anything: a time-out only stops the waiting, and the
//! tasks go on.

use std::collections::HashSet;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use corun_core::Error;

use crate::event_loop::EventLoop;
use crate::task::{AnyTask, Task, expect_loop};
use crate::watch::{Alarm, Watch};

/// What [`wait`] and [`as_completed`] take and give back: a [`Task`] of
/// any output, or an [`AnyTask`].
pub trait Waitable: Clone {
    /// The same task, its output type erased.
    fn as_any_task(&self) -> AnyTask;
}

impl<T: 'static> Waitable for Task<T> {
    fn as_any_task(&self) -> AnyTask {
        self.as_any()
    }
}

impl Waitable for AnyTask {
    fn as_any_task(&self) -> AnyTask {
        self.clone()
    }
}

/// When [`wait`] returns (Python: `asyncio.FIRST_COMPLETED`,
/// `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task is done.
    FirstCompleted,
    /// As soon as any task fails (a cancelled task is not a failure), or
    /// when all are done.
    FirstException,
    /// When all are done.
    AllCompleted,
}

/// Waits until the tasks are done as `return_when` says, or until
/// `timeout` passes, and returns `(done, pending)` (Python:
/// `asyncio.wait(tasks, timeout=, return_when=)`).
///
/// Both lists keep the input order; a task given twice is counted once.
/// Nothing is cancelled, and a time-out is no error: it just leaves tasks
/// in `pending`.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{ReturnWhen, create_task, run, sleep, wait};
/// use std::time::Duration;
///
/// let (done, pending) = run(async {
///     let quick = create_task(async { 1 });
///     let slow = create_task(sleep(Duration::from_secs(3600)));
///     let (done, pending) = wait([quick.as_any(), slow.as_any()], ReturnWhen::FirstCompleted, None)
///         .await
///         .unwrap();
///     slow.cancel();
///     (done.len(), pending.len())
/// })
/// .unwrap();
/// assert_eq!((done, pending), (1, 1));
/// ```
///
/// # Errors
///
/// [`InvalidArgument`](corun_core::ErrorKind::InvalidArgument) for no
/// tasks at all (Python: `ValueError`).
///
/// # Panics
///
/// Outside a running loop.
pub async fn wait<W: Waitable>(
    tasks: impl IntoIterator<Item = W>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Result<(Vec<W>, Vec<W>), Error> {
    let tasks = dedup(tasks);
    if tasks.is_empty() {
        return Err(Error::invalid_argument("wait() needs at least one task"));
    }
    let event_loop = expect_loop("wait");
    let alarm = alarm_after(&event_loop, timeout);
    let watch = Watch::new();
    for (index, task) in tasks.iter().enumerate() {
        watch.add(index, &task.as_any_task(), false);
    }
    let mut remaining = tasks.len();
    std::future::poll_fn(|cx| {
        while let Some(index) = watch.pop() {
            remaining -= 1;
            // As Python, only FIRST_EXCEPTION asks for (and so retrieves)
            // a failure.
            let failed = || {
                let task = tasks[index].as_any_task();
                !task.cancelled() && matches!(task.exception(), Ok(Some(_)))
            };
            if remaining == 0
                || return_when == ReturnWhen::FirstCompleted
                || (return_when == ReturnWhen::FirstException && failed())
            {
                return Poll::Ready(());
            }
        }
        if alarm.fired() {
            return Poll::Ready(());
        }
        watch.register(cx);
        alarm.register(cx);
        Poll::Pending
    })
    .await;
    drop(alarm);
    Ok(tasks.into_iter().partition(|t| t.as_any_task().done()))
}

/// The tasks as they finish, as a [`Stream`] (Python 3.13:
/// `async for task in asyncio.as_completed(tasks, timeout=)`).
///
/// Each item is a task that is done (await it, or ask its
/// [`result`](Task::result), for its outcome): first those done already,
/// in input order, then the others as they finish. A task given twice
/// comes once. When `timeout` passes before all are done, the stream gives
/// one [`Timeout`](corun_core::ErrorKind::Timeout) error and ends; the
/// tasks left go on.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{as_completed, create_task, run, sleep};
/// use futures_core::Stream;
/// use std::pin::pin;
/// use std::time::Duration;
///
/// let order = run(async {
///     let tasks: Vec<_> = [3u64, 1, 2]
///         .into_iter()
///         .map(|n| create_task(async move {
///             sleep(Duration::from_millis(n)).await;
///             n
///         }))
///         .collect();
///     let mut stream = pin!(as_completed(tasks, None));
///     let mut order = Vec::new();
///     while let Some(task) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
///         order.push(task.unwrap().await.unwrap());
///     }
///     order
/// })
/// .unwrap();
/// assert_eq!(order, [1, 2, 3]);
/// ```
///
/// # Panics
///
/// Outside a running loop, when given a `timeout`.
pub fn as_completed<W: Waitable>(
    tasks: impl IntoIterator<Item = W>,
    timeout: Option<Duration>,
) -> AsCompleted<W> {
    let tasks = dedup(tasks);
    let watch = Watch::new();
    for (index, task) in tasks.iter().enumerate() {
        watch.add(index, &task.as_any_task(), false);
    }
    let alarm = match timeout {
        Some(_) => alarm_after(&expect_loop("as_completed"), timeout),
        None => Alarm::unset(),
    };
    AsCompleted {
        remaining: tasks.len(),
        tasks: tasks.into_iter().map(Some).collect(),
        watch,
        alarm,
        ended: false,
    }
}

/// The stream of [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<W> {
    tasks: Vec<Option<W>>,
    watch: Watch,
    alarm: Alarm,
    remaining: usize,
    ended: bool,
}

impl<W: Waitable> AsCompleted<W> {
    /// How many tasks the stream has still to give.
    pub fn remaining(&self) -> usize {
        self.remaining
    }
}

impl<W: Waitable> Stream for AsCompleted<W> {
    type Item = Result<W, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        if let Some(index) = this.watch.pop() {
            this.remaining -= 1;
            if this.remaining == 0 {
                this.ended = true;
                this.alarm.cancel();
            }
            return Poll::Ready(this.tasks[index].take().map(Ok));
        }
        if this.remaining == 0 {
            this.ended = true;
            return Poll::Ready(None);
        }
        if this.alarm.fired() {
            this.ended = true;
            this.watch.clear();
            return Poll::Ready(Some(Err(Error::timeout())));
        }
        this.watch.register(cx);
        this.alarm.register(cx);
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.ended {
            (0, Some(0))
        } else {
            (0, Some(self.remaining + 1))
        }
    }
}

/// The tasks are never pinned: they are handles, moved out when done.
impl<W> Unpin for AsCompleted<W> {}

impl<W> fmt::Debug for AsCompleted<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("ended", &self.ended)
            .finish()
    }
}

/// The tasks with repeats left out, in input order.
fn dedup<W: Waitable>(tasks: impl IntoIterator<Item = W>) -> Vec<W> {
    let mut seen = HashSet::new();
    tasks
        .into_iter()
        .filter(|t| seen.insert(t.as_any_task()))
        .collect()
}

/// An alarm `timeout` from now on `event_loop`; none for `None`.
pub(crate) fn alarm_after(event_loop: &EventLoop, timeout: Option<Duration>) -> Alarm {
    match timeout {
        Some(timeout) => Alarm::at(event_loop, event_loop.time() + timeout.as_secs_f64()),
        None => Alarm::unset(),
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::Poll;
    use std::time::Duration;

    use futures_core::Stream;

    use super::{ReturnWhen, as_completed, wait};
    use crate::{create_task, run, sleep, wait_for};

    // Repeated waits with time-outs on a long-lived task (a common polling
    // loop) leave no callbacks behind on it: each wait removes its own.
    #[test]
    fn waits_remove_their_callbacks() {
        run(async {
            let long = create_task(sleep(Duration::from_secs(3600)));
            let any = long.as_any();
            for _ in 0..50 {
                let (done, _) = wait(
                    [any.clone()],
                    ReturnWhen::FirstCompleted,
                    Some(Duration::ZERO),
                )
                .await
                .unwrap();
                assert!(done.is_empty());
                let mut stream = as_completed([any.clone()], Some(Duration::ZERO));
                let next =
                    std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await;
                assert!(next.unwrap().unwrap_err().is_timeout());
                let quick = create_task(async { 1 });
                assert_eq!(
                    wait_for(quick, Some(Duration::from_secs(1)))
                        .await
                        .unwrap()
                        .unwrap(),
                    1
                );
            }
            assert_eq!(any.callback_count(), 0);
            // A wait dropped before it is done removes them too.
            let pending = wait([any.clone()], ReturnWhen::AllCompleted, None);
            let mut pending = Box::pin(pending);
            let _ = std::future::poll_fn(|cx| Poll::Ready(pending.as_mut().poll(cx))).await;
            assert_eq!(any.callback_count(), 1);
            drop(pending);
            assert_eq!(any.callback_count(), 0);
            long.cancel();
        })
        .unwrap();
    }
}
