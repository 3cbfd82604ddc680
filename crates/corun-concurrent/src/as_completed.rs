//! `as_completed`: Python's `concurrent.futures.as_completed`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::signal::Signal;
use crate::task::Task;
use corun_core::deadline::deadline;

/// Yields tasks — from any mix of executors — as they become done: first
/// those already done, then the rest in completion order (Python's
/// `concurrent.futures.as_completed`). `timeout` is one deadline for the
/// whole iteration; when it passes first, the iterator yields one time-out
/// error and ends.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{ThreadPoolExecutor, as_completed};
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::new();
/// let slow = pool.spawn(|| { std::thread::sleep(Duration::from_millis(50)); "slow" }).unwrap();
/// let fast = pool.spawn(|| "fast").unwrap();
/// let order: Vec<_> = as_completed([slow, fast], None)
///     .map(|t| t.unwrap().result().unwrap())
///     .collect();
/// assert_eq!(order, ["fast", "slow"]);
/// ```
pub fn as_completed<T>(
    tasks: impl IntoIterator<Item = Task<T>>,
    timeout: Option<Duration>,
) -> AsCompleted<T> {
    let tasks: Vec<Option<Task<T>>> = tasks.into_iter().map(Some).collect();
    let signal = Signal::new();
    let mut ready = VecDeque::new();
    for (i, task) in tasks.iter().enumerate() {
        if task.as_ref().is_some_and(|t| t.watch(&signal, i)) {
            ready.push_back(i);
        }
    }
    AsCompleted {
        remaining: tasks.len(),
        tasks,
        ready,
        signal,
        deadline: deadline(timeout),
        ended: false,
    }
}

/// The iterator of [`as_completed`].
#[must_use = "iterators are lazy"]
pub struct AsCompleted<T> {
    tasks: Vec<Option<Task<T>>>,
    /// Indices done before the iteration began.
    ready: VecDeque<usize>,
    signal: Arc<Signal>,
    remaining: usize,
    deadline: Option<Instant>,
    ended: bool,
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Result<Task<T>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended || self.remaining == 0 {
            return None;
        }
        loop {
            let index = match self.ready.pop_front() {
                Some(i) => i,
                None => match self.signal.next(self.deadline) {
                    Some(i) => i,
                    None => {
                        self.ended = true;
                        return Some(Err(Error::timeout()));
                    }
                },
            };
            if let Some(task) = self.tasks[index].take() {
                self.remaining -= 1;
                return Some(Ok(task));
            }
        }
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
