//! `Event`: Python's `threading.Event`, a flag threads can wait on.

use std::fmt;
use std::time::Duration;

use crate::deadline::deadline;
use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::{Condvar, Mutex};

/// A flag that threads can wait for (Python's `threading.Event`).
///
/// The flag lives under a mutex, so `set` and a waiter's check cannot miss
/// each other; an atomic copy makes `is_set` and a wait on an already-set
/// event lock-free.
///
/// # Examples
///
/// ```
/// use corun_threading::threading::Event;
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
    flag: Mutex<bool>,
    cond: Condvar,
    fast: AtomicBool,
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!corun_threading::threading::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            flag: Mutex::new(false),
            cond: Condvar::new(),
            fast: AtomicBool::new(false),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// ```
    /// let e = corun_threading::threading::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        let mut flag = self.flag.lock();
        *flag = true;
        self.fast.store(true, Ordering::Release);
        self.cond.notify_all();
    }

    /// Clears the flag; later waits block until the next `set`.
    ///
    /// ```
    /// let e = corun_threading::threading::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        let mut flag = self.flag.lock();
        *flag = false;
        self.fast.store(false, Ordering::Release);
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// assert!(!corun_threading::threading::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.fast.load(Ordering::Acquire)
    }

    /// Blocks until the flag is set (returns at once if it is).
    ///
    /// ```
    /// let e = corun_threading::threading::Event::new();
    /// e.set();
    /// e.wait();
    /// ```
    pub fn wait(&self) {
        if self.is_set() {
            return;
        }
        let mut flag = self.flag.lock();
        while !*flag {
            self.cond.wait(&mut flag);
        }
    }

    /// Blocks until the flag is set or `timeout` passes; returns whether the
    /// flag is set (Python's `wait(timeout)`: `False` only on time-out).
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = corun_threading::threading::Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(1)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_set() {
            return true;
        }
        let deadline = deadline(timeout);
        let mut flag = self.flag.lock();
        while !*flag {
            if self.cond.wait_until(&mut flag, deadline) {
                return *flag;
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
