//! `Process`: Python's `multiprocessing.Process`, a function run once in a
//! worker process, whose `join` hands back the function's value.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use corun_concurrent::{Error, Promise, Task};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::shm::shared_memory::SharedMemory;
use crate::workers::worker::{Call, RecvError, Worker, WorkerOptions, exitcode};
use corun_core::deadline::{deadline, remaining};

/// Numbers the default names `Process-1`, `Process-2`, … as Python does.
static PROCESS_COUNTER: AtomicUsize = AtomicUsize::new(1);

/// A function running in its own process (Python's
/// `multiprocessing.Process`).
///
/// The process runs this executable again (see [`init`](crate::init)),
/// calls `f(arg)` once, sends back the result and exits with code 0 — or 1
/// if the function panicked. `f` is a plain `fn` item, the Rust twin of
/// Python's "picklable top-level function"; its argument and result cross
/// with serde (postcard).
///
/// Beyond Python: [`join`](Self::join) returns the function's value, and a
/// panic comes back as an error with its message (Python only prints the
/// traceback in the child). A process that ends without a result (killed,
/// aborted, `exit`ed) gives an error saying how.
///
/// Dropping a `Process` never leaves a zombie behind: a daemon process is
/// killed; a non-daemon process is waited for (Python joins non-daemon
/// children when the parent exits), unless the thread is panicking, when
/// it is killed so a failure cannot hang on it. Every process is killed by
/// the kernel if the parent process dies.
///
/// # Examples
///
/// ```standalone_crate
/// use corun::multiprocessing::Process;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// corun::multiprocessing::init();
/// let p = Process::builder().name("squarer").start(square, 12).unwrap();
/// assert_eq!(p.name(), "squarer");
/// assert_eq!(p.join().unwrap(), 144);
/// ```
#[must_use = "dropping a Process waits for it (or kills a daemon); call join"]
pub struct Process<R> {
    name: String,
    daemon: bool,
    worker: Worker,
    /// Holds the outcome once known; taking it a second time is an
    /// "already taken" error.
    result: Task<R>,
    /// Completes `result`: with the reply as soon as it arrives, or with
    /// how the process died once it is reaped.
    promise: Option<Promise<R>>,
    /// Whether the reply (or the end of the socket) was read.
    replied: bool,
    /// The shared-memory segments the argument names, kept until the
    /// worker has surely attached (not the call: its descriptors would keep
    /// the worker's end of a `Connection` open here).
    _kept: Option<Arc<[SharedMemory]>>,
}

/// Configures a [`Process`] before it starts.
#[derive(Debug, Default, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct ProcessBuilder {
    name: Option<String>,
    daemon: bool,
    memory_limit: Option<u64>,
}

impl<R> Process<R>
where
    R: Serialize + DeserializeOwned + Send + 'static,
{
    /// Starts `f(arg)` in a new process named `Process-N` (Python's
    /// `Process(target=f, args=(arg,)).start()`). Pass a tuple for several
    /// arguments.
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`] when `arg` cannot be serialised (nothing
    /// is started); [`Error::is_broken`] when the process cannot be started
    /// (see [`ProcessBuilder::start`]).
    ///
    /// ```standalone_crate
    /// fn add((a, b): (i32, i32)) -> i32 { a + b }
    ///
    /// corun::multiprocessing::init();
    /// let p = corun::multiprocessing::Process::start(add, (2, 3)).unwrap();
    /// assert!(p.name().starts_with("Process-"));
    /// assert_eq!(p.join().unwrap(), 5);
    /// ```
    pub fn start<A>(f: fn(A) -> R, arg: A) -> Result<Self, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
    {
        ProcessBuilder::default().start(f, arg)
    }
}

impl Process<()> {
    /// A builder to name the process, make it a daemon or limit its memory.
    ///
    /// ```standalone_crate
    /// fn name(_: ()) -> String {
    ///     corun::multiprocessing::current_process().name().to_owned()
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let p = corun::multiprocessing::Process::builder()
    ///     .name("reporter")
    ///     .daemon(true)
    ///     .start(name, ())
    ///     .unwrap();
    /// assert!(p.daemon());
    /// assert_eq!(p.join().unwrap(), "reporter");
    /// ```
    pub fn builder() -> ProcessBuilder {
        ProcessBuilder::default()
    }
}

impl<R> Process<R>
where
    R: DeserializeOwned,
{
    /// Waits for the process to end and returns what its function returned
    /// (Python's `join()`, which returns nothing).
    ///
    /// # Errors
    ///
    /// [`Error::is_panic`] with the [panic message](Error::panic_message)
    /// when the function panicked; [`Error::is_worker_died`] saying how, when the process
    /// ended without a result (killed, aborted, exited); [`Error::is_serialization`]
    /// when the result could not cross; [`Error::is_already_taken`] after a
    /// successful [`join_timeout`](Self::join_timeout).
    ///
    /// ```standalone_crate
    /// fn fail(why: String) -> u8 { panic!("{why}") }
    ///
    /// corun::multiprocessing::init();
    /// let p = corun::multiprocessing::Process::start(fail, "no luck".to_owned()).unwrap();
    /// let err = p.join().unwrap_err();
    /// assert_eq!(err.panic_message(), Some("no luck"));
    /// ```
    pub fn join(mut self) -> Result<R, Error> {
        self.join_until(None)
    }

    /// Waits at most `timeout` for the process to end (Python's
    /// `join(timeout)`). On time-out the process keeps running and can be
    /// joined again; check with [`Error::is_timeout`]. `Duration::MAX`
    /// waits forever.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join), plus the time-out.
    ///
    /// ```standalone_crate
    /// use std::time::Duration;
    ///
    /// fn nap(ms: u64) { std::thread::sleep(Duration::from_millis(ms)) }
    ///
    /// corun::multiprocessing::init();
    /// let mut p = corun::multiprocessing::Process::start(nap, 200).unwrap();
    /// assert!(p.join_timeout(Duration::from_millis(1)).unwrap_err().is_timeout());
    /// assert!(p.is_alive());
    /// p.join_timeout(Duration::MAX).unwrap();
    /// assert_eq!(p.exitcode(), Some(0));
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<R, Error> {
        self.join_until(deadline(Some(timeout)))
    }

    fn join_until(&mut self, deadline: Option<std::time::Instant>) -> Result<R, Error> {
        if !self.replied {
            match self.worker.recv_reply(remaining(deadline)) {
                Ok(reply) => {
                    if let Some(promise) = self.promise.take() {
                        promise.start();
                        promise.complete(reply.decode());
                    }
                }
                Err(RecvError::Timeout) => return Err(Error::timeout()),
                Err(RecvError::Disconnected) => {}
                // Not our worker any more: end it, and report how it ended.
                Err(RecvError::Protocol(_)) => self.worker.kill(),
            }
            self.replied = true;
        }
        let Some(status) = self.worker.wait_until(deadline) else {
            return Err(Error::timeout());
        };
        if let Some(promise) = self.promise.take() {
            promise.start();
            promise.complete(Err(Error::worker_died(self.worker.describe_end(status))));
        }
        self.result.result_timeout(Duration::ZERO)
    }
}

impl<R> Process<R> {
    /// Whether the process is still running (Python's `is_alive()`).
    ///
    /// ```standalone_crate
    /// fn nothing(_: ()) {}
    ///
    /// corun::multiprocessing::init();
    /// let mut p = corun::multiprocessing::Process::start(nothing, ()).unwrap();
    /// p.join_timeout(std::time::Duration::MAX).unwrap();
    /// assert!(!p.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.worker.is_alive()
    }

    /// The exit code once the process has ended: 0 when the function
    /// returned, 1 when it panicked, the code given to `exit`, or minus the
    /// signal that killed it (Python's `exitcode`). `None` while it runs.
    ///
    /// ```standalone_crate
    /// fn quit(code: i32) { std::process::exit(code) }
    ///
    /// corun::multiprocessing::init();
    /// let mut p = corun::multiprocessing::Process::start(quit, 3).unwrap();
    /// assert!(p.join_timeout(std::time::Duration::MAX).unwrap_err().is_worker_died());
    /// assert_eq!(p.exitcode(), Some(3));
    /// ```
    pub fn exitcode(&self) -> Option<i32> {
        self.worker.try_wait().map(exitcode)
    }

    /// Sends `SIGTERM` (Python's `terminate()`): the process ends with
    /// exit code −15 unless it handles the signal. Nothing happens if it
    /// has already ended.
    ///
    /// ```standalone_crate
    /// fn forever(_: ()) { loop { std::thread::park() } }
    ///
    /// corun::multiprocessing::init();
    /// let mut p = corun::multiprocessing::Process::start(forever, ()).unwrap();
    /// p.terminate();
    /// assert!(p.join_timeout(std::time::Duration::MAX).unwrap_err().is_worker_died());
    /// assert_eq!(p.exitcode(), Some(-15));
    /// ```
    pub fn terminate(&self) {
        self.worker.terminate();
    }

    /// Sends `SIGKILL` (Python's `kill()`): the process ends with exit
    /// code −9. Nothing happens if it has already ended.
    ///
    /// ```standalone_crate
    /// fn forever(_: ()) { loop { std::thread::park() } }
    ///
    /// corun::multiprocessing::init();
    /// let mut p = corun::multiprocessing::Process::start(forever, ()).unwrap();
    /// p.kill();
    /// let err = p.join_timeout(std::time::Duration::MAX).unwrap_err();
    /// assert!(err.to_string().contains("SIGKILL"));
    /// assert_eq!(p.exitcode(), Some(-9));
    /// ```
    pub fn kill(&self) {
        self.worker.kill();
    }

    /// The process id (Python's `pid`).
    ///
    /// ```standalone_crate
    /// fn my_pid(_: ()) -> u32 { std::process::id() }
    ///
    /// corun::multiprocessing::init();
    /// let p = corun::multiprocessing::Process::start(my_pid, ()).unwrap();
    /// let pid = p.pid();
    /// assert_eq!(p.join().unwrap(), pid);
    /// ```
    pub fn pid(&self) -> u32 {
        self.worker.pid()
    }

    /// The process's name (Python's `name`), which is also its
    /// `current_process().name()`; see [`Process::builder`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the process is a daemon (Python's `daemon`): killed, not
    /// waited for, when its handle is dropped; see [`Process::builder`].
    pub fn daemon(&self) -> bool {
        self.daemon
    }
}

impl ProcessBuilder {
    /// The process's name (default `Process-N`); see [`Process::builder`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Makes the process a daemon (default `false`): dropping its handle
    /// kills it instead of waiting for it; see [`Process::builder`].
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = daemon;
        self
    }

    /// Limits the memory the process may allocate to `bytes` more than it
    /// holds when it starts: an allocation past it fails, and a Rust
    /// program aborts (exit code −6); [`join`](Process::join) then says it
    /// ran out of memory. Beyond Python. What counts is as for a pool's
    /// workers: see [`PoolBuilder::memory_limit`](crate::PoolBuilder::memory_limit).
    ///
    /// ```standalone_crate
    /// fn allocate(bytes: usize) -> usize { std::hint::black_box(vec![1_u8; bytes]).len() }
    ///
    /// corun::multiprocessing::init();
    /// let limited = || corun::multiprocessing::Process::builder().memory_limit(512 << 20);
    /// assert_eq!(limited().start(allocate, 1 << 20).unwrap().join().unwrap(), 1 << 20);
    /// let mut p = limited().start(allocate, 4 << 30).unwrap();
    /// assert!(p.join_timeout(std::time::Duration::MAX).is_err());
    /// assert_eq!(p.exitcode(), Some(-6)); // aborted: allocation failed
    /// ```
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Starts `f(arg)` in a new process as configured (Python's
    /// `start()`).
    ///
    /// # Errors
    ///
    /// [`Error::is_serialization`] when `arg` cannot be serialised (nothing
    /// is started). [`Error::is_broken`] when the process cannot be started,
    /// with the reason: the program does not call [`init`](crate::init)
    /// first in `main` (or a test file lacks
    /// [`enable_test_workers!`](crate::enable_test_workers)), the operating
    /// system refused, or the memory limit could not be set.
    ///
    /// ```standalone_crate
    /// fn concat((a, b): (String, String)) -> String { a + &b }
    ///
    /// corun::multiprocessing::init();
    /// let p = corun::multiprocessing::Process::builder()
    ///     .start(concat, ("multi".to_owned(), "processing".to_owned()))
    ///     .unwrap();
    /// assert_eq!(p.join().unwrap(), "multiprocessing");
    /// ```
    pub fn start<A, R>(self, f: fn(A) -> R, arg: A) -> Result<Process<R>, Error>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let call = Call::new(f, &arg)?;
        let name = self.name.unwrap_or_else(|| {
            format!(
                "Process-{}",
                PROCESS_COUNTER.fetch_add(1, Ordering::Relaxed)
            )
        });
        let worker = Worker::spawn(&WorkerOptions {
            name: name.clone(),
            memory_limit: self.memory_limit,
            one_shot: true,
            ..WorkerOptions::default()
        })?;
        worker.send_call(&call).map_err(|e| {
            Error::worker_died(format!("the process ended before its call was sent: {e}"))
        })?;
        let (result, promise) = Task::pending();
        Ok(Process {
            name,
            daemon: self.daemon,
            worker,
            result,
            promise: Some(promise),
            replied: false,
            _kept: call.kept(),
        })
    }
}

impl<R> Drop for Process<R> {
    fn drop(&mut self) {
        if !self.worker.is_alive() {
            return;
        }
        if self.daemon || std::thread::panicking() {
            self.worker.kill();
        } else {
            // Nobody will read the result: let the process finish without
            // blocking on a reply larger than the socket buffer.
            self.worker.close();
        }
        self.worker.wait();
    }
}

impl<R> fmt::Debug for Process<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("pid", &self.worker.pid())
            .field("daemon", &self.daemon)
            .field("exitcode", &self.exitcode())
            .finish()
    }
}
