//! `Event`: Python's `threading.Event`, a flag threads can wait on.

use std::fmt;
use std::time::Duration;

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Condvar, Mutex};
use corun_core::deadline::deadline;

/// A flag that threads can wait for (Python's `threading.Event`).
///
/// The flag lives under a mutex, so `set` and a waiter's check cannot miss
/// each other; an atomic copy makes `is_set` and a wait on an already-set
/// event lock-free. Beside the flag the mutex keeps a count of `set` calls,
/// so a waiter that a `set` woke returns `true` even if a `clear` ran before
/// it got the mutex back (as in Python; CPython issue #13502).
///
/// # Examples
///
/// ```
/// use corun::threading::Event;
/// use std::sync::Arc;
///
/// let ready = Arc::new(Event::new());
/// let waiter = {
///     let ready = Arc::clone(&ready);
///     std::thread::spawn(move || ready.wait())
/// };
/// ready.set();
/// waiter.join().unwrap();
/// assert!(ready.is_set());
/// ```
pub struct Event {
    state: Mutex<State>,
    cond: Condvar,
    fast: AtomicBool,
}

#[derive(Debug)]
struct State {
    flag: bool,
    /// How many times `set` was called (wrapping): a waiter that sees it
    /// change was set, whatever the flag says now.
    sets: u64,
}

impl State {
    /// Whether a waiter that began when `sets` was `began` may return.
    fn signalled(&self, began: u64) -> bool {
        self.flag || self.sets != began
    }
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!corun::threading::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                flag: false,
                sets: 0,
            }),
            cond: Condvar::new(),
            fast: AtomicBool::new(false),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// ```
    /// let e = corun::threading::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        let mut state = self.state.lock();
        state.flag = true;
        state.sets = state.sets.wrapping_add(1);
        self.fast.store(true, Ordering::Release);
        self.cond.notify_all();
    }

    /// Clears the flag; later waits block until the next `set`.
    ///
    /// ```
    /// let e = corun::threading::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        let mut state = self.state.lock();
        state.flag = false;
        self.fast.store(false, Ordering::Release);
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// assert!(!corun::threading::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.fast.load(Ordering::Acquire)
    }

    /// Blocks until the flag is set (returns at once if it is).
    ///
    /// ```
    /// let e = corun::threading::Event::new();
    /// e.set();
    /// e.wait();
    /// ```
    pub fn wait(&self) {
        if self.is_set() {
            return;
        }
        let mut state = self.state.lock();
        let began = state.sets;
        while !state.signalled(began) {
            self.cond.wait(&mut state);
        }
    }

    /// Blocks until the flag is set or `timeout` passes; returns whether the
    /// flag was set (Python's `wait(timeout)`: `False` only on time-out, and
    /// `True` when a `set` woke the waiter even if a `clear` followed).
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = corun::threading::Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(1)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_set() {
            return true;
        }
        let deadline = deadline(Some(timeout));
        let mut state = self.state.lock();
        let began = state.sets;
        while !state.signalled(began) {
            if self.cond.wait_until(&mut state, deadline) {
                return state.signalled(began);
            }
        }
        true
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
