//! `wait`: Python's `concurrent.futures.wait`.

use std::time::Duration;

use corun_core::deadline::deadline;

use crate::signal::Signal;
use crate::task::Task;

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any task is done (finished or cancelled).
    FirstCompleted,
    /// As soon as any task fails (an error, not a cancellation); when none
    /// does, once all are done.
    FirstException,
    /// Once every task is done.
    #[default]
    AllCompleted,
}

/// The tasks given to [`wait`], split by whether they were done when it
/// returned; each side keeps the input order.
#[derive(Debug)]
pub struct Waited<T> {
    /// Finished or cancelled.
    pub done: Vec<Task<T>>,
    /// Still pending or running.
    pub not_done: Vec<Task<T>>,
}

/// Waits for tasks — from any mix of executors — until `return_when` holds
/// or `timeout` passes, then hands them back split into done and not done
/// (Python's `concurrent.futures.wait`). It never fails: on time-out, the
/// split says how far things got.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{ReturnWhen, ThreadPoolExecutor, Task, wait};
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::new();
/// let quick = pool.spawn(|| 1).unwrap();
/// let (never, _promise) = Task::pending(); // nobody will complete this one
/// let w = wait([quick, never], Some(Duration::from_millis(50)), ReturnWhen::AllCompleted);
/// assert_eq!((w.done.len(), w.not_done.len()), (1, 1));
/// ```
pub fn wait<T>(
    tasks: impl IntoIterator<Item = Task<T>>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> Waited<T> {
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    let deadline = deadline(timeout);
    let signal = Signal::new();
    let mut done = vec![false; tasks.len()];
    let mut count = 0;
    let mut failed = false;
    for (i, task) in tasks.iter().enumerate() {
        if task.watch(&signal, i) {
            done[i] = true;
            count += 1;
            failed |= task.failed();
        }
    }
    let satisfied = |count: usize, failed: bool| match return_when {
        ReturnWhen::FirstCompleted => count > 0 || tasks.is_empty(),
        ReturnWhen::FirstException => failed || count == tasks.len(),
        ReturnWhen::AllCompleted => count == tasks.len(),
    };
    while !satisfied(count, failed) {
        let Some(i) = signal.next(deadline) else {
            break; // timed out
        };
        if !done[i] {
            done[i] = true;
            count += 1;
            failed |= tasks[i].failed();
        }
    }
    let mut waited = Waited {
        done: Vec::with_capacity(count),
        not_done: Vec::with_capacity(tasks.len() - count),
    };
    for task in tasks {
        // A task may have finished since the last signal: ask it.
        if task.done() {
            waited.done.push(task);
        } else {
            waited.not_done.push(task);
        }
    }
    waited
}
