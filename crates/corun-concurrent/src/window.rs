//! [`Window`]: the lazy, bounded window of tasks behind every executor's
//! `map` — `Executor::map` here, a process pool's `imap` and
//! `imap_unordered`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::error::Error;
use crate::task::Task;
use corun_core::deadline::{deadline, remaining};

/// Results of tasks submitted from an input iterator, at most `size` in
/// flight at once: the mechanism behind `map`, written once for every
/// executor.
///
/// Inputs are read lazily, a window's worth as soon as the window is made
/// and one more as each result is taken. Results come in input order
/// ([`ordered`](Self::ordered)) or as they complete
/// ([`unordered`](Self::unordered)). A submission that is refused ends the
/// iteration at its place: the tasks accepted before it are yielded, then
/// its error. A task that fails, or a wait past the deadline, is yielded as
/// an error, and the tasks still waiting are cancelled; so are they when
/// the window is dropped early.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{Submit, ThreadPoolExecutor, Window};
///
/// let pool = ThreadPoolExecutor::new();
/// let squares = Window::ordered(0..5, 2, |n: u64| pool.submit(move |()| n * n, ()), None);
/// let squares: Vec<u64> = squares.map(Result::unwrap).collect();
/// assert_eq!(squares, [0, 1, 4, 9, 16]);
/// ```
#[must_use = "the window's tasks are cancelled when it is dropped"]
pub struct Window<I, S, R> {
    inputs: I,
    submit: S,
    size: usize,
    order: Order<R>,
    deadline: Option<Instant>,
    /// A refused submission's error, yielded after the tasks before it.
    refused: Option<Error>,
    ended: bool,
}

/// What a [`Window`] submits with: it turns one input into a task. Any
/// `FnMut(A) -> Result<Task<R>, Error>` closure is one.
pub trait Submitter<A> {
    /// The tasks' value.
    type Output;

    /// Submits the work for `input`.
    ///
    /// # Errors
    ///
    /// The executor's refusal, which ends the window's iteration.
    fn submit(&mut self, input: A) -> Result<Task<Self::Output>, Error>;
}

impl<A, R, S> Submitter<A> for S
where
    S: FnMut(A) -> Result<Task<R>, Error>,
{
    type Output = R;

    fn submit(&mut self, input: A) -> Result<Task<R>, Error> {
        self(input)
    }
}

/// The tasks in flight, in the order their results are yielded.
enum Order<R> {
    Input(VecDeque<Task<R>>),
    Completion {
        tasks: HashMap<u64, Task<R>>,
        submitted: u64,
        done_tx: Sender<u64>,
        done_rx: Receiver<u64>,
    },
}

impl<I, S, R> Window<I, S, R>
where
    I: Iterator,
    S: Submitter<I::Item, Output = R>,
    R: Send + 'static,
{
    /// Results in input order (Python's `Executor.map`, `Pool.imap`): at
    /// most `size` (at least 1) tasks in flight, each made by `submit`;
    /// `timeout` is one deadline for the whole iteration, counted from
    /// now.
    pub fn ordered(inputs: I, size: usize, submit: S, timeout: Option<Duration>) -> Self {
        Self::new(inputs, size, submit, timeout, Order::Input(VecDeque::new()))
    }

    /// Results as the tasks complete (Python's `Pool.imap_unordered`); as
    /// [`ordered`](Self::ordered) otherwise.
    pub fn unordered(inputs: I, size: usize, submit: S, timeout: Option<Duration>) -> Self {
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let order = Order::Completion {
            tasks: HashMap::new(),
            submitted: 0,
            done_tx,
            done_rx,
        };
        Self::new(inputs, size, submit, timeout, order)
    }

    fn new(inputs: I, size: usize, submit: S, timeout: Option<Duration>, order: Order<R>) -> Self {
        let mut window = Self {
            inputs,
            submit,
            size: size.max(1),
            order,
            deadline: deadline(timeout),
            refused: None,
            ended: false,
        };
        window.refill();
        window
    }

    /// Submits inputs until the window is full or the inputs run out.
    fn refill(&mut self) {
        while self.refused.is_none() && self.order.len() < self.size {
            let Some(input) = self.inputs.next() else {
                break;
            };
            match self.submit.submit(input) {
                Ok(task) => self.order.push(task),
                Err(e) => self.refused = Some(e),
            }
        }
    }

    /// The next task's result, waiting until the deadline; `None` when no
    /// task is in flight.
    fn next_result(&mut self) -> Option<Result<R, Error>> {
        // No deadline waits forever: `Duration::MAX` is exactly that.
        let patience = remaining(self.deadline).unwrap_or(Duration::MAX);
        match &mut self.order {
            Order::Input(queue) => {
                let mut head = queue.pop_front()?;
                let result = head.result_timeout(patience);
                if result.is_err() {
                    head.cancel(); // past the deadline: it will not be waited for
                }
                Some(result)
            }
            Order::Completion { tasks, done_rx, .. } => {
                if tasks.is_empty() {
                    return None;
                }
                match done_rx.recv_timeout(patience) {
                    Ok(n) => tasks.remove(&n).map(Task::result),
                    Err(_) => Some(Err(Error::timeout())),
                }
            }
        }
    }
}

impl<R> Order<R> {
    fn len(&self) -> usize {
        match self {
            Self::Input(queue) => queue.len(),
            Self::Completion { tasks, .. } => tasks.len(),
        }
    }

    fn push(&mut self, task: Task<R>)
    where
        R: Send + 'static,
    {
        match self {
            Self::Input(queue) => queue.push_back(task),
            Self::Completion {
                tasks,
                submitted,
                done_tx,
                ..
            } => {
                let n = *submitted;
                *submitted += 1;
                let done = done_tx.clone();
                task.add_done_callback(move |_| {
                    let _ = done.send(n);
                });
                tasks.insert(n, task);
            }
        }
    }

    /// Cancels every task still in flight.
    fn cancel_all(&mut self) {
        match self {
            Self::Input(queue) => queue.drain(..).for_each(|task| {
                task.cancel();
            }),
            Self::Completion { tasks, .. } => tasks.drain().for_each(|(_, task)| {
                task.cancel();
            }),
        }
    }
}

impl<I, S, R> Iterator for Window<I, S, R>
where
    I: Iterator,
    S: Submitter<I::Item, Output = R>,
    R: Send + 'static,
{
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        match self.next_result() {
            Some(Ok(value)) => {
                self.refill();
                Some(Ok(value))
            }
            Some(Err(error)) => {
                self.ended = true;
                self.order.cancel_all();
                Some(Err(error))
            }
            None => {
                self.ended = true;
                self.refused.take().map(Err)
            }
        }
    }
}

impl<I, S, R> Drop for Window<I, S, R> {
    fn drop(&mut self) {
        self.order.cancel_all();
    }
}

impl<I, S, R> Window<I, S, R> {
    /// Writes the window's state as the fields of a `name` struct (the
    /// executors' `map` iterators show themselves so).
    pub(crate) fn describe(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("in_flight", &self.order.len())
            .field("window", &self.size)
            .field("ordered", &matches!(self.order, Order::Input(_)))
            .field("deadline", &self.deadline)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<I, S, R> fmt::Debug for Window<I, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.describe("Window", f)
    }
}
