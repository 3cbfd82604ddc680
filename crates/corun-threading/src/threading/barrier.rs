//! `Barrier`: Python's `threading.Barrier`, reusable, breakable, with an
//! action and a default timeout.
//!
//! The state machine is CPython's (`Lib/threading.py`), one mutex and one
//! condition variable:
//!
//! | phase      | meaning                                              | next                           |
//! |------------|------------------------------------------------------|--------------------------------|
//! | `Filling`  | threads arrive and wait; `count` are inside          | `Draining` when the last comes |
//! | `Draining` | the generation is released; waiters leave one by one | `Filling` when `count` hits 0  |
//! | `Resetting`| `reset` while threads waited; they leave with errors | `Filling` when `count` hits 0  |
//! | `Broken`   | timeout, `abort` or a panicking action               | `Filling` only through `reset` |
//!
//! Threads that arrive while the barrier drains or resets wait for it to
//! refill first, so a slow leaver of one generation is never counted into the
//! next.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::deadline::deadline;
use crate::error::{Error, ErrorKind, panic_message};
use crate::loom::{Condvar, Mutex, MutexGuard};

type Action = Box<dyn Fn() + Send + Sync>;

/// A barrier for a fixed number of threads (Python's `threading.Barrier`).
///
/// Each of `parties` threads calls [`wait`](Self::wait); all are released
/// together when the last arrives, and each gets a distinct index in
/// `0..parties` (arrival order). The barrier then resets itself for the next
/// generation. An optional action runs exactly once per generation, in the
/// last thread to arrive, before the others are released.
///
/// A timeout in any waiter, a call to [`abort`](Self::abort) or a panicking
/// action *breaks* the barrier: every current and later waiter gets an error
/// for which [`Error::is_broken_barrier`] is true, until [`reset`](Self::reset).
///
/// # Examples
///
/// ```
/// use corun_threading::threading::Barrier;
/// use std::sync::Arc;
///
/// let barrier = Arc::new(Barrier::new(3).unwrap());
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let b = Arc::clone(&barrier);
///         std::thread::spawn(move || b.wait().unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    parties: usize,
    action: Option<Action>,
    timeout: Option<Duration>,
    state: Mutex<State>,
    cond: Condvar,
}

/// Configures a [`Barrier`]: action and default timeout.
#[must_use = "a builder does nothing until `build` is called"]
pub struct BarrierBuilder {
    parties: usize,
    action: Option<Action>,
    timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Filling,
    Draining,
    Resetting,
    Broken,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Threads inside `wait` (arrived and not yet left).
    count: usize,
}

impl Barrier {
    /// A barrier for `parties` threads, with no action and no default timeout.
    ///
    /// # Errors
    ///
    /// `parties == 0` is an invalid argument (Python: `ValueError`).
    ///
    /// ```
    /// use corun_threading::threading::Barrier;
    /// assert_eq!(Barrier::new(2).unwrap().parties(), 2);
    /// assert!(Barrier::new(0).unwrap_err().is_invalid_argument());
    /// ```
    pub fn new(parties: usize) -> Result<Self, Error> {
        Self::builder(parties).build()
    }

    /// A builder for a barrier of `parties` threads.
    ///
    /// ```
    /// use corun_threading::threading::Barrier;
    /// use std::time::Duration;
    /// let b = Barrier::builder(1)
    ///     .action(|| println!("all here"))
    ///     .timeout(Duration::from_secs(5))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(b.wait().unwrap(), 0);
    /// ```
    pub fn builder(parties: usize) -> BarrierBuilder {
        BarrierBuilder {
            parties,
            action: None,
            timeout: None,
        }
    }

    /// Waits for all parties, with the barrier's default timeout if it has
    /// one; returns this thread's arrival index.
    ///
    /// # Errors
    ///
    /// [`Error::is_broken_barrier`] when the barrier is or becomes broken
    /// while waiting; additionally [`Error::is_timeout`] for the thread whose
    /// own timeout broke it, and [`Error::is_panic`] for the thread whose
    /// action panicked.
    ///
    /// ```
    /// let b = corun_threading::threading::Barrier::new(1).unwrap();
    /// assert_eq!(b.wait().unwrap(), 0);
    /// ```
    pub fn wait(&self) -> Result<usize, Error> {
        self.wait_until(self.timeout.and_then(deadline))
    }

    /// Waits for all parties for at most `timeout` (instead of the default).
    /// Running out of time breaks the barrier for everyone, as in Python.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = corun_threading::threading::Barrier::new(2).unwrap();
    /// let err = b.wait_timeout(Duration::from_millis(1)).unwrap_err();
    /// assert!(err.is_timeout() && err.is_broken_barrier());
    /// assert!(b.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, Error> {
        self.wait_until(deadline(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<usize, Error> {
        let mut state = self.state.lock();
        self.enter(&mut state, deadline)?;
        let index = state.count;
        state.count += 1;
        let outcome = if index + 1 == self.parties {
            self.release(&mut state)
        } else {
            self.await_release(&mut state, deadline)
        };
        state.count -= 1;
        self.exit(&mut state);
        outcome.map(|()| index)
    }

    /// Blocks while a previous generation drains or resets.
    fn enter(
        &self,
        state: &mut MutexGuard<'_, State>,
        deadline: Option<Instant>,
    ) -> Result<(), Error> {
        while matches!(state.phase, Phase::Draining | Phase::Resetting) {
            if self.cond.wait_until(state, deadline)
                && matches!(state.phase, Phase::Draining | Phase::Resetting)
            {
                return Err(Error::new(ErrorKind::Timeout));
            }
        }
        if state.phase == Phase::Broken {
            return Err(Error::new(ErrorKind::BrokenBarrier));
        }
        Ok(())
    }

    /// The last thread in: run the action, then release the generation.
    fn release(&self, state: &mut MutexGuard<'_, State>) -> Result<(), Error> {
        if let Some(action) = &self.action {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(action)) {
                self.break_barrier(state);
                return Err(Error::new(ErrorKind::BarrierAction(panic_message(
                    &*payload,
                ))));
            }
        }
        state.phase = Phase::Draining;
        self.cond.notify_all();
        Ok(())
    }

    /// Any other thread: wait for the release, a break, or the deadline.
    fn await_release(
        &self,
        state: &mut MutexGuard<'_, State>,
        deadline: Option<Instant>,
    ) -> Result<(), Error> {
        while state.phase == Phase::Filling {
            if self.cond.wait_until(state, deadline) && state.phase == Phase::Filling {
                self.break_barrier(state);
                return Err(Error::new(ErrorKind::BarrierTimeout));
            }
        }
        match state.phase {
            Phase::Draining => Ok(()),
            _ => Err(Error::new(ErrorKind::BrokenBarrier)),
        }
    }

    /// The last thread out of a draining or resetting generation refills.
    fn exit(&self, state: &mut MutexGuard<'_, State>) {
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.cond.notify_all();
        }
    }

    fn break_barrier(&self, state: &mut MutexGuard<'_, State>) {
        state.phase = Phase::Broken;
        self.cond.notify_all();
    }

    /// Returns the barrier to its initial state. Threads waiting in it get a
    /// broken-barrier error; a broken barrier becomes usable again.
    ///
    /// ```
    /// let b = corun_threading::threading::Barrier::new(2).unwrap();
    /// b.abort();
    /// assert!(b.broken());
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn reset(&self) {
        let mut state = self.state.lock();
        if state.count > 0 {
            // Waiters (or leavers) remain: they leave with an error, and the
            // last one out refills the barrier.
            state.phase = match state.phase {
                Phase::Filling | Phase::Broken => Phase::Resetting,
                other => other,
            };
        } else {
            state.phase = Phase::Filling;
        }
        self.cond.notify_all();
    }

    /// Breaks the barrier: current and later waiters get a broken-barrier
    /// error until [`reset`](Self::reset). Use it to stop a group of threads
    /// when one of them fails.
    ///
    /// ```
    /// let b = corun_threading::threading::Barrier::new(1).unwrap();
    /// b.abort();
    /// assert!(b.wait().unwrap_err().is_broken_barrier());
    /// ```
    pub fn abort(&self) {
        let mut state = self.state.lock();
        self.break_barrier(&mut state);
    }

    /// The number of threads needed to pass the barrier.
    ///
    /// ```
    /// assert_eq!(corun_threading::threading::Barrier::new(4).unwrap().parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current generation.
    ///
    /// ```
    /// assert_eq!(corun_threading::threading::Barrier::new(4).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let state = self.state.lock();
        if state.phase == Phase::Filling {
            state.count
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    ///
    /// ```
    /// assert!(!corun_threading::threading::Barrier::new(4).unwrap().broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }
}

impl BarrierBuilder {
    /// A function the last arriving thread runs once per generation, before
    /// anyone is released. If it panics, the barrier breaks and that thread's
    /// `wait` returns the panic as an error. It runs under the barrier's
    /// internal lock: it must not call methods of the same barrier.
    ///
    /// ```
    /// use corun_threading::threading::Barrier;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let runs = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&runs);
    /// let b = Barrier::builder(1)
    ///     .action(move || { counter.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// b.wait().unwrap();
    /// b.wait().unwrap();
    /// assert_eq!(runs.load(Ordering::SeqCst), 2);
    /// ```
    pub fn action(mut self, action: impl Fn() + Send + Sync + 'static) -> Self {
        self.action = Some(Box::new(action));
        self
    }

    /// The timeout [`Barrier::wait`] uses (none by default: wait forever).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = corun_threading::threading::Barrier::builder(2)
    ///     .timeout(Duration::from_millis(1))
    ///     .build()
    ///     .unwrap();
    /// assert!(b.wait().unwrap_err().is_timeout());
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the barrier.
    ///
    /// # Errors
    ///
    /// `parties == 0` is an invalid argument.
    ///
    /// ```
    /// assert!(corun_threading::threading::Barrier::builder(0).build().is_err());
    /// ```
    pub fn build(self) -> Result<Barrier, Error> {
        if self.parties == 0 {
            return Err(Error::new(ErrorKind::InvalidArgument(
                "a barrier needs at least one party",
            )));
        }
        Ok(Barrier {
            parties: self.parties,
            action: self.action,
            timeout: self.timeout,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
            }),
            cond: Condvar::new(),
        })
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("phase", &state.phase)
            .field("count", &state.count)
            .field("timeout", &self.timeout)
            .field("has_action", &self.action.is_some())
            .finish()
    }
}

impl fmt::Debug for BarrierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierBuilder")
            .field("parties", &self.parties)
            .field("timeout", &self.timeout)
            .field("has_action", &self.action.is_some())
            .finish()
    }
}
