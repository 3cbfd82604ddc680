//! `Thread`: Python's `threading.Thread`, a named thread whose `join` can
//! time out and hands back the function's result or its panic.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, ErrorKind};
use corun_core::deadline::deadline;

/// Numbers the default names `Thread-1`, `Thread-2`, … as Python does.
static THREAD_COUNTER: AtomicUsize = AtomicUsize::new(1);

/// A running (or finished) thread with a name (Python's `threading.Thread`).
///
/// Beyond Python: `join` returns the function's value, and a panic in the
/// thread comes back from `join` as an error carrying the panic message
/// (Python only prints the exception; `join` returns `None`).
///
/// Threads cannot be killed, in Rust as in Python: a long-running function
/// must poll a flag (an [`Event`](super::Event), say) to stop early.
///
/// # Examples
///
/// ```
/// use corun::threading::Thread;
///
/// let t = Thread::builder().name("adder").spawn(|| 2 + 2).unwrap();
/// assert_eq!(t.name(), "adder");
/// assert_eq!(t.join().unwrap(), 4);
///
/// let bad = Thread::spawn(|| -> () { panic!("boom") }).unwrap();
/// let err = bad.join().unwrap_err();
/// assert_eq!(err.panic_message(), Some("boom"));
/// ```
#[must_use = "dropping a Thread detaches it; call join to wait for it"]
pub struct Thread<T> {
    name: String,
    ident: ThreadId,
    shared: Arc<Shared<T>>,
    handle: Option<JoinHandle<()>>,
}

/// Configures a [`Thread`] before it starts.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `spawn` is called"]
pub struct ThreadBuilder {
    name: Option<String>,
    stack_size: Option<usize>,
}

struct Shared<T> {
    outcome: Mutex<Outcome<T>>,
    finished: Condvar,
}

enum Outcome<T> {
    Running,
    Done(Result<T, Error>),
    Taken,
}

impl<T: Send + 'static> Thread<T> {
    /// Starts `f` on a new thread with the default name `Thread-N`.
    ///
    /// # Errors
    ///
    /// When the operating system cannot start a thread (Python:
    /// `RuntimeError: can't start new thread`).
    ///
    /// ```
    /// let t = corun::threading::Thread::spawn(|| "done").unwrap();
    /// assert!(t.name().starts_with("Thread-"));
    /// assert_eq!(t.join().unwrap(), "done");
    /// ```
    pub fn spawn<F>(f: F) -> Result<Self, Error>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        ThreadBuilder::default().spawn(f)
    }
}

impl Thread<()> {
    /// A builder to name the thread or size its stack.
    ///
    /// ```
    /// let t = corun::threading::Thread::builder()
    ///     .name("worker-1")
    ///     .spawn(|| std::thread::current().name().map(str::to_owned))
    ///     .unwrap();
    /// assert_eq!(t.join().unwrap().as_deref(), Some("worker-1"));
    /// ```
    pub fn builder() -> ThreadBuilder {
        ThreadBuilder::default()
    }
}

impl<T> Thread<T> {
    /// Waits for the thread to finish and returns what its function returned.
    ///
    /// # Errors
    ///
    /// [`Error::is_panic`] (with the message) when the function panicked;
    /// an "already joined" error when a successful
    /// [`join_timeout`](Self::join_timeout) took the result before;
    /// [`Error::is_deadlock`] at once when called from the thread
    /// itself (Python: `RuntimeError`), which would wait forever.
    ///
    /// ```
    /// let t = corun::threading::Thread::spawn(|| 7).unwrap();
    /// assert_eq!(t.join().unwrap(), 7);
    /// ```
    pub fn join(mut self) -> Result<T, Error> {
        self.join_inner(None)
    }

    /// Waits at most `timeout` for the thread to finish. On time-out the
    /// thread keeps running and can be joined again; check with
    /// [`Error::is_timeout`]. `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join), plus the time-out. From the thread itself it
    /// fails at once, and the handle stays joinable by another thread.
    ///
    /// ```
    /// use corun::threading::{Event, Thread};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let go = Arc::new(Event::new());
    /// let g = Arc::clone(&go);
    /// let mut t = Thread::spawn(move || g.wait()).unwrap();
    /// assert!(t.join_timeout(Duration::from_millis(5)).unwrap_err().is_timeout());
    /// assert!(t.is_alive());
    /// go.set();
    /// t.join_timeout(Duration::MAX).unwrap();
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<T, Error> {
        self.join_inner(Some(timeout))
    }

    fn join_inner(&mut self, timeout: Option<Duration>) -> Result<T, Error> {
        if std::thread::current().id() == self.ident {
            return Err(join_current_thread());
        }
        let deadline = deadline(timeout);
        let mut outcome = self.shared.outcome.lock();
        while matches!(*outcome, Outcome::Running) {
            match deadline {
                Some(d) => {
                    if self.shared.finished.wait_until(&mut outcome, d).timed_out()
                        && matches!(*outcome, Outcome::Running)
                    {
                        return Err(Error::timeout());
                    }
                }
                // No time-out, or one too long for an `Instant`.
                None => self.shared.finished.wait(&mut outcome),
            }
        }
        let result = match std::mem::replace(&mut *outcome, Outcome::Taken) {
            Outcome::Done(result) => result,
            Outcome::Taken => Err(Error::new(
                ErrorKind::AlreadyTaken,
                "the thread was already joined",
            )),
            Outcome::Running => unreachable!("the loop above waits until it is not"),
        };
        drop(outcome);
        // The function has returned; the OS thread is only unwinding its
        // stack now, so this join is short. Its own panic was caught above.
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        result
    }

    /// Whether the thread's function is still running.
    ///
    /// ```
    /// let t = corun::threading::Thread::spawn(|| ()).unwrap();
    /// let name = t.name().to_owned();
    /// t.join().unwrap();
    /// assert!(name.starts_with("Thread-"));
    /// ```
    pub fn is_alive(&self) -> bool {
        matches!(*self.shared.outcome.lock(), Outcome::Running)
    }

    /// The thread's name.
    ///
    /// ```
    /// let t = corun::threading::Thread::builder().name("n").spawn(|| ()).unwrap();
    /// assert_eq!(t.name(), "n");
    /// # t.join().unwrap();
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The thread's identity (Python's `ident`), unique among live threads.
    ///
    /// ```
    /// let t = corun::threading::Thread::spawn(|| std::thread::current().id()).unwrap();
    /// let ident = t.ident();
    /// assert_eq!(t.join().unwrap(), ident);
    /// ```
    pub fn ident(&self) -> ThreadId {
        self.ident
    }
}

impl ThreadBuilder {
    /// The thread's name (default, and for an empty name as in Python,
    /// `Thread-N`).
    ///
    /// ```
    /// let t = corun::threading::Thread::builder().name("").spawn(|| ()).unwrap();
    /// assert!(t.name().starts_with("Thread-"));
    /// # t.join().unwrap();
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into()).filter(|n: &String| !n.is_empty());
        self
    }

    /// The thread's stack size in bytes (default: the platform's).
    ///
    /// ```
    /// let t = corun::threading::Thread::builder()
    ///     .stack_size(256 * 1024)
    ///     .spawn(|| 1)
    ///     .unwrap();
    /// assert_eq!(t.join().unwrap(), 1);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts `f` on the configured thread.
    ///
    /// # Errors
    ///
    /// When the operating system cannot start a thread; also when the name
    /// contains a NUL byte.
    ///
    /// ```
    /// let t = corun::threading::Thread::builder().spawn(|| 3).unwrap();
    /// assert_eq!(t.join().unwrap(), 3);
    /// ```
    pub fn spawn<T, F>(self, f: F) -> Result<Thread<T>, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let name = self.name.unwrap_or_else(|| {
            format!("Thread-{}", THREAD_COUNTER.fetch_add(1, Ordering::Relaxed))
        });
        if name.contains('\0') {
            return Err(Error::invalid_argument(
                "thread names cannot contain NUL bytes",
            ));
        }
        let shared = Arc::new(Shared {
            outcome: Mutex::new(Outcome::Running),
            finished: Condvar::new(),
        });
        let mut builder = std::thread::Builder::new().name(name.clone());
        if let Some(bytes) = self.stack_size {
            builder = builder.stack_size(bytes);
        }
        let theirs = Arc::clone(&shared);
        let handle = builder
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(f))
                    .map_err(|payload| Error::from_panic(&*payload));
                *theirs.outcome.lock() = Outcome::Done(result);
                theirs.finished.notify_all();
            })
            .map_err(|e| Error::new(ErrorKind::Io, "could not start a thread").with_source(e))?;
        Ok(Thread {
            name,
            ident: handle.thread().id(),
            shared,
            handle: Some(handle),
        })
    }
}

impl<T> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("name", &self.name)
            .field("ident", &self.ident)
            .field("alive", &self.is_alive())
            .finish()
    }
}

/// A thread (or timer) joined from its own thread (Python's
/// `RuntimeError("cannot join current thread")`).
pub(crate) fn join_current_thread() -> Error {
    Error::new(
        ErrorKind::Deadlock,
        "cannot join current thread: it would wait for itself forever",
    )
}
