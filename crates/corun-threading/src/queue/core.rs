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
