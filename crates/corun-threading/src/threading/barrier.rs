//! `Barrier`: Python's `threading.Barrier`, reusable, breakable, with an
//! action and a default timeout.
//!
//! Each generation of waiters shares one small record whose outcome starts
//! `Pending` and is set once, under the barrier's mutex:
//!
//! | event                          | current generation's outcome | barrier afterwards            |
//! |--------------------------------|------------------------------|-------------------------------|
//! | the last party arrives         | `Released`                   | a fresh generation, filling   |
//! | a timeout, `abort`, the action panics | `Broken`              | broken until `reset`          |
//! | `reset`                        | `Broken` (if anyone waited)  | a fresh generation, filling   |
//!
//! A waiter keeps its own generation's record and returns when that record's
//! outcome is set, so a thread that was released (or broken out) reads the
//! right verdict however late it wakes, and the next generation can fill
//! while it sleeps. CPython instead blocks new arrivals until the previous
//! generation has drained, which costs an extra context switch per
//! generation; the behaviour Python code can observe is the same.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::loom::{Condvar, Mutex, MutexGuard};
use corun_core::deadline::deadline;
use corun_core::panic::message as panic_message;

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
/// use corun::threading::Barrier;
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
enum Outcome {
    Pending,
    Released,
    Broken,
}

#[derive(Debug)]
struct State {
    /// Threads waiting in the current generation.
    count: usize,
    /// Set by a timeout, `abort` or a panicking action; cleared by `reset`.
    broken: bool,
    /// The current generation's record. Only read or written under the
    /// barrier's mutex; the `Arc` lets a waiter keep its generation's record
    /// after the barrier has moved on.
    generation: Arc<Generation>,
}

#[derive(Debug)]
struct Generation {
    /// An [`Outcome`] as its discriminant. Read and written only while the
    /// barrier's mutex is held, which orders every access; the atomic just
    /// lets waiters share the record through an `Arc`.
    outcome: AtomicU8,
}

impl Generation {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            outcome: AtomicU8::new(Outcome::Pending as u8),
        })
    }

    fn outcome(&self) -> Outcome {
        match self.outcome.load(Ordering::Relaxed) {
            x if x == Outcome::Released as u8 => Outcome::Released,
            x if x == Outcome::Broken as u8 => Outcome::Broken,
            _ => Outcome::Pending,
        }
    }

    fn settle(&self, outcome: Outcome) {
        self.outcome.store(outcome as u8, Ordering::Relaxed);
    }
}

impl Barrier {
    /// A barrier for `parties` threads, with no action and no default timeout.
    ///
    /// # Errors
    ///
    /// `parties == 0` is an invalid argument (Python: `ValueError`).
    ///
    /// ```
    /// use corun::threading::Barrier;
    /// assert_eq!(Barrier::new(2).unwrap().parties(), 2);
    /// assert!(Barrier::new(0).unwrap_err().is_invalid_argument());
    /// ```
    pub fn new(parties: usize) -> Result<Self, Error> {
        Self::builder(parties).build()
    }

    /// A builder for a barrier of `parties` threads.
    ///
    /// ```
    /// use corun::threading::Barrier;
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
    /// let b = corun::threading::Barrier::new(1).unwrap();
    /// assert_eq!(b.wait().unwrap(), 0);
    /// ```
    pub fn wait(&self) -> Result<usize, Error> {
        self.wait_until(deadline(self.timeout))
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
    /// let b = corun::threading::Barrier::new(2).unwrap();
    /// let err = b.wait_timeout(Duration::from_millis(1)).unwrap_err();
    /// assert!(err.is_timeout() && err.is_broken_barrier());
    /// assert!(b.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, Error> {
        self.wait_until(deadline(Some(timeout)))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<usize, Error> {
        let mut state = self.state.lock();
        if state.broken {
            return Err(Error::broken_barrier(None, None));
        }
        let index = state.count;
        state.count += 1;
        if index + 1 == self.parties {
            self.release(&mut state)?;
            return Ok(index);
        }
        let generation = Arc::clone(&state.generation);
        loop {
            match generation.outcome() {
                Outcome::Released => return Ok(index),
                Outcome::Broken => return Err(Error::broken_barrier(None, None)),
                Outcome::Pending => {}
            }
            if self.cond.wait_until(&mut state, deadline)
                && generation.outcome() == Outcome::Pending
            {
                self.break_barrier(&mut state);
                return Err(Error::broken_barrier(Some(ErrorKind::Timeout), None));
            }
        }
    }

    /// The last thread in: run the action, then release the generation.
    fn release(&self, state: &mut MutexGuard<'_, State>) -> Result<(), Error> {
        if let Some(action) = &self.action {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(action)) {
                self.break_barrier(state);
                return Err(Error::broken_barrier(None, Some(panic_message(&*payload))));
            }
        }
        self.next_generation(state, Outcome::Released);
        Ok(())
    }

    /// Settles the current generation and starts a fresh, empty one.
    fn next_generation(&self, state: &mut MutexGuard<'_, State>, outcome: Outcome) {
        state.generation.settle(outcome);
        state.generation = Generation::new();
        state.count = 0;
        self.cond.notify_all();
    }

    fn break_barrier(&self, state: &mut MutexGuard<'_, State>) {
        state.broken = true;
        self.next_generation(state, Outcome::Broken);
    }

    /// Returns the barrier to its initial state. Threads waiting in it get a
    /// broken-barrier error; a broken barrier becomes usable again.
    ///
    /// ```
    /// let b = corun::threading::Barrier::new(2).unwrap();
    /// b.abort();
    /// assert!(b.broken());
    /// b.reset();
    /// assert!(!b.broken());
    /// ```
    pub fn reset(&self) {
        let mut state = self.state.lock();
        state.broken = false;
        if state.count > 0 {
            self.next_generation(&mut state, Outcome::Broken);
        }
    }

    /// Breaks the barrier: current and later waiters get a broken-barrier
    /// error until [`reset`](Self::reset). Use it to stop a group of threads
    /// when one of them fails.
    ///
    /// ```
    /// let b = corun::threading::Barrier::new(1).unwrap();
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
    /// assert_eq!(corun::threading::Barrier::new(4).unwrap().parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current generation.
    ///
    /// ```
    /// assert_eq!(corun::threading::Barrier::new(4).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().count
    }

    /// Whether the barrier is broken.
    ///
    /// ```
    /// assert!(!corun::threading::Barrier::new(4).unwrap().broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }
}

impl BarrierBuilder {
    /// A function the last arriving thread runs once per generation, before
    /// anyone is released. If it panics, the barrier breaks and that thread's
    /// `wait` returns the panic as an error. It runs under the barrier's
    /// internal lock: it must not call methods of the same barrier.
    ///
    /// ```
    /// use corun::threading::Barrier;
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
    /// let b = corun::threading::Barrier::builder(2)
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
    /// assert!(corun::threading::Barrier::builder(0).build().is_err());
    /// ```
    pub fn build(self) -> Result<Barrier, Error> {
        if self.parties == 0 {
            return Err(Error::invalid_argument(
                "a barrier needs at least one party",
            ));
        }
        Ok(Barrier {
            parties: self.parties,
            action: self.action,
            timeout: self.timeout,
            state: Mutex::new(State {
                count: 0,
                broken: false,
                generation: Generation::new(),
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
            .field("n_waiting", &state.count)
            .field("broken", &state.broken)
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
