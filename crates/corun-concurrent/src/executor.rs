//! The `Executor` and `Submit` traits every corun executor implements.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::error::Error;
use crate::task::Task;
use crate::window::{Submitter, Window};

/// Something that runs submitted work and hands back [`Task`]s (Python's
/// `concurrent.futures.Executor`).
///
/// Submitting goes through [`Submit`], implemented for the kinds of function
/// each executor can run: any `FnOnce(A) -> R + Send` for threads; plain
/// functions with serialisable arguments and results for processes. Code
/// written against `E: Executor + Submit<F, A, R>` switches from threads to
/// processes by changing the line that builds the executor.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{Executor, Submit, ThreadPoolExecutor};
///
/// fn sum_of_squares<E: Executor + Submit<fn(u64) -> u64, u64, u64>>(pool: &E) -> u64 {
///     pool.map(square as fn(u64) -> u64, 1..=10).map(|r| r.unwrap()).sum()
/// }
/// fn square(x: u64) -> u64 { x * x }
///
/// let pool = ThreadPoolExecutor::builder().max_workers(2).build().unwrap();
/// assert_eq!(sum_of_squares(&pool), 385);
/// ```
pub trait Executor {
    /// How many tasks can run at once.
    fn max_workers(&self) -> usize;

    /// Stops taking work (Python's `shutdown(wait, cancel_futures)`).
    /// Work already submitted still runs unless `cancel_pending`, which
    /// cancels every task that has not started; running tasks are never
    /// interrupted. With `wait`, returns once every worker has finished,
    /// in every thread that calls it, even at the same time (a task that
    /// shuts down its own executor waits for the other workers only).
    /// Calling it again is harmless; dropping an executor shuts it down and
    /// waits.
    fn shutdown(&self, wait: bool, cancel_pending: bool);

    /// Runs `f` over `inputs`, yielding results in input order (Python's
    /// `Executor.map`). Work starts when `map` is called. Inputs are read
    /// lazily, with at most `256 × max_workers` tasks in flight (not done);
    /// a slow task does not stop the others: while the iterator waits for
    /// it, tasks behind it are submitted as others finish, and their
    /// results wait for their turn (see [`Window`], which bounds those
    /// too). So `map` keeps every worker busy, as submitting every input at
    /// once would, without reading the whole input.
    ///
    /// After the first error (a failed task, a refused submission) the
    /// iterator yields that error and ends, and the tasks still waiting are
    /// cancelled — as Python's map raises and its generator's cleanup
    /// cancels. Dropping the iterator early cancels the tasks that have not
    /// started.
    fn map<F, I, R>(&self, f: F, inputs: I) -> Map<'_, Self, F, I::IntoIter, R>
    where
        Self: Submit<F, I::Item, R> + Sized,
        F: Clone,
        I: IntoIterator,
        R: Send + 'static,
    {
        Map::new(self, f, inputs.into_iter(), None)
    }

    /// [`map`](Self::map) with one deadline for the whole map (Python's
    /// `map(fn, *iterables, timeout=t)`), counted from this call: when it
    /// passes, the next item is a time-out error
    /// ([`Error::is_timeout`]), and the map ends as after any error.
    ///
    /// ```
    /// use corun::concurrent::{Executor, ThreadPoolExecutor};
    /// use std::time::Duration;
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let slow = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    /// let mut results = pool.map_timeout(slow, [0, 500], Duration::from_millis(50));
    /// assert!(results.next().unwrap().is_ok());
    /// assert!(results.next().unwrap().unwrap_err().is_timeout());
    /// assert!(results.next().is_none());
    /// ```
    fn map_timeout<F, I, R>(
        &self,
        f: F,
        inputs: I,
        timeout: Duration,
    ) -> Map<'_, Self, F, I::IntoIter, R>
    where
        Self: Submit<F, I::Item, R> + Sized,
        F: Clone,
        I: IntoIterator,
        R: Send + 'static,
    {
        Map::new(self, f, inputs.into_iter(), Some(timeout))
    }
}

/// Submitting `f(arg)` to an executor that can run `F` (Python's
/// `submit(fn, arg)`). Pass a tuple for several arguments.
pub trait Submit<F, A, R>: Executor {
    /// Schedules `f(arg)` and returns its task.
    ///
    /// # Errors
    ///
    /// [`Error::is_shutdown`] after `shutdown`; [`Error::is_broken`] when the
    /// executor is broken.
    fn submit(&self, f: F, arg: A) -> Result<Task<R>, Error>;
}

/// How many tasks `map` keeps in flight (not done) per worker: enough that
/// workers find the next task queued while the consumer sleeps, and that a
/// process pool's queue never runs dry between the consumer's wake-ups (an
/// empty queue makes its supervisors stop writing calls ahead), so tiny
/// tasks cost what submitting them all at once does: measured within a
/// few percent on threads and processes, against 1.2–1.9 × with 64.
const IN_FLIGHT_PER_WORKER: usize = 256;

/// Results of [`Executor::map`], in input order: a [`Window`] of
/// `256 × max_workers` tasks in flight over the executor's `submit`.
#[must_use = "the map's tasks are cancelled when the iterator is dropped"]
pub struct Map<'a, E, F, I, R> {
    window: Window<I, SubmitTo<'a, E, F, R>, R>,
}

/// Submits `f(input)` to an executor, for [`Map`]'s window.
struct SubmitTo<'a, E, F, R> {
    executor: &'a E,
    f: F,
    returns: PhantomData<fn() -> R>,
}

impl<E, F, A, R> Submitter<A> for SubmitTo<'_, E, F, R>
where
    E: Submit<F, A, R>,
    F: Clone,
{
    type Output = R;

    fn submit(&mut self, input: A) -> Result<Task<R>, Error> {
        self.executor.submit(self.f.clone(), input)
    }
}

impl<'a, E, F, I, R> Map<'a, E, F, I, R>
where
    E: Submit<F, I::Item, R>,
    F: Clone,
    I: Iterator,
    R: Send + 'static,
{
    fn new(executor: &'a E, f: F, inputs: I, timeout: Option<Duration>) -> Self {
        let size = executor.max_workers().saturating_mul(IN_FLIGHT_PER_WORKER);
        let submit = SubmitTo {
            executor,
            f,
            returns: PhantomData,
        };
        Self {
            window: Window::ordered(inputs, size, submit, timeout),
        }
    }
}

impl<E, F, I, R> Iterator for Map<'_, E, F, I, R>
where
    E: Submit<F, I::Item, R>,
    F: Clone,
    I: Iterator,
    R: Send + 'static,
{
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.window.next()
    }
}

impl<E, F, I, R> fmt::Debug for Map<'_, E, F, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.window.describe("Map", f)
    }
}
