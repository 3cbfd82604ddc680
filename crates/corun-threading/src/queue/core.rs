//! The engine every bounded queue shares: CPython's `queue.Queue` design of
//! one mutex and three condition variables (`not_empty`, `not_full`,
//! `all_tasks_done`), generic over the storage order.
//!
//! Before a blocking `get` (or a `put` on a full queue) sleeps on its
//! condition variable it spins briefly, without the lock, on an atomic copy
//! of the item count, the way crossbeam-channel backs off: a producer and a
//! consumer running at about the same rate then hand items over without a
//! futex sleep and wake-up per item. The copy is only a hint; every decision
//! is taken again under the lock, so the semantics are those of the plain
//! mutex-and-condvars design.
//!
//! Accounting invariant (model-checked in `tests/loom_queue.rs`):
//! `unfinished` = items put − `task_done` calls − items dropped by an
//! immediate shutdown, never negative; `join` returns exactly when it is 0.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::{GetError, PutError};
use super::storage::Storage;
use crate::error::{Error, ErrorKind};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Condvar, Mutex};
use corun_core::deadline::deadline;

/// How long a put or get may block.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Not at all (`try_*`).
    No,
    /// Until the deadline; `None` is forever.
    Until(Option<Instant>),
}

impl Wait {
    pub(crate) fn forever() -> Self {
        Self::Until(None)
    }

    pub(crate) fn timeout(timeout: Duration) -> Self {
        Self::Until(deadline(Some(timeout)))
    }
}

pub(crate) struct Core<T, S> {
    maxsize: usize,
    state: Mutex<State<S>>,
    /// `state.items.len()` as of the last put or get: read without the lock
    /// by a spinning caller, stored under it.
    len_hint: AtomicUsize,
    not_empty: Condvar,
    not_full: Condvar,
    all_tasks_done: Condvar,
    _item: std::marker::PhantomData<fn(T) -> T>,
}

struct State<S> {
    items: S,
    unfinished: usize,
    shutdown: bool,
}

impl<T, S: Storage<T>> Core<T, S> {
    pub(crate) fn new(maxsize: usize, items: S) -> Self {
        Self {
            maxsize,
            state: Mutex::new(State {
                items,
                unfinished: 0,
                shutdown: false,
            }),
            len_hint: AtomicUsize::new(0),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_tasks_done: Condvar::new(),
            _item: std::marker::PhantomData,
        }
    }

    pub(crate) fn put(&self, item: T, wait: Wait) -> Result<(), PutError<T>> {
        let mut state = self.state.lock();
        let mut timed_out = false;
        let mut spin = Spin::new();
        loop {
            if state.shutdown {
                return Err(PutError::ShutDown(item));
            }
            if self.maxsize == 0 || state.items.len() < self.maxsize {
                break;
            }
            match wait {
                Wait::Until(deadline) if !timed_out => {
                    if spin.worth_it(deadline) {
                        drop(state);
                        spin.until(|| self.len_hint.load(Ordering::Relaxed) < self.maxsize);
                        state = self.state.lock();
                        continue;
                    }
                    timed_out = self.not_full.wait_until(&mut state, deadline);
                }
                _ => return Err(PutError::Full(item)),
            }
        }
        state.items.push(item);
        self.len_hint.store(state.items.len(), Ordering::Relaxed);
        state.unfinished += 1;
        self.not_empty.notify_one();
        Ok(())
    }

    pub(crate) fn get(&self, wait: Wait) -> Result<T, GetError> {
        let mut state = self.state.lock();
        let mut timed_out = false;
        let mut spin = Spin::new();
        loop {
            if let Some(item) = state.items.pop() {
                self.len_hint.store(state.items.len(), Ordering::Relaxed);
                if self.maxsize != 0 {
                    self.not_full.notify_one();
                }
                return Ok(item);
            }
            if state.shutdown {
                return Err(GetError::ShutDown);
            }
            match wait {
                Wait::Until(deadline) if !timed_out => {
                    if spin.worth_it(deadline) {
                        drop(state);
                        spin.until(|| self.len_hint.load(Ordering::Relaxed) > 0);
                        state = self.state.lock();
                        continue;
                    }
                    timed_out = self.not_empty.wait_until(&mut state, deadline);
                }
                _ => return Err(GetError::Empty),
            }
        }
    }

    pub(crate) fn task_done(&self) -> Result<(), Error> {
        let mut state = self.state.lock();
        if state.unfinished == 0 {
            return Err(Error::from(ErrorKind::TaskDoneTooMany));
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    /// Waits until every put item is done; `false` if `deadline` passed first.
    pub(crate) fn join_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.state.lock();
        while state.unfinished > 0 {
            if self.all_tasks_done.wait_until(&mut state, deadline) {
                return state.unfinished == 0;
            }
        }
        true
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let dropped = {
            let mut state = self.state.lock();
            state.shutdown = true;
            let dropped = if immediate {
                let dropped = state.items.take_all();
                self.len_hint.store(0, Ordering::Relaxed);
                state.unfinished = state.unfinished.saturating_sub(dropped.len());
                self.all_tasks_done.notify_all();
                dropped
            } else {
                Vec::new()
            };
            self.not_empty.notify_all();
            self.not_full.notify_all();
            dropped
        };
        // Items' destructors run outside the lock.
        drop(dropped);
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.state.lock().shutdown
    }

    pub(crate) fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn is_full(&self) -> bool {
        self.maxsize != 0 && self.qsize() >= self.maxsize
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.state.lock().unfinished
    }
}

/// Bounded spinning before a blocking wait, after crossbeam-utils' `Backoff`:
/// 2⁰ … 2⁶ spin-loop hints, then a few `yield_now`s — some microseconds in
/// all. Under loom, which models no time, it never spins.
struct Spin {
    step: u32,
}

impl Spin {
    /// Steps that busy-wait (`2^step` hints each); later ones yield.
    const SPIN_STEPS: u32 = 7;
    /// Steps in all.
    const STEPS: u32 = 11;

    fn new() -> Self {
        Self { step: 0 }
    }

    /// Whether to spin before sleeping until `deadline`: not under loom, not
    /// when every step is used up, nor when the deadline has already passed.
    fn worth_it(&self, deadline: Option<Instant>) -> bool {
        !cfg!(corun_loom) && self.step < Self::STEPS && deadline.is_none_or(|d| Instant::now() < d)
    }

    /// Spins, one step at least, until `ready` holds or the steps run out.
    fn until(&mut self, ready: impl Fn() -> bool) {
        while self.step < Self::STEPS {
            if self.step < Self::SPIN_STEPS {
                for _ in 0..1_u32 << self.step {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            self.step += 1;
            if ready() {
                return;
            }
        }
    }
}

impl<T, S: Storage<T>> fmt::Debug for Core<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Queue")
            .field("qsize", &state.items.len())
            .field("maxsize", &self.maxsize)
            .field("unfinished_tasks", &state.unfinished)
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

/// Writes the public methods of a queue type that wraps a [`Core`], with
/// docs and examples naming that type. One definition for `Queue`,
/// `LifoQueue` and `PriorityQueue`, as Python's subclasses share theirs.
macro_rules! queue_methods {
    ($ty:ident) => {
        #[doc = concat!("A new unbounded `", stringify!($ty), "` (Python's `maxsize=0`).")]
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::<u8>::new();")]
        /// assert_eq!(q.maxsize(), 0);
        /// ```
        pub fn new() -> Self {
            Self::with_maxsize(0)
        }

        /// Puts an item, blocking while the queue is full (Python's `put`).
        ///
        /// # Errors
        ///
        /// [`PutError::ShutDown`] with the item once the queue is shut down;
        /// a blocked caller wakes up with it.
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put(1).unwrap();
        /// assert_eq!(q.qsize(), 1);
        /// ```
        pub fn put(&self, item: T) -> Result<(), PutError<T>> {
            self.core.put(item, Wait::forever())
        }

        /// Puts an item if there is room now (Python's `put_nowait`).
        ///
        /// # Errors
        ///
        /// [`PutError::Full`] or [`PutError::ShutDown`], with the item.
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::with_maxsize(1);")]
        /// q.try_put(1).unwrap();
        /// assert!(q.try_put(2).unwrap_err().is_full());
        /// ```
        pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
            self.core.put(item, Wait::No)
        }

        /// Puts an item, waiting at most `timeout` for room
        /// (Python's `put(item, timeout=…)`). `Duration::MAX` waits forever.
        ///
        /// # Errors
        ///
        /// [`PutError::Full`] when no room came in time, or
        /// [`PutError::ShutDown`]; both hand the item back.
        ///
        /// ```
        /// use std::time::Duration;
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::with_maxsize(1);")]
        /// q.put_timeout(1, Duration::from_millis(1)).unwrap();
        /// let err = q.put_timeout(2, Duration::from_millis(1)).unwrap_err();
        /// assert_eq!(err.into_inner(), 2);
        /// ```
        pub fn put_timeout(&self, item: T, timeout: std::time::Duration) -> Result<(), PutError<T>> {
            self.core.put(item, Wait::timeout(timeout))
        }

        /// Takes an item, blocking while the queue is empty (Python's `get`).
        ///
        /// # Errors
        ///
        /// [`GetError::ShutDown`] once the queue is shut down and has no
        /// items left (at once after an immediate shutdown).
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put(5).unwrap();
        /// assert_eq!(q.get(), Ok(5));
        /// ```
        pub fn get(&self) -> Result<T, GetError> {
            self.core.get(Wait::forever())
        }

        /// Takes an item if one is there now (Python's `get_nowait`).
        ///
        /// # Errors
        ///
        /// [`GetError::Empty`] or [`GetError::ShutDown`].
        ///
        /// ```
        /// use corun::queue::GetError;
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::<u8>::new();")]
        /// assert_eq!(q.try_get(), Err(GetError::Empty));
        /// ```
        pub fn try_get(&self) -> Result<T, GetError> {
            self.core.get(Wait::No)
        }

        /// Takes an item, waiting at most `timeout` (Python's
        /// `get(timeout=…)`). `Duration::MAX` waits forever.
        ///
        /// # Errors
        ///
        /// [`GetError::Empty`] when nothing came in time, or
        /// [`GetError::ShutDown`].
        ///
        /// ```
        /// use corun::queue::GetError;
        /// use std::time::Duration;
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::<u8>::new();")]
        /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetError::Empty));
        /// ```
        pub fn get_timeout(&self, timeout: std::time::Duration) -> Result<T, GetError> {
            self.core.get(Wait::timeout(timeout))
        }

        /// Marks one item taken with `get` as processed (Python's
        /// `task_done`); [`join`](Self::join) returns when every put item is.
        ///
        /// # Errors
        ///
        /// [`Error::is_task_done_too_many`] when called more times than items
        /// were put (Python: `ValueError`); the count is left unchanged.
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put(1).unwrap();
        /// q.get().unwrap();
        /// q.task_done().unwrap();
        /// assert!(q.task_done().unwrap_err().is_task_done_too_many());
        /// ```
        pub fn task_done(&self) -> Result<(), Error> {
            self.core.task_done()
        }

        /// Blocks until every item put has been marked done with
        /// [`task_done`](Self::task_done) (Python's `join`). An immediate
        /// shutdown counts the items it drops as done.
        ///
        /// ```
        /// use std::sync::Arc;
        #[doc = concat!("let q = Arc::new(corun_threading::queue::", stringify!($ty), "::new());")]
        /// for i in 0..3 { q.put(i).unwrap(); }
        /// let worker = {
        ///     let q = Arc::clone(&q);
        ///     std::thread::spawn(move || while let Ok(_) = q.get() { q.task_done().unwrap(); })
        /// };
        /// q.join();
        /// assert_eq!(q.unfinished_tasks(), 0);
        /// q.shutdown(false);
        /// worker.join().unwrap();
        /// ```
        pub fn join(&self) {
            self.core.join_until(None);
        }

        /// [`join`](Self::join) for at most `timeout`; returns whether every
        /// item was done in time (Python has no such method).
        ///
        /// ```
        /// use std::time::Duration;
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put(1).unwrap();
        /// assert!(!q.join_timeout(Duration::from_millis(1)));
        /// ```
        pub fn join_timeout(&self, timeout: std::time::Duration) -> bool {
            self.core.join_until(corun_core::deadline::deadline(Some(timeout)))
        }

        /// Shuts the queue down (Python 3.13's `shutdown`). Afterwards `put`
        /// fails, handing its item back, and `get` drains what is left and
        /// then fails. With `immediate`, the remaining items are dropped at
        /// once, counted as done (which releases `join`), and `get` fails
        /// right away. Every blocked caller wakes up.
        ///
        /// ```
        /// use corun::queue::GetError;
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put(1).unwrap();
        /// q.shutdown(false);
        /// assert!(q.put(2).unwrap_err().is_shutdown());
        /// assert_eq!(q.get(), Ok(1));
        /// assert_eq!(q.get(), Err(GetError::ShutDown));
        /// ```
        pub fn shutdown(&self, immediate: bool) {
            self.core.shutdown(immediate);
        }

        /// Whether [`shutdown`](Self::shutdown) was called.
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::<u8>::new();")]
        /// q.shutdown(true);
        /// assert!(q.is_shutdown());
        /// ```
        pub fn is_shutdown(&self) -> bool {
            self.core.is_shutdown()
        }

        /// The number of items in the queue now (a snapshot, as in Python).
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put(1).unwrap();
        /// assert_eq!(q.qsize(), 1);
        /// ```
        pub fn qsize(&self) -> usize {
            self.core.qsize()
        }

        /// Whether the queue is empty now (Python's `empty()`).
        ///
        /// ```
        #[doc = concat!("assert!(corun_threading::queue::", stringify!($ty), "::<u8>::new().is_empty());")]
        /// ```
        pub fn is_empty(&self) -> bool {
            self.core.qsize() == 0
        }

        /// Whether the queue is full now (Python's `full()`); never for an
        /// unbounded queue.
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::with_maxsize(1);")]
        /// q.put(1).unwrap();
        /// assert!(q.is_full());
        /// ```
        pub fn is_full(&self) -> bool {
            self.core.is_full()
        }

        /// The bound given at construction; 0 means unbounded.
        ///
        /// ```
        #[doc = concat!("assert_eq!(corun_threading::queue::", stringify!($ty), "::<u8>::with_maxsize(8).maxsize(), 8);")]
        /// ```
        pub fn maxsize(&self) -> usize {
            self.core.maxsize()
        }

        /// Items put and not yet marked done (Python's `unfinished_tasks`).
        ///
        /// ```
        #[doc = concat!("let q = corun_threading::queue::", stringify!($ty), "::new();")]
        /// q.put('a').unwrap();
        /// assert_eq!(q.unfinished_tasks(), 1);
        /// ```
        pub fn unfinished_tasks(&self) -> usize {
            self.core.unfinished_tasks()
        }
    };
}

pub(crate) use queue_methods;
