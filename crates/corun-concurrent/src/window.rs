//! [`Window`]: the lazy, bounded window of tasks behind every executor's
//! `map` — `Executor::map` here, a process pool's `imap` and
//! `imap_unordered`.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corun_core::deadline::{deadline, remaining};

use crate::error::Error;
use crate::signal::Signal;
use crate::task::Task;

/// How many tasks a [`Window`] holds, done or not, per task it lets be in
/// flight: past a slow task, the workers go on with up to this many times
/// the window's in-flight tasks, whose results wait for their turn.
const HELD_PER_IN_FLIGHT: usize = 16;

/// Results of tasks submitted from an input iterator, read lazily with a
/// bounded number of tasks at once: the mechanism behind `map`, written
/// once for every executor.
///
/// The window is measured in work in flight, not in results waiting: it
/// keeps up to `in_flight` tasks not yet done, and a slow task does not
/// hold the others up — while the consumer waits for it, the window hears
/// the tasks behind it finish and submits more in their place, holding
/// their results until their turn, up to 16 × `in_flight` tasks held in
/// all. So the workers stay busy past a slow head, as when every input is
/// submitted at once, and memory stays bounded, whatever the input's
/// length.
///
/// Results come in input order ([`ordered`](Self::ordered)) or as they
/// complete ([`unordered`](Self::unordered)). A submission that is refused
/// ends the iteration at its place: the tasks accepted before it are
/// yielded, then its error. A task that fails, or a wait past the
/// deadline, is yielded as an error, and the tasks still waiting are
/// cancelled; so are they when the window is dropped early.
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
    inputs: std::iter::Fuse<I>,
    submit: S,
    /// The most tasks not known to be done at once.
    in_flight: usize,
    /// The most tasks held at once, done or not: finished results wait
    /// here for their turn.
    held: usize,
    tasks: Tasks<R>,
    /// Hears the tasks being watched finish, by number.
    signal: Arc<Signal>,
    /// The number the next task submitted gets.
    next_number: usize,
    /// Tasks held and not known to be done.
    undone: usize,
    deadline: Option<Instant>,
    /// A refused submission's error, yielded after the tasks before it.
    refused: Option<Error>,
    /// The inputs ran out.
    exhausted: bool,
    /// The oldest task last waited for alone (see [`HEAD_PATIENCE`]).
    waited_for: Option<usize>,
    /// Whether to yield a few times for the oldest task before sleeping:
    /// only while tasks are that short (see [`SPIN_WORTH`]).
    spin: bool,
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

/// The tasks held, in the order their results are yielded.
enum Tasks<R> {
    /// Input order: `first` is the number of the oldest. Tasks are watched
    /// only once the consumer would wait for the oldest (most are done by
    /// then), from `unwatched` on.
    Input {
        slots: VecDeque<Slot<R>>,
        first: usize,
        unwatched: usize,
    },
    /// Completion order: every task is watched as it is submitted, and
    /// `done` lists the numbers of those finished, in the order they did.
    Completion {
        slots: HashMap<usize, Task<R>>,
        done: VecDeque<usize>,
    },
}

struct Slot<R> {
    task: Task<R>,
    /// Counted done (not in `undone`).
    done: bool,
}

impl<I, S, R> Window<I, S, R>
where
    I: Iterator,
    S: Submitter<I::Item, Output = R>,
    R: Send + 'static,
{
    /// Results in input order (Python's `Executor.map`, `Pool.imap`): at
    /// most `in_flight` (at least 1) tasks not done at once, each made by
    /// `submit`, and finished results held until their turn (up to 16 ×
    /// `in_flight`); `timeout` is one deadline
    /// for the whole iteration, counted from now.
    pub fn ordered(inputs: I, in_flight: usize, submit: S, timeout: Option<Duration>) -> Self {
        let tasks = Tasks::Input {
            slots: VecDeque::new(),
            first: 0,
            unwatched: 0,
        };
        Self::new(inputs, in_flight, submit, timeout, tasks)
    }

    /// Results as the tasks complete (Python's `Pool.imap_unordered`); as
    /// [`ordered`](Self::ordered) otherwise.
    pub fn unordered(inputs: I, in_flight: usize, submit: S, timeout: Option<Duration>) -> Self {
        let tasks = Tasks::Completion {
            slots: HashMap::new(),
            done: VecDeque::new(),
        };
        Self::new(inputs, in_flight, submit, timeout, tasks)
    }

    fn new(
        inputs: I,
        in_flight: usize,
        submit: S,
        timeout: Option<Duration>,
        tasks: Tasks<R>,
    ) -> Self {
        let in_flight = in_flight.max(1);
        let mut window = Self {
            inputs: inputs.fuse(),
            submit,
            in_flight,
            held: in_flight.saturating_mul(HELD_PER_IN_FLIGHT),
            tasks,
            signal: Signal::new(),
            next_number: 0,
            undone: 0,
            deadline: deadline(timeout),
            refused: None,
            exhausted: false,
            waited_for: None,
            spin: true,
            ended: false,
        };
        window.refill();
        window
    }

    /// Submits inputs while fewer than `in_flight` tasks are not done and
    /// fewer than `held` are held, until the inputs run out.
    fn refill(&mut self) {
        while self.can_submit() && self.undone < self.in_flight {
            let Some(input) = self.inputs.next() else {
                self.exhausted = true;
                break;
            };
            match self.submit.submit(input) {
                Ok(task) => self.push(task),
                Err(e) => self.refused = Some(e),
            }
        }
    }

    /// Whether more inputs may be submitted once tasks finish: none was
    /// refused, the inputs are not all read, and the window holds room.
    fn can_submit(&self) -> bool {
        self.refused.is_none() && !self.exhausted && self.tasks.len() < self.held
    }

    fn push(&mut self, task: Task<R>) {
        let number = self.next_number;
        self.next_number += 1;
        match &mut self.tasks {
            Tasks::Input { slots, .. } => {
                self.undone += 1;
                slots.push_back(Slot { task, done: false });
            }
            Tasks::Completion { slots, done } => {
                if task.watch(&self.signal, number) {
                    done.push_back(number);
                } else {
                    self.undone += 1;
                }
                slots.insert(number, task);
            }
        }
    }

    /// The next task's result, waiting until the deadline; `None` when no
    /// task is held.
    fn next_result(&mut self) -> Option<Result<R, Error>> {
        loop {
            // What to wait for when no result is ready: the oldest task in
            // input order, or half the tasks in flight, to submit more in
            // their place in one go; any task in completion order.
            let (count, key) = match &mut self.tasks {
                Tasks::Input { slots, first, .. } => {
                    let head = slots.front()?;
                    if head.done || head.task.done() {
                        let head = slots.pop_front()?;
                        *first += 1;
                        if !head.done {
                            self.undone -= 1;
                        }
                        return Some(head.task.result());
                    }
                    let head = *first;
                    if self.spin {
                        if slots.front().is_some_and(|h| spin_until_done(&h.task)) {
                            continue;
                        }
                        // Tasks take longer than a few yields: yielding
                        // would only take CPU from the workers.
                        self.spin = false;
                    }
                    if self.waited_for != Some(head) {
                        // Give the oldest a moment alone: most tasks take
                        // less, and hearing every task finish costs each a
                        // notice; only a slow one is worth that.
                        self.waited_for = Some(head);
                        if slots
                            .front()
                            .is_some_and(|h| h.task.watch(&self.signal, head))
                        {
                            continue; // done as it was watched
                        }
                        let start = Instant::now();
                        let moment = start + HEAD_PATIENCE;
                        let until = self.deadline.map_or(moment, |d| d.min(moment));
                        for number in self.signal.take(usize::MAX, Some(head), Some(until)) {
                            self.finished(number);
                        }
                        // A head done within a few yields' time: spin for
                        // the next rather than sleep.
                        self.spin = start.elapsed() < SPIN_WORTH;
                        continue;
                    }
                    // The oldest is not done: keep the workers busy past
                    // it, and hear which of the others finish meanwhile.
                    let held = self.tasks.len();
                    self.watch_unwatched();
                    self.refill();
                    if self.tasks.len() > held || self.tasks.head_done() {
                        // Watch the new ones before waiting; or the head
                        // finished as it was watched.
                        continue;
                    }
                    if self.can_submit() {
                        // Every task in flight is counted not done: hear
                        // half of them finish, then submit as many again.
                        // The head is most likely among them.
                        ((self.in_flight / 2).max(1), None)
                    } else {
                        (usize::MAX, Some(head))
                    }
                }
                Tasks::Completion { slots, done } => {
                    if let Some(number) = done.pop_front() {
                        let task = slots.remove(&number)?;
                        return Some(task.result());
                    }
                    if slots.is_empty() {
                        return None;
                    }
                    (1, None)
                }
            };
            if remaining(self.deadline).is_some_and(|left| left.is_zero()) {
                return Some(Err(Error::timeout()));
            }
            for number in self.signal.take(count, key, self.deadline) {
                self.finished(number);
            }
        }
    }

    /// Watches the tasks in input order not watched yet; counts those
    /// already done.
    fn watch_unwatched(&mut self) {
        let Tasks::Input {
            slots,
            first,
            unwatched,
        } = &mut self.tasks
        else {
            return;
        };
        let from = unwatched.saturating_sub(*first);
        for (slot, number) in slots.iter_mut().zip(*first..).skip(from) {
            if !slot.done && slot.task.watch(&self.signal, number) {
                slot.done = true;
                self.undone -= 1;
            }
        }
        *unwatched = *first + slots.len();
    }

    /// Task `number` was heard finishing.
    fn finished(&mut self, number: usize) {
        match &mut self.tasks {
            Tasks::Input { slots, first, .. } => {
                let slot = number
                    .checked_sub(*first)
                    .and_then(|index| slots.get_mut(index));
                if let Some(slot) = slot.filter(|s| !s.done) {
                    slot.done = true;
                    self.undone -= 1;
                }
            }
            Tasks::Completion { done, .. } => {
                done.push_back(number);
                self.undone -= 1;
            }
        }
    }
}

/// How long the consumer waits for the oldest task alone before it hears
/// every task in flight finish, to submit more in their place: tasks
/// shorter than this never pay for being heard.
const HEAD_PATIENCE: Duration = Duration::from_millis(1);

/// A wait for the oldest task shorter than this says tasks are short
/// enough that yielding a few times would have found it done.
const SPIN_WORTH: Duration = Duration::from_micros(250);

/// How many times the consumer yields, looking at the oldest task between
/// yields, before it watches the tasks and sleeps: tiny tasks finish within
/// a few yields, and a sleep and its wake-up cost far more.
const HEAD_YIELDS: usize = 16;

/// Whether `task` is done within [`HEAD_YIELDS`] yields of the CPU.
fn spin_until_done<R>(task: &Task<R>) -> bool {
    (0..HEAD_YIELDS).any(|_| {
        std::thread::yield_now();
        task.done()
    })
}

impl<R> Tasks<R> {
    fn len(&self) -> usize {
        match self {
            Self::Input { slots, .. } => slots.len(),
            Self::Completion { slots, .. } => slots.len(),
        }
    }

    /// Whether the oldest task in input order was counted done.
    fn head_done(&self) -> bool {
        matches!(self, Self::Input { slots, .. } if slots.front().is_some_and(|s| s.done))
    }

    /// Cancels every task still held.
    fn cancel_all(&mut self) {
        match self {
            Self::Input { slots, .. } => slots.drain(..).for_each(|slot| {
                slot.task.cancel();
            }),
            Self::Completion { slots, .. } => slots.drain().for_each(|(_, task)| {
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
                self.tasks.cancel_all();
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
        self.tasks.cancel_all();
    }
}

impl<I, S, R> Window<I, S, R> {
    /// Writes the window's state as the fields of a `name` struct (the
    /// executors' `map` iterators show themselves so).
    pub(crate) fn describe(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("held", &self.tasks.len())
            .field("not_done", &self.undone)
            .field("in_flight", &self.in_flight)
            .field("ordered", &matches!(self.tasks, Tasks::Input { .. }))
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
