//! The iterator behind [`Executor::map`](crate::Executor::map).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::executor::Submit;
use crate::task::Task;
use corun_core::deadline::{deadline, remaining};

/// Results of [`Executor::map`](crate::Executor::map), in input order.
#[must_use = "the map's tasks are cancelled when the iterator is dropped"]
pub struct Map<'a, E, F, I, R> {
    executor: &'a E,
    f: F,
    inputs: I,
    in_flight: VecDeque<Task<R>>,
    window: usize,
    deadline: Option<Instant>,
    /// The error to yield next, after which the map ends.
    failure: Option<Error>,
    ended: bool,
}

impl<'a, E, F, I, R> Map<'a, E, F, I, R>
where
    E: Submit<F, I::Item, R>,
    F: Clone,
    I: Iterator,
{
    pub(crate) fn new(executor: &'a E, f: F, inputs: I, timeout: Option<Duration>) -> Self {
        let window = executor.max_workers().saturating_mul(2).max(1);
        let mut map = Self {
            executor,
            f,
            inputs,
            in_flight: VecDeque::with_capacity(window),
            window,
            deadline: deadline(timeout),
            failure: None,
            ended: false,
        };
        map.refill();
        map
    }

    /// Submits inputs until the window is full or the inputs run out; a
    /// refused submission ends the map at its place in input order: the
    /// tasks already accepted are yielded first, then the error.
    fn refill(&mut self) {
        while self.failure.is_none() && self.in_flight.len() < self.window {
            let Some(arg) = self.inputs.next() else {
                break;
            };
            match self.executor.submit(self.f.clone(), arg) {
                Ok(task) => self.in_flight.push_back(task),
                Err(e) => self.failure = Some(e),
            }
        }
    }

    /// Ends the map with `error` as its last item; cancels what waits.
    fn fail(&mut self, error: Error) {
        for task in self.in_flight.drain(..) {
            task.cancel();
        }
        self.failure = Some(error);
    }
}

impl<E, F, I, R> Iterator for Map<'_, E, F, I, R>
where
    E: Submit<F, I::Item, R>,
    F: Clone,
    I: Iterator,
{
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let Some(mut head) = self.in_flight.pop_front() else {
            self.ended = true;
            return self.failure.take().map(Err);
        };
        // No deadline waits forever: `Duration::MAX` is exactly that.
        let result = head.result_timeout(remaining(self.deadline).unwrap_or(Duration::MAX));
        match result {
            Ok(value) => {
                self.refill();
                Some(Ok(value))
            }
            Err(error) => {
                head.cancel();
                self.fail(error);
                self.ended = true;
                self.failure.take().map(Err)
            }
        }
    }
}

impl<E, F, I, R> Drop for Map<'_, E, F, I, R> {
    fn drop(&mut self) {
        for task in &self.in_flight {
            task.cancel();
        }
    }
}

impl<E, F, I, R> fmt::Debug for Map<'_, E, F, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("in_flight", &self.in_flight.len())
            .field("window", &self.window)
            .field("deadline", &self.deadline)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}
