//! [`Barrier`]: Python's `asyncio.Barrier`, reusable and breakable.
//!
//! Each waiter of the filling round keeps its own arrival record, whose
//! outcome is set once: `Passed(index)` when the last party arrives,
//! `Broken` by `abort` or `reset`. A waiter returns the outcome of its own
//! record however late it runs, and the next round fills meanwhile. Python
//! instead holds new arrivals back until the released round has drained,
//! and lets an `abort` reach waiters that were released but have not run
//! yet; corun keeps a released waiter released (as
//! `corun::threading::Barrier` does).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use corun_core::Error;

/// A barrier for a fixed number of tasks of one event loop (Python 3.11's
/// `asyncio.Barrier`).
///
/// Each of `parties` tasks awaits [`wait`](Self::wait); all go on together
/// when the last arrives, each with a distinct index in `0..parties`
/// (arrival order; the last to arrive gets `parties - 1` and does not
/// wait). The barrier then fills again for the next round.
///
/// [`abort`](Self::abort) *breaks* the barrier: every current and later
/// waiter gets an error for which [`Error::is_broken_barrier`] is true
/// (Python: `BrokenBarrierError`), until [`reset`](Self::reset), which
/// also breaks the current waiters out. A waiter whose task is cancelled
/// leaves the round without breaking it (as in Python).
///
/// # Examples
///
/// ```
/// use corun::asyncio::{Barrier, create_task, run};
/// use std::rc::Rc;
///
/// run(async {
///     let barrier = Rc::new(Barrier::new(3).unwrap());
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = Rc::clone(&barrier);
///             create_task(async move { barrier.wait().await.unwrap() })
///         })
///         .collect();
///     let mut indices = Vec::new();
///     for task in tasks {
///         indices.push(task.await.unwrap());
///     }
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]);
/// })
/// .unwrap();
/// ```
pub struct Barrier {
    parties: usize,
    state: RefCell<State>,
}

/// The future of [`Barrier::wait`]: this task's index, or the error of a
/// broken barrier.
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    arrival: Option<Rc<Arrival>>,
}

#[derive(Debug, Default)]
struct State {
    broken: bool,
    /// The round filling now, in arrival order.
    waiting: Vec<Rc<Arrival>>,
}

/// One waiter's record.
#[derive(Debug, Default)]
struct Arrival {
    outcome: Cell<Option<Outcome>>,
    waker: RefCell<Option<Waker>>,
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Passed(usize),
    Broken,
}

impl Barrier {
    /// A barrier for `parties` tasks (Python's `Barrier(parties)`).
    ///
    /// # Errors
    ///
    /// An [invalid argument](Error::is_invalid_argument) when `parties`
    /// is 0 (Python: `ValueError`).
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Barrier::new(2).unwrap().parties(), 2);
    /// assert!(corun::asyncio::Barrier::new(0).unwrap_err().is_invalid_argument());
    /// ```
    pub fn new(parties: usize) -> Result<Self, Error> {
        if parties == 0 {
            return Err(Error::invalid_argument(
                "a barrier needs at least one party",
            ));
        }
        Ok(Self {
            parties,
            state: RefCell::new(State::default()),
        })
    }

    /// Waits until `parties` tasks wait, and returns this task's index
    /// (Python's `await barrier.wait()`, `async with barrier as i`).
    ///
    /// # Errors
    ///
    /// [`Error::is_broken_barrier`] when the barrier is broken, or is
    /// aborted or reset while this task waits.
    ///
    /// ```
    /// use corun::asyncio::{Barrier, run};
    ///
    /// let index = run(async {
    ///     let barrier = Barrier::new(1).unwrap();
    ///     barrier.wait().await
    /// });
    /// assert_eq!(index.unwrap().unwrap(), 0);
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            arrival: None,
        }
    }

    /// Breaks the barrier out of its round: the tasks waiting get the
    /// broken-barrier error, and the barrier fills anew, unbroken
    /// (Python's `await barrier.reset()`; here it needs no await).
    ///
    /// ```
    /// let barrier = corun::asyncio::Barrier::new(2).unwrap();
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        let mut state = self.state.borrow_mut();
        state.break_round();
        state.broken = false;
    }

    /// Breaks the barrier: the tasks waiting, and every later `wait` until
    /// [`reset`](Self::reset), get the broken-barrier error (Python's
    /// `await barrier.abort()`; here it needs no await).
    ///
    /// ```
    /// use corun::asyncio::{Barrier, run};
    ///
    /// let err = run(async {
    ///     let barrier = Barrier::new(2).unwrap();
    ///     barrier.abort();
    ///     barrier.wait().await
    /// });
    /// assert!(err.unwrap().unwrap_err().is_broken_barrier());
    /// ```
    pub fn abort(&self) {
        let mut state = self.state.borrow_mut();
        state.broken = true;
        state.break_round();
    }

    /// The number of tasks needed to pass (Python's `parties`).
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Barrier::new(3).unwrap().parties(), 3);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the round filling now (Python's
    /// `n_waiting`).
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Barrier::new(3).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.borrow().waiting.len()
    }

    /// Whether the barrier is broken (Python's `broken`).
    ///
    /// ```
    /// assert!(!corun::asyncio::Barrier::new(3).unwrap().broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.borrow().broken
    }
}

impl State {
    fn break_round(&mut self) {
        for arrival in self.waiting.drain(..) {
            arrival.settle(Outcome::Broken);
        }
    }
}

impl Arrival {
    fn settle(&self, outcome: Outcome) {
        self.outcome.set(Some(outcome));
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(arrival) = &self.arrival {
            return match arrival.outcome.get() {
                Some(Outcome::Passed(index)) => Poll::Ready(Ok(index)),
                Some(Outcome::Broken) => Poll::Ready(Err(Error::broken_barrier(None, None))),
                None => {
                    let mut waker = arrival.waker.borrow_mut();
                    if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *waker = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            };
        }
        let barrier = self.barrier;
        let mut state = barrier.state.borrow_mut();
        if state.broken {
            return Poll::Ready(Err(Error::broken_barrier(None, None)));
        }
        let arrival = Rc::new(Arrival::default());
        state.waiting.push(Rc::clone(&arrival));
        let full = state.waiting.len() == barrier.parties;
        if full {
            for (index, waiter) in state.waiting.drain(..).enumerate() {
                waiter.settle(Outcome::Passed(index));
            }
        } else {
            *arrival.waker.borrow_mut() = Some(cx.waker().clone());
        }
        drop(state);
        self.arrival = Some(arrival);
        if full {
            // The last to arrive goes on at once, without a turn of the loop.
            self.poll(cx)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for BarrierWait<'_> {
    /// A waiter that leaves before its round passed takes itself out of
    /// the round.
    fn drop(&mut self) {
        if let Some(arrival) = &self.arrival {
            if arrival.outcome.get().is_none() {
                let mut state = self.barrier.state.borrow_mut();
                state.waiting.retain(|w| !Rc::ptr_eq(w, arrival));
            }
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.waiting.len())
            .field("broken", &state.broken)
            .finish()
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = self.arrival.as_ref().and_then(|a| a.outcome.get());
        f.debug_struct("BarrierWait")
            .field("arrived", &self.arrival.is_some())
            .field("outcome", &outcome)
            .finish()
    }
}
