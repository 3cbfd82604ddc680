//! `Worker`: one worker process seen from its parent — the core that
//! [`Process`](crate::Process) and the process pools are built on.
//!
//! This module is hidden from the docs and outside the semver promise: it
//! is the crate's internal API, public so that benchmarks and tests can
//! drive a worker directly.
//!
//! # Using a worker
//!
//! [`Worker::spawn`] starts the process and completes the handshake (see
//! the `crossing` module's docs): the worker proved it runs this executable,
//! applied its [`WorkerOptions`] and ran the initializer. Then:
//!
//! - [`send_call`](Worker::send_call) writes a [`Call`] (one `send`);
//! - [`recv_reply`](Worker::recv_reply) reads the next [`Reply`], with a
//!   time-out told apart from the worker's end ([`RecvError`]);
//! - calls may be pipelined: write several, then read their replies, which
//!   come in the order of the calls. Mind the socket buffers (about 200 KiB
//!   each way): a parent that writes large calls without reading replies
//!   can block while the worker blocks writing a reply. Reading from one
//!   thread while another writes avoids that — every method takes `&self`,
//!   and a `Worker` is `Sync`, for this;
//! - [`kill`](Worker::kill), [`terminate`](Worker::terminate),
//!   [`wait`](Worker::wait) / [`wait_timeout`](Worker::wait_timeout) /
//!   [`try_wait`](Worker::try_wait), and [`describe_exit`] / [`exitcode`]
//!   to say how it ended;
//! - [`send_shutdown`](Worker::send_shutdown) or
//!   [`close`](Worker::close) to let it finish: it exits 0 after the calls
//!   before the shutdown, or at once when the socket closes.
//!
//! Dropping a `Worker` kills the process if it still runs, and always reaps
//! it. [`Worker::start`] and [`Starting::finish`] split `spawn` so that a
//! pool can start all its workers before waiting for any handshake.
//!
//! ```standalone_crate
//! use corun::multiprocessing::test_hooks::{Call, Worker, WorkerOptions};
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! corun::multiprocessing::init();
//! let worker = Worker::spawn(&WorkerOptions::default()).unwrap();
//! for i in 0..4 {
//!     worker.send_call(&Call::new(square, &i).unwrap().with_id(i)).unwrap();
//! }
//! for i in 0..4 {
//!     let reply = worker.recv_reply(None).unwrap();
//!     assert_eq!(reply.id(), i);
//!     assert_eq!(reply.decode::<u64>().unwrap(), i * i);
//! }
//! ```

use std::fmt;
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::slice;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use corun_concurrent::{Error, ErrorKind};
use parking_lot::Mutex;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, PidfdFlags, Signal, kill_process, pidfd_open};

pub use crate::crossing::call::{Call, Reply};
pub use crate::launch::exit_status::{describe_exit, exitcode};

use crate::crossing::claims::Claims;
use crate::crossing::fd_passing::send_with_fds;
use crate::crossing::handshake::{Expected, Hello, Setup, Token, check_hello};
use crate::crossing::wire::{self, FrameReader, Kind, ReadError};
use crate::launch::command::{ENV_VAR, SELF_EXE, WORKER_ARGS};
use crate::workers::current::current_process;
use crate::workers::init::check_bootstrapped;
use corun_core::deadline::{deadline, remaining};

/// How long a new worker has to say hello: long enough for a loaded
/// machine to start a large binary, short enough that a program that never
/// answers is reported.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The rule a program that starts workers must follow, for the errors
/// that come from breaking it.
const NEEDS_INIT: &str = "a program that starts workers must call \
     corun::multiprocessing::init() first in main, and a test file must invoke \
     corun::multiprocessing::enable_test_workers!() at its top level";

/// How a worker is set up before it serves calls.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The worker's name, its `current_process().name()`.
    pub name: String,
    /// A call run once before any other (a pool's `initializer`); if it
    /// panics or does not cross, [`Worker::spawn`] fails.
    pub initializer: Option<Call>,
    /// A limit on the memory the worker may allocate beyond what it holds
    /// when it gets its setup, in bytes (`RLIMIT_DATA` set to its `VmData`
    /// plus this). An allocation past it fails, which aborts a Rust
    /// program; the worker says so first ([`Worker::ran_out_of_memory`]).
    pub memory_limit: Option<u64>,
    /// Exit after the first call (0 if it returned, 1 if it failed), as a
    /// [`Process`](crate::Process) does.
    pub one_shot: bool,
    /// How long the worker has to start and say hello.
    pub handshake_timeout: Duration,
    /// The program to start instead of this executable. For tests of the
    /// handshake: anything but this executable is refused.
    pub program: Option<PathBuf>,
    /// Calls written ahead may be taken back until the worker begins them
    /// (what a pool does; see `claims.rs`). Every call must then be
    /// offered first, which only the crate's pool does.
    pub revocable: bool,
}

/// A worker process and the socket to it (see the [module docs](self)).
pub struct Worker {
    pid: u32,
    stream: UnixStream,
    /// Held while a frame is written, so frames from two threads never
    /// interleave.
    writing: Mutex<()>,
    reader: Mutex<FrameReader>,
    child: Mutex<Reaped>,
    /// Readable once the process has ended (Linux 5.3+); without it,
    /// waits poll.
    pidfd: Option<OwnedFd>,
    /// The calls it has begun, for a revocable worker.
    claims: Option<Arc<Claims>>,
    /// The worker's memory limit, in bytes.
    memory_limit: Option<u64>,
    /// Whether the worker reported running out of memory.
    out_of_memory: AtomicBool,
}

/// A worker started but not yet through the handshake; from
/// [`Worker::start`].
#[must_use = "a starting worker is killed when dropped; call finish"]
pub struct Starting {
    worker: Worker,
    expected: Expected,
    setup: Vec<u8>,
    /// The descriptors of the initializer's argument, sent with the setup.
    setup_fds: Option<Arc<[OwnedFd]>>,
    /// The ring of claims to send before them, for a revocable worker.
    claims_fd: Option<OwnedFd>,
    timeout: Duration,
    deadline: Option<Instant>,
}

/// Why [`Worker::recv_reply`] returned no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecvError {
    /// The time-out passed; the worker may still answer later.
    Timeout,
    /// The worker closed the socket: it exited or was killed. Ask
    /// [`Worker::wait`] how.
    Disconnected,
    /// The worker sent something that is not a reply; kill it.
    Protocol(String),
}

/// Why a worker did not start, as [`Starting::finish`] says it, and
/// whether a signal from outside killed it meanwhile.
#[derive(Debug)]
pub(crate) struct StartFailure {
    pub(crate) error: Error,
    /// Killed while starting by a signal it does not raise on its own
    /// (`SIGKILL`, `SIGTERM`, …: the OOM killer, an operator), rather than
    /// failing by itself.
    pub(crate) killed: bool,
}

#[derive(Debug)]
struct Reaped {
    child: Child,
    status: Option<ExitStatus>,
}

impl Worker {
    /// Starts a worker process and completes its handshake.
    ///
    /// # Errors
    ///
    /// [`Error::is_broken`], saying why: the process could not be started;
    /// it runs another executable, or never said hello (the program does
    /// not call [`init`](crate::init) first in `main`, or a test file lacks
    /// [`enable_test_workers!`](crate::enable_test_workers)); it died while
    /// starting; the memory limit could not be set; the initializer
    /// failed. Also when called from a process that was started as a worker
    /// but did not call `init`. The process is killed and reaped.
    pub fn spawn(options: &WorkerOptions) -> Result<Self, Error> {
        Self::start(options)?.finish()
    }

    /// Starts a worker process without waiting for it; finish with
    /// [`Starting::finish`].
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn), for the failures before the handshake.
    pub fn start(options: &WorkerOptions) -> Result<Starting, Error> {
        check_bootstrapped()?;
        let failed = |what: &str, e: std::io::Error| {
            start_error(format!("cannot start a worker process: {what}: {e}"))
        };
        let token = Token::new();
        let setup = wire::encode(
            Kind::Setup,
            &Setup {
                name: options.name.clone(),
                parent_name: current_process().name().to_owned(),
                memory_limit: options.memory_limit,
                initializer: options.initializer.as_ref().map(|c| c.payload().to_vec()),
                one_shot: options.one_shot,
                revocable: options.revocable,
            },
        )
        .map_err(|e| Error::serialization(format!("cannot send the worker's setup: {e}")))?;
        let (claims, claims_fd) = if options.revocable {
            let (claims, fd) = Claims::create().map_err(|e| failed("memfd", e))?;
            (Some(Arc::new(claims)), Some(fd))
        } else {
            (None, None)
        };
        let (ours, theirs) = UnixStream::pair().map_err(|e| failed("socketpair", e))?;
        let program = options
            .program
            .as_deref()
            .unwrap_or_else(|| Path::new(SELF_EXE));
        let mut command = Command::new(program);
        command
            .args(WORKER_ARGS)
            .env(ENV_VAR, token.encode())
            .stdin(Stdio::from(OwnedFd::from(theirs)));
        let child = crate::launch::spawner::spawn(command)
            .map_err(|e| failed(&program.display().to_string(), e))?;
        let pid = child.id();
        let pidfd = pidfd_open(Pid::from_child(&child), PidfdFlags::empty()).ok();
        let worker = Worker {
            pid,
            stream: ours,
            writing: Mutex::new(()),
            reader: Mutex::new(FrameReader::new(crate::crossing::wire::SPIN)),
            child: Mutex::new(Reaped {
                child,
                status: None,
            }),
            pidfd,
            claims,
            memory_limit: options.memory_limit,
            out_of_memory: AtomicBool::new(false),
        };
        let expected =
            Expected::new(&token, pid).map_err(|e| failed("cannot stat the executable", e))?;
        Ok(Starting {
            worker,
            expected,
            setup,
            setup_fds: options.initializer.as_ref().and_then(Call::shared_fds),
            claims_fd,
            timeout: options.handshake_timeout,
            deadline: deadline(Some(options.handshake_timeout)),
        })
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The calls it has begun, for a revocable worker.
    pub(crate) fn claims(&self) -> Option<Arc<Claims>> {
        self.claims.clone()
    }

    /// Writes `call` to the worker; its [`Reply`] comes from
    /// [`recv_reply`](Self::recv_reply). A call with descriptors (an
    /// argument holding a [`Connection`](crate::Connection)) is written
    /// with one `sendmsg` that carries them.
    ///
    /// # Errors
    ///
    /// When the socket fails, which means the worker is gone.
    pub fn send_call(&self, call: &Call) -> std::io::Result<()> {
        let _writing = self.writing.lock();
        send_with_fds(&self.stream, call.frame(), call.fds())
    }

    /// Writes several calls with one `send`: how a pool pipelines short
    /// calls without a system call each. Their replies come in this order.
    /// A call with descriptors goes in a write of its own (the calls
    /// before it are written first), so that they arrive with its first
    /// byte.
    ///
    /// # Errors
    ///
    /// When the socket fails, which means the worker is gone; some of the
    /// calls may have been written.
    pub fn send_calls<'a>(&self, calls: impl IntoIterator<Item = &'a Call>) -> std::io::Result<()> {
        let mut calls = calls.into_iter();
        let Some(first) = calls.next() else {
            return Ok(());
        };
        let Some(second) = calls.next() else {
            return self.send_call(first); // no copy for a lone call
        };
        let mut frames = Vec::new();
        let mut with_fds = Vec::new();
        for call in [first, second].into_iter().chain(calls) {
            if call.fds().is_empty() {
                frames.extend_from_slice(call.frame());
            } else {
                // Where it goes among the frames, to write it there.
                with_fds.push((frames.len(), call));
            }
        }
        let _writing = self.writing.lock();
        let mut written = 0;
        for (at, call) in with_fds {
            wire::send_all(&self.stream, &frames[written..at])?;
            send_with_fds(&self.stream, call.frame(), call.fds())?;
            written = at;
        }
        wire::send_all(&self.stream, &frames[written..])
    }

    /// Asks the worker to exit (code 0) once it has answered the calls sent
    /// before.
    ///
    /// # Errors
    ///
    /// When the socket fails, which means the worker is gone.
    pub fn send_shutdown(&self) -> std::io::Result<()> {
        let _writing = self.writing.lock();
        wire::send_all(&self.stream, &[0, 0, 0, 0, Kind::Shutdown as u8])
    }

    /// Reads the next reply, waiting at most `timeout` (`None` or
    /// `Duration::MAX`: forever).
    ///
    /// # Errors
    ///
    /// [`RecvError::Timeout`] when the time-out passed (call again to keep
    /// waiting: a partly received reply is kept); [`RecvError::Disconnected`]
    /// when the worker is gone; [`RecvError::Protocol`] for garbage.
    pub fn recv_reply(&self, timeout: Option<Duration>) -> Result<Reply, RecvError> {
        self.recv_reply_polling(timeout, true)
    }

    /// As [`recv_reply`](Self::recv_reply); `polling: false` sleeps at once
    /// instead of first polling the socket for a moment — for a reply that
    /// waits behind other calls, while the worker needs the CPU.
    ///
    /// # Errors
    ///
    /// As [`recv_reply`](Self::recv_reply).
    pub fn recv_reply_polling(
        &self,
        timeout: Option<Duration>,
        polling: bool,
    ) -> Result<Reply, RecvError> {
        let deadline = deadline(timeout);
        let mut reader = self.reader.lock();
        loop {
            let frame = reader
                .read_polling(&self.stream, deadline, polling)
                .map_err(RecvError::from)?;
            if frame.kind == Kind::OutOfMemory {
                self.out_of_memory.store(true, Ordering::Relaxed);
                continue;
            }
            return Reply::from_frame(&frame).map_err(RecvError::Protocol);
        }
    }

    /// Whether the worker said that an allocation failed past its memory
    /// limit, and that it is aborting for it (read by
    /// [`recv_reply`](Self::recv_reply), which then goes on to the end of
    /// the socket).
    pub fn ran_out_of_memory(&self) -> bool {
        self.out_of_memory.load(Ordering::Relaxed)
    }

    /// How the worker ended with `status`, for an error: what
    /// [`describe_exit`] says, and, under a memory limit, that it ran out
    /// of memory (when it said so) or may have (when it aborted without
    /// saying).
    ///
    /// ```standalone_crate
    /// use corun::multiprocessing::test_hooks::{Call, Worker, WorkerOptions};
    ///
    /// fn allocate_kib(n: usize) -> usize {
    ///     (0..n).map(|_| Box::new([1_u8; 1024])).collect::<Vec<_>>().len()
    /// }
    ///
    /// corun::multiprocessing::init();
    /// let worker = Worker::spawn(&WorkerOptions {
    ///     memory_limit: Some(1 << 20),
    ///     ..WorkerOptions::default()
    /// })
    /// .unwrap();
    /// worker.send_call(&Call::new(allocate_kib, &8192).unwrap()).unwrap();
    /// assert!(worker.recv_reply(None).is_err());
    /// assert!(worker.ran_out_of_memory());
    /// assert_eq!(
    ///     worker.describe_end(worker.wait()),
    ///     "ran out of memory (an allocation failed past its memory limit of 1048576 bytes) \
    ///      and aborted (SIGABRT)"
    /// );
    /// ```
    pub fn describe_end(&self, status: ExitStatus) -> String {
        let how = describe_exit(status);
        match self.memory_limit {
            Some(limit) if self.ran_out_of_memory() => {
                format!(
                    "{} and {how}",
                    crate::workers::memory_limit::out_of_memory(limit)
                )
            }
            Some(limit) if exitcode(status) == -libc::SIGABRT => format!(
                "{how}; it ran under a memory limit of {limit} bytes, and an allocation \
                 past it aborts the process (its standard error then says \
                 \"memory allocation of … bytes failed\")"
            ),
            _ => how,
        }
    }

    /// Sends `SIGKILL`, unless the process was already reaped.
    pub fn kill(&self) {
        self.signal(Signal::KILL);
    }

    /// Sends `SIGTERM`, unless the process was already reaped.
    pub fn terminate(&self) {
        self.signal(Signal::TERM);
    }

    /// Closes the socket both ways: a worker waiting for a call exits 0; one
    /// running a call finds the socket closed when it replies, and exits.
    pub fn close(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// How the process ended, if it has (it is then reaped).
    pub fn try_wait(&self) -> Option<ExitStatus> {
        let mut reaped = self.child.lock();
        if reaped.status.is_none() {
            reaped.status = match reaped.child.try_wait() {
                Ok(status) => status,
                // ECHILD: children are reaped behind our back (SIGCHLD is
                // ignored). It is gone; like CPython's Popen, call it 0.
                Err(_) => Some(ExitStatus::from_raw(0)),
            };
        }
        reaped.status
    }

    /// Whether the process has not ended yet.
    pub fn is_alive(&self) -> bool {
        self.try_wait().is_none()
    }

    /// Waits for the process to end and reaps it.
    pub fn wait(&self) -> ExitStatus {
        loop {
            if let Some(status) = self.wait_until(None) {
                return status;
            }
        }
    }

    /// Waits at most `timeout` for the process to end; `None` if it still
    /// runs.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<ExitStatus> {
        self.wait_until(deadline(Some(timeout)))
    }

    /// Waits for the process to end until `deadline` (`None`: forever)
    /// without holding the child's lock, so `kill` can be called meanwhile.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            let left = remaining(deadline);
            if left == Some(Duration::ZERO) {
                return None;
            }
            match &self.pidfd {
                Some(pidfd) => {
                    let timeout = left.map(|d| Timespec {
                        tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
                        tv_nsec: d.subsec_nanos().into(),
                    });
                    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
                    let _ = poll(&mut fds, timeout.as_ref());
                }
                None => std::thread::sleep(left.map_or(Duration::from_millis(1), |d| {
                    d.min(Duration::from_millis(1))
                })),
            }
        }
    }

    fn signal(&self, signal: Signal) {
        // Under the lock nobody reaps, so the pid is still this process's
        // (a zombie at worst) and cannot have been reused.
        let reaped = self.child.lock();
        if reaped.status.is_none() {
            if let Some(pid) = Pid::from_raw(self.pid as i32) {
                let _ = kill_process(pid, signal);
            }
        }
    }

    fn read_frame(&self, deadline: Option<Instant>) -> Result<(Kind, Vec<u8>), ReadError> {
        let mut reader = self.reader.lock();
        let frame = reader.read(&self.stream, deadline)?;
        Ok((frame.kind, frame.payload.to_vec()))
    }

    /// Why the worker is gone, for an error while starting: how it ended,
    /// if it ends within a moment of closing its socket, and whether a
    /// signal from outside killed it.
    fn gone(&self) -> (String, bool) {
        match self.wait_timeout(Duration::from_secs(5)) {
            Some(status) => (self.describe_end(status), killed_from_outside(status)),
            None => ("closed its socket".to_owned(), false),
        }
    }
}

impl Starting {
    /// The started process's id.
    pub fn pid(&self) -> u32 {
        self.worker.pid
    }

    /// Completes the handshake: checks the worker's hello, sends its setup,
    /// waits until it has run its initializer.
    ///
    /// # Errors
    ///
    /// As [`Worker::spawn`].
    pub fn finish(self) -> Result<Worker, Error> {
        self.complete().map_err(|failure| failure.error)
    }

    /// As [`finish`](Self::finish), telling a worker killed from outside
    /// while it started from one that failed by itself.
    pub(crate) fn complete(self) -> Result<Worker, StartFailure> {
        let failed = |error| StartFailure {
            error,
            killed: false,
        };
        let worker = self.worker;
        let pid = worker.pid;
        let refused =
            |why: String| failed(start_error(format!("refused worker process {pid}: {why}")));
        let gone = |what: &dyn Fn(String) -> String| {
            let (how, killed) = worker.gone();
            StartFailure {
                error: start_error(what(how)),
                killed,
            }
        };
        let hello = match worker.read_frame(self.deadline) {
            Ok((Kind::Hello, payload)) => postcard::from_bytes::<Hello>(&payload)
                .map_err(|e| refused(format!("its hello does not decode: {e}")))?,
            Ok((kind, _)) => return Err(refused(format!("its first frame is {kind:?}"))),
            Err(ReadError::Malformed(why)) => {
                return Err(refused(format!("not a corun worker: {why}")));
            }
            Err(ReadError::Timeout) => {
                return Err(refused(format!(
                    "no handshake within {:?}; {NEEDS_INIT}",
                    self.timeout
                )));
            }
            Err(ReadError::Closed | ReadError::Io(_)) => {
                return Err(gone(&|how| {
                    format!("worker process {pid} {how} before the handshake; {NEEDS_INIT}")
                }));
            }
        };
        check_hello(&self.expected, &hello).map_err(refused)?;
        let mut setup = &self.setup[..];
        let mut sent = Ok(());
        if let Some(fd) = &self.claims_fd {
            // In a write of its own, so that it comes as a batch of its own,
            // before the initializer's.
            sent = send_with_fds(&worker.stream, &setup[..1], slice::from_ref(fd));
            setup = &setup[1..];
        }
        let setup_fds = self.setup_fds.as_deref().unwrap_or_default();
        sent.and_then(|()| send_with_fds(&worker.stream, setup, setup_fds))
            .map_err(|e| gone(&|how| format!("worker process {pid} is gone: {e}: {how}")))?;
        match worker.read_frame(None) {
            Ok((Kind::Ready, _)) => Ok(worker),
            Ok((Kind::InitFailed, why)) => Err(failed(start_error(format!(
                "worker process {pid} failed to start: {}",
                String::from_utf8_lossy(&why)
            )))),
            Ok((Kind::OutOfMemory, _)) => {
                // The initializer allocated past the limit.
                worker.out_of_memory.store(true, Ordering::Relaxed);
                Err(gone(&|how| {
                    format!("worker process {pid} died while starting: {how}")
                }))
            }
            Ok((kind, _)) => Err(refused(format!("a {kind:?} frame instead of ready"))),
            Err(ReadError::Malformed(why)) => Err(refused(why)),
            Err(_) => Err(gone(&|how| {
                format!("worker process {pid} died while starting: {how}")
            })),
        }
    }
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            name: "Worker".to_owned(),
            initializer: None,
            memory_limit: None,
            one_shot: false,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            program: None,
            revocable: false,
        }
    }
}

/// Whether `status` says a signal from outside ended the process: one a
/// process does not raise on its own when it fails (as `SIGABRT`,
/// `SIGSEGV`, `SIGBUS` are).
fn killed_from_outside(status: ExitStatus) -> bool {
    status.signal().is_some_and(|raw| {
        [Signal::KILL, Signal::TERM, Signal::INT, Signal::HUP]
            .iter()
            .any(|s| s.as_raw() == raw)
    })
}

impl From<ReadError> for RecvError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Timeout => RecvError::Timeout,
            ReadError::Closed => RecvError::Disconnected,
            ReadError::Malformed(why) => RecvError::Protocol(why),
            ReadError::Io(e) => RecvError::Protocol(format!("socket error: {e}")),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.try_wait().is_none() {
            self.kill();
            self.wait();
        }
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("pid", &self.pid)
            .field("status", &self.child.lock().status)
            .field("socket", &self.stream.as_fd())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Starting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Starting")
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Timeout => f.write_str("timed out waiting for the worker's reply"),
            RecvError::Disconnected => f.write_str("the worker closed its socket"),
            RecvError::Protocol(why) => write!(f, "the worker broke the protocol: {why}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// A worker that could not be started, and why (a pool that cannot start
/// its workers is broken by it; a `Process` returns it as is).
pub(crate) fn start_error(why: String) -> Error {
    Error::new(ErrorKind::ProcessStart, why)
}
