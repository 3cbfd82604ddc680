//! `Timer`: Python's `threading.Timer`, a function run after a delay unless
//! cancelled first.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::event::Event;
use super::thread::Thread;
use crate::error::{Error, ErrorKind};

type Function = Box<dyn FnOnce() + Send>;

/// Runs a function on its own thread after `interval`, unless
/// [`cancel`](Self::cancel)led first (Python's `threading.Timer`).
///
/// As in CPython, the timer thread waits on an [`Event`] for the interval;
/// `cancel` sets the event, so a cancelled timer's thread ends at once
/// instead of sleeping out its interval.
///
/// # Examples
///
/// ```
/// use corun::threading::Timer;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
///
/// let fired = Arc::new(AtomicBool::new(false));
/// let flag = Arc::clone(&fired);
/// let mut timer = Timer::new(Duration::from_millis(10), move || flag.store(true, Ordering::SeqCst));
/// timer.start().unwrap();
/// assert!(timer.join().unwrap()); // it ran
/// assert!(fired.load(Ordering::SeqCst));
///
/// let mut cancelled = Timer::new(Duration::from_secs(60), || unreachable!());
/// cancelled.start().unwrap();
/// cancelled.cancel();
/// assert!(!cancelled.join().unwrap()); // it did not run, and join did not wait 60 s
/// ```
pub struct Timer {
    interval: Duration,
    function: Option<Function>,
    finished: Arc<Event>,
    thread: Option<Thread<bool>>,
}

impl Timer {
    /// A timer that will run `function` `interval` after [`start`](Self::start).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = corun::threading::Timer::new(Duration::ZERO, || ());
    /// assert!(!t.is_alive());
    /// ```
    pub fn new(interval: Duration, function: impl FnOnce() + Send + 'static) -> Self {
        Self {
            interval,
            function: Some(Box::new(function)),
            finished: Arc::new(Event::new()),
            thread: None,
        }
    }

    /// Starts the timer's thread.
    ///
    /// # Errors
    ///
    /// A second `start` fails (Python: `RuntimeError("threads can only be
    /// started once")`), as does a failure to start a thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut t = corun::threading::Timer::new(Duration::ZERO, || ());
    /// t.start().unwrap();
    /// assert!(t.start().is_err());
    /// t.join().unwrap();
    /// ```
    pub fn start(&mut self) -> Result<(), Error> {
        let Some(function) = self.function.take() else {
            return Err(Error::new(
                ErrorKind::AlreadyStarted,
                "a timer can only be started once",
            ));
        };
        let finished = Arc::clone(&self.finished);
        let interval = self.interval;
        let thread = Thread::builder().name("Timer").spawn(move || {
            let ran = !finished.wait_timeout(interval);
            if ran {
                function();
            }
            finished.set();
            ran
        })?;
        self.thread = Some(thread);
        Ok(())
    }

    /// Stops the timer if it is still waiting; does nothing once the
    /// function has started. May be called before `start`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut t = corun::threading::Timer::new(Duration::ZERO, || panic!("never"));
    /// t.cancel();
    /// t.start().unwrap();
    /// assert!(!t.join().unwrap());
    /// ```
    pub fn cancel(&self) {
        self.finished.set();
    }

    /// Waits for the timer's thread to end; returns whether the function ran.
    /// An unstarted timer returns `Ok(false)` at once.
    ///
    /// # Errors
    ///
    /// [`Error::is_panic`] when the function panicked;
    /// [`Error::is_deadlock`] at once when called from the
    /// timer's own function, which would wait for itself (the timer stays
    /// joinable from another thread).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut t = corun::threading::Timer::new(Duration::ZERO, || ());
    /// t.start().unwrap();
    /// assert!(t.join().unwrap());
    /// ```
    pub fn join(&mut self) -> Result<bool, Error> {
        match self.thread.take() {
            Some(thread) if thread.ident() == std::thread::current().id() => {
                self.thread = Some(thread);
                Err(super::thread::join_current_thread())
            }
            Some(thread) => thread.join(),
            None => Ok(false),
        }
    }

    /// Waits at most `timeout` for the timer's thread to end.
    ///
    /// # Errors
    ///
    /// [`Error::is_timeout`] when it is still running (join again later),
    /// [`Error::is_panic`] when the function panicked, or, as for
    /// [`join`](Self::join), [`Error::is_deadlock`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut t = corun::threading::Timer::new(Duration::from_secs(60), || ());
    /// t.start().unwrap();
    /// assert!(t.join_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// t.cancel();
    /// assert!(!t.join_timeout(Duration::MAX).unwrap());
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<bool, Error> {
        match &mut self.thread {
            Some(thread) => {
                let ran = thread.join_timeout(timeout)?;
                self.thread = None;
                Ok(ran)
            }
            None => Ok(false),
        }
    }

    /// Whether the timer's thread is running (waiting or running the function).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut t = corun::threading::Timer::new(Duration::from_secs(60), || ());
    /// t.start().unwrap();
    /// assert!(t.is_alive());
    /// t.cancel();
    /// t.join().unwrap();
    /// assert!(!t.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(Thread::is_alive)
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("interval", &self.interval)
            .field("started", &self.function.is_none())
            .field("cancelled_or_finished", &self.finished.is_set())
            .finish()
    }
}
