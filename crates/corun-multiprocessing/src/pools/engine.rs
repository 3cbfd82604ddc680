//! The engine behind [`Pool`](crate::Pool) and
//! [`ProcessPoolExecutor`](crate::ProcessPoolExecutor): one queue of calls,
//! and one supervisor thread per worker process.
//!
//! # How a supervisor works
//!
//! Each supervisor owns one worker process. It takes a call from the
//! shared queue (so an idle worker always gets the next call), marks its
//! task running, writes the call to the worker and reads the reply. When
//! calls are short (the last one took under [`PIPELINE_BELOW`]) and no
//! other supervisor is idle, it keeps up to [`PIPELINE_DEPTH`] calls in the
//! worker's socket, so round trips overlap. Whether one is idle is asked
//! once the head is in hand, and a supervisor turning idle first waits for
//! those that may have asked before it counted itself (`Inner::filling`):
//! so no call is written ahead while a supervisor idles, and one that turns
//! idle finds every call written ahead before it looked. Calls behind
//! others never add up to more than [`PIPELINE_BYTES`], so a write never
//! blocks while the worker may be blocked writing a large reply. A worker
//! answers in order, so the oldest unanswered call (the *head*) is the one
//! it is running, or will run next.
//!
//! # No call waits behind a running one while a worker idles
//!
//! A call written ahead, behind the head, has not begun: its task stays
//! pending (handed off, see [`Promise::hand_off`]) until the worker claims
//! it in their shared ring of claims (`claims.rs`), just before running it.
//! Until then it can be taken back by a compare-and-swap in that ring, and
//! the worker skips it without a reply:
//!
//! - by `cancel` on its task, which then never runs;
//! - by an idle supervisor: it takes over the oldest call queued behind
//!   another worker's head (or waiting for another's next worker), one at
//!   a time, as Python's idle worker takes the next task; only then a call
//!   from the shared queue, since the calls queued at others left it
//!   earlier. A call taken over goes alone, and while it runs no
//!   supervisor writes calls ahead: the worker's next call is again the
//!   oldest queued at others, not a younger one written behind it, and
//!   those queued at others drain. A supervisor that leaves calls queued
//!   while one is idle wakes it ([`Inner::nudge_idle`]);
//! - by `close(cancel_pending)`.
//!
//! Each supervisor's calls sit in its [`Flight`], under a lock, for the
//! others to take over; a call taken over leaves an empty entry, dropped
//! when it reaches the head. The head is never taken back.
//!
//! | what happens                        | the call it was running       | the calls queued behind it | the worker           |
//! |-------------------------------------|-------------------------------|----------------------------|----------------------|
//! | it replies                          | completes with its outcome    | go on                      | goes on              |
//! | it dies (abort, signal, `exit`)     | fails: worker died, and how   | go to the next worker      | reaped and replaced  |
//! | the call outlives `task_timeout`    | fails: timed out              | go to the next worker      | killed and replaced  |
//! | it has served `max_tasks_per_child` | —                             | —                          | retired and replaced |
//! | the pool is terminated              | fails: shut down              | fail: shut down            | killed               |
//!
//! A replacement whose initializer fails breaks the pool: every queued
//! call fails with a broken-executor error and later submissions are
//! refused. Nothing is started again, so a failing initializer cannot loop.
//! A worker killed from outside while it starts (`SIGKILL` from the OOM
//! killer or an operator, during its handshake or initializer) did not
//! fail by itself: it is started again, up to [`KILLED_STARTS`] times in a
//! row.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corun_concurrent::{Error, ErrorKind, Intake, Promise, Task};
use corun_concurrent::{Observer, Outcome, TaskId};
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::{Mutex, MutexGuard};
use serde::de::DeserializeOwned;

use crate::crossing::claims::{Claims, SLOTS};
use crate::workers::worker::{Call, RecvError, Reply, StartFailure, Worker, WorkerOptions};

/// Calls kept in a worker's socket at once when calls are short (and
/// together within [`PIPELINE_BYTES`]). Refilled when half are answered, so
/// one write carries many calls: 32 measured ~2.6 µs per no-op task on
/// 2 workers, against ~5 µs with 8.
const PIPELINE_DEPTH: usize = 32;
// A word of the ring of claims is offered again only once the worker has
// read the call that held it before (see `claims.rs`).
const _: () = assert!(2 * PIPELINE_DEPTH <= SLOTS);
/// Calls shorter than this are pipelined.
const PIPELINE_BELOW: Duration = Duration::from_micros(500);
/// The most bytes of calls kept in a worker's socket at once, the first
/// call aside: well under a socket's buffer, so that writing a call behind
/// others never blocks. (A blocked write would deadlock with a worker
/// blocked writing a large result that nobody reads.)
const PIPELINE_BYTES: usize = 64 << 10;
/// How long a retiring worker has to exit after its shutdown frame before
/// it is killed.
const RETIRE_GRACE: Duration = Duration::from_secs(2);

/// How many starts in a row may be killed from outside before the pool
/// gives up (and breaks), so that an initializer the OOM killer always
/// kills cannot loop.
const KILLED_STARTS: usize = 5;

/// Numbers worker processes for their names, as Python's process counter.
static WORKER_COUNTER: AtomicU64 = AtomicU64::new(1);

/// How an engine is set up (checked by the builders).
pub(crate) struct Config {
    pub(crate) processes: usize,
    /// Workers are named `{name_prefix}-{n}`.
    pub(crate) name_prefix: &'static str,
    pub(crate) initializer: Option<Call>,
    pub(crate) max_tasks_per_child: Option<usize>,
    pub(crate) task_timeout: Option<Duration>,
    pub(crate) memory_limit: Option<u64>,
    pub(crate) recorder: Option<Arc<dyn Observer>>,
}

/// A running engine; dropping it closes it and waits for its workers.
pub(crate) struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    /// The queue of calls, open until closed, terminated or broken.
    intake: Intake<Work>,
    terminated: AtomicBool,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
    /// Each supervisor's current worker, so `terminate` can kill them.
    live: Mutex<Vec<Option<Arc<Worker>>>>,
    /// Each supervisor's calls, where the others can take them over.
    flights: Box<[Mutex<Flight>]>,
    /// Supervisors waiting for a call, with none in their worker.
    idle: AtomicUsize,
    /// Supervisors taking calls from the queue to write behind their
    /// heads, from before they look at `idle` until the calls are in their
    /// flights. An idle supervisor counts itself in `idle`, then waits for
    /// none to be filling before it looks for its next call: so either a
    /// filling one sees it idle, and writes nothing ahead, or it finds what
    /// was written ahead, older than any call left in the queue.
    filling: AtomicUsize,
    /// Supervisors running a call taken over from another, alone: while
    /// one does, the others write no calls ahead either, so that the calls
    /// still queued behind their heads drain and no worker is left taking
    /// them over one at a time while the others top up their own.
    probing: AtomicUsize,
    /// Wakes a supervisor that waits, after `close`, for the others to
    /// end, to look again for calls to take over (one wake-up waits at
    /// most). Before `close`, [`Work::Look`] in the queue does that.
    nudge: Sender<()>,
    nudged: Receiver<()>,
}

/// What the queue carries.
enum Work {
    Call(Job),
    /// Wakes an idle supervisor to look for calls to take over: a message
    /// in the one queue it sleeps on, so that waiting for the next call
    /// stays a plain `recv` rather than a `select` over two channels.
    Look,
}

/// One supervisor's calls: those in its worker, and those waiting for it.
#[derive(Default)]
struct Flight {
    /// Calls written to the worker and not answered yet, oldest first;
    /// the first, the head, is live and started.
    sent: VecDeque<Entry>,
    /// Calls to send to the next worker before taking new ones: those a
    /// dead worker had not begun, one too large to wait behind others.
    retry: VecDeque<Job>,
    /// The current worker's ring of claims, to take calls back.
    claims: Option<Arc<Claims>>,
}

/// A call written to a worker.
struct Entry {
    /// The id it was written with, its word in the ring of claims.
    id: u64,
    /// The size of its frame, which stays in the socket until read.
    bytes: usize,
    /// `None` once taken back (and its task with it).
    job: Option<Job>,
}

/// One submitted call and the task it completes.
struct Job {
    call: Call,
    finish: Box<dyn Finish>,
    /// Whether its task was marked running.
    started: bool,
}

/// Completes a task of some result type from a worker's reply.
trait Finish: Send {
    /// Pending to running; `false` if the task was cancelled.
    fn start(&self) -> bool;
    /// Leaves the task pending, written ahead to a worker, with `revoke`
    /// to take it back on `cancel`; `false` if the task was cancelled.
    fn hand_off(&self, revoke: Box<dyn FnOnce() -> bool + Send>) -> bool;
    /// Records, for the timeline, that a worker began the call.
    fn running_on(&self, pid: u32);
    fn complete(self: Box<Self>, outcome: Result<Reply, Error>);
}

/// Completes a `Task<T>`: with the reply decoded as an `R` for `submit`,
/// with the reply itself for `submit_call`.
struct Completion<T> {
    promise: Promise<T>,
    /// Turns the worker's reply into the task's value or error.
    decode: Box<dyn FnOnce(Reply) -> Result<T, Error> + Send>,
    trace: Option<(Arc<dyn Observer>, TaskId)>,
}

/// One supervisor's state: its worker (its calls are in its [`Flight`]).
struct Supervisor {
    inner: Arc<Inner>,
    slot: usize,
    worker: Option<Arc<Worker>>,
    /// The id of the next call written: consecutive, for the ring.
    next_id: u64,
    /// Calls the current worker has answered.
    served: usize,
    /// The worker could not be written to: it is gone, but replies it sent
    /// before may still wait in the socket. Read those first, and blame
    /// the oldest call left only when the socket ends.
    draining: bool,
    /// When the oldest call in flight started running.
    head_since: Instant,
    /// How long the last answered call ran.
    last_run: Duration,
    /// Its call in flight was taken over from another supervisor and went
    /// alone (counted in [`Inner::probing`]).
    probing: bool,
}

impl Engine {
    /// Starts `config.processes` workers (all at once), waits for their
    /// handshakes, and starts a supervisor for each.
    ///
    /// # Errors
    ///
    /// A broken-executor error when a worker cannot be started or its
    /// initializer fails; every worker started is then killed.
    pub(crate) fn start(config: Config) -> Result<Self, Error> {
        let (nudge, nudged) = crossbeam_channel::bounded(1);
        let processes = config.processes;
        let inner = Arc::new(Inner {
            config,
            intake: Intake::new(),
            terminated: AtomicBool::new(false),
            supervisors: Mutex::new(Vec::with_capacity(processes)),
            live: Mutex::new(vec![None; processes]),
            flights: (0..processes).map(|_| Mutex::default()).collect(),
            idle: AtomicUsize::new(0),
            filling: AtomicUsize::new(0),
            probing: AtomicUsize::new(0),
            nudge,
            nudged,
        });
        let starting = (0..processes)
            .map(|_| Worker::start(&inner.worker_options()))
            .collect::<Result<Vec<_>, _>>()?;
        let workers = starting
            .into_iter()
            .map(|s| match s.complete() {
                Err(StartFailure { killed: true, .. }) => inner.spawn_worker(1),
                done => done.map_err(|failure| failure.error),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(broken_by)?;
        for (slot, worker) in workers.into_iter().enumerate() {
            let worker = Arc::new(worker);
            inner.live.lock()[slot] = Some(Arc::clone(&worker));
            let supervisor = Supervisor::new(Arc::clone(&inner), slot, worker);
            let spawned = std::thread::Builder::new()
                .name(format!("corun-pool-supervisor-{slot}"))
                .spawn(move || supervisor.run());
            match spawned {
                Ok(handle) => inner.supervisors.lock().push(handle),
                Err(e) => {
                    let engine = Engine { inner };
                    engine.terminate();
                    return Err(Error::broken(format!(
                        "cannot start a supervisor thread: {e}"
                    )));
                }
            }
        }
        Ok(Engine { inner })
    }

    /// The number of worker processes.
    pub(crate) fn processes(&self) -> usize {
        self.inner.config.processes
    }

    /// Queues `call`, whose reply decodes as an `R`, and returns its task.
    /// `label` names it in the timeline, when one is recorded.
    ///
    /// # Errors
    ///
    /// Shut down after close or terminate; broken after an initializer
    /// failed.
    pub(crate) fn submit<R>(
        &self,
        call: Call,
        label: impl FnOnce() -> String,
    ) -> Result<Task<R>, Error>
    where
        R: DeserializeOwned + Send + 'static,
    {
        self.submit_decoding(call, label, Box::new(Reply::decode::<R>))
    }

    /// Queues `call` and returns a task of its raw reply, which carries
    /// the call's id as submitted (the engine numbers calls its own way).
    /// A dead worker, a time-out, `cancel` and shutdown fail the task as
    /// for [`submit`](Self::submit).
    ///
    /// # Errors
    ///
    /// As [`submit`](Self::submit).
    pub(crate) fn submit_call(
        &self,
        call: Call,
        label: impl FnOnce() -> String,
    ) -> Result<Task<Reply>, Error> {
        let id = call.id();
        let decode = move |mut reply: Reply| {
            reply.set_id(id);
            Ok(reply)
        };
        self.submit_decoding(call, label, Box::new(decode))
    }

    /// Queues `call`, whose reply `decode` turns into the task's value.
    fn submit_decoding<T: Send + 'static>(
        &self,
        call: Call,
        label: impl FnOnce() -> String,
        decode: Box<dyn FnOnce(Reply) -> Result<T, Error> + Send>,
    ) -> Result<Task<T>, Error> {
        self.inner.intake.check_open()?;
        let (task, promise) = Task::pending();
        let trace = self
            .inner
            .config
            .recorder
            .as_ref()
            .map(|recorder| (Arc::clone(recorder), recorder.submitted(label().into())));
        let job = Job {
            call,
            finish: Box::new(Completion {
                promise,
                decode,
                trace,
            }),
            started: false,
        };
        self.inner.intake.submit(Work::Call(job))?;
        Ok(task)
    }

    /// Stops taking calls; queued calls still run. With `cancel_pending`,
    /// queued calls that have not started are cancelled instead, those
    /// written ahead to a worker included.
    pub(crate) fn close(&self, cancel_pending: bool) {
        for work in self.inner.intake.close(cancel_pending) {
            if let Work::Call(job) = work {
                job.cancel();
            }
        }
        if cancel_pending {
            for flight in &self.inner.flights {
                // Cancelled outside the lock: their callbacks run now.
                let queued = flight.lock().take_unstarted();
                queued.into_iter().for_each(Job::cancel);
            }
        }
    }

    /// Stops at once: queued and running calls fail with a shut-down
    /// error, and every worker is killed.
    pub(crate) fn terminate(&self) {
        self.inner.terminated.store(true, Ordering::Release);
        for work in self.inner.intake.close(true) {
            if let Work::Call(job) = work {
                job.fail(terminated());
            }
        }
        for worker in self.inner.live.lock().iter().flatten() {
            worker.kill();
        }
    }

    /// Waits until every supervisor has ended (after `close` or
    /// `terminate`), and with it every worker process. The handles are
    /// joined under their lock, so a `join` in another thread meanwhile
    /// waits for this one instead of finding none left and returning early.
    pub(crate) fn join(&self) {
        let mut handles = self.inner.supervisors.lock();
        for handle in handles.drain(..) {
            let _ = handle.join();
        }
    }

    /// Whether `close` or `terminate` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.intake.is_closed()
    }

    /// The pids of the live worker processes.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.inner
            .live
            .lock()
            .iter()
            .flatten()
            .map(|w| w.pid())
            .collect()
    }

    /// How many calls wait written ahead in each worker, behind the one it
    /// runs or will run next (those taken back not counted).
    #[cfg(feature = "__test-hooks")]
    pub(crate) fn written_ahead(&self) -> Vec<usize> {
        self.inner
            .flights
            .iter()
            .map(|flight| {
                let flight = flight.lock();
                flight
                    .sent
                    .iter()
                    .skip(1)
                    .filter(|e| e.job.is_some())
                    .count()
            })
            .collect()
    }
}

/// What the tests see of a process pool's pipelines.
#[cfg(feature = "__test-hooks")]
pub trait Pipelines {
    /// How many calls wait written ahead in each worker's socket, behind
    /// the one it runs or will run next: calls that an idle worker or
    /// `cancel` can still take back (those taken back not counted).
    fn written_ahead(&self) -> Vec<usize>;
}

impl Inner {
    fn worker_options(&self) -> WorkerOptions {
        let n = WORKER_COUNTER.fetch_add(1, Ordering::Relaxed);
        WorkerOptions {
            name: format!("{}-{n}", self.config.name_prefix),
            initializer: self.config.initializer.clone(),
            memory_limit: self.config.memory_limit,
            revocable: true,
            ..WorkerOptions::default()
        }
    }

    /// Starts a worker, again if one is killed from outside while it
    /// starts, up to [`KILLED_STARTS`] kills in a row (`killed` so far).
    fn spawn_worker(&self, mut killed: usize) -> Result<Worker, Error> {
        loop {
            let started = Worker::start(&self.worker_options()).map_err(|error| StartFailure {
                error,
                killed: false,
            });
            match started.and_then(|starting| starting.complete()) {
                Ok(worker) => return Ok(worker),
                Err(StartFailure {
                    error,
                    killed: true,
                }) if killed + 1 < KILLED_STARTS && !self.terminated.load(Ordering::Acquire) => {
                    killed += 1;
                    drop(error);
                }
                Err(StartFailure { error, .. }) => return Err(error),
            }
        }
    }

    /// Wakes an idle supervisor, if there is one, to take over calls left
    /// queued (after they were put where it looks, under their flight's
    /// lock: an idle supervisor counts itself before it looks, so either
    /// it sees them or it is counted here).
    fn nudge_idle(&self) {
        fence(Ordering::SeqCst);
        if self.idle.load(Ordering::SeqCst) > 0 {
            self.intake.nudge(Work::Look);
            let _ = self.nudge.try_send(());
        }
    }

    /// Whether a supervisor other than `slot` holds calls.
    fn others_busy(&self, slot: usize) -> bool {
        self.flights.iter().enumerate().any(|(i, flight)| {
            let flight = flight.lock();
            i != slot && !(flight.sent.is_empty() && flight.retry.is_empty())
        })
    }

    /// Marks the engine broken by `error` (a worker that could not be
    /// started), closes it and fails every queued call; the error that
    /// broke it, which later submissions get too.
    fn break_engine(&self, error: Error) -> Error {
        let (error, queued) = self.intake.break_with(broken_by(error));
        for work in queued {
            if let Work::Call(job) = work {
                job.fail(error.clone());
            }
        }
        error
    }
}

impl Job {
    /// Fails the job's task with `error` (marking it running first, so a
    /// pending task fails rather than looks cancelled).
    fn fail(self, error: Error) {
        if self.started || self.finish.start() {
            self.finish.complete(Err(error));
        }
    }

    fn cancel(self) {
        // Dropping a pending promise cancels its task.
        drop(self);
    }
}

impl Flight {
    /// The bytes of the calls written and not yet answered (those taken
    /// back may still wait in the socket).
    fn bytes(&self) -> usize {
        self.sent.iter().map(|e| e.bytes).sum()
    }

    /// Whether calls wait here that an idle supervisor could take over:
    /// behind the head, or for the next worker.
    fn queued(&self) -> bool {
        !self.retry.is_empty() || self.sent.iter().skip(1).any(|e| e.job.is_some())
    }

    /// Takes over the oldest call waiting here: one for the next worker,
    /// or one written behind the head that the worker has not begun.
    fn take_queued(&mut self) -> Option<Job> {
        if let Some(job) = self.retry.pop_front() {
            return Some(job);
        }
        let claims = self.claims.as_ref()?;
        self.sent
            .iter_mut()
            .skip(1)
            .find(|e| e.job.is_some() && claims.revoke(e.id))
            .and_then(|e| e.job.take())
    }

    /// Takes the calls waiting here whose tasks have not started, to
    /// cancel (those written ahead are taken back first).
    fn take_unstarted(&mut self) -> Vec<Job> {
        let mut taken = Vec::new();
        for job in std::mem::take(&mut self.retry) {
            if job.started {
                self.retry.push_back(job);
            } else {
                taken.push(job);
            }
        }
        if let Some(claims) = &self.claims {
            for entry in self.sent.iter_mut().skip(1) {
                if entry.job.as_ref().is_some_and(|j| !j.started) && claims.revoke(entry.id) {
                    taken.extend(entry.job.take());
                }
            }
        }
        taken
    }

    /// Makes the oldest call left the head: drops the entries in front of
    /// it that were taken back or whose tasks were cancelled (the worker
    /// skips those without a reply), and marks its task running on `pid`.
    fn advance(&mut self, pid: u32) {
        while let Some(entry) = self.sent.front_mut() {
            if let Some(job) = &mut entry.job {
                if job.started || job.finish.start() {
                    job.started = true;
                    job.finish.running_on(pid);
                    return;
                }
            }
            self.sent.pop_front();
        }
    }
}

impl Supervisor {
    fn new(inner: Arc<Inner>, slot: usize, worker: Arc<Worker>) -> Self {
        inner.flights[slot].lock().claims = worker.claims();
        Self {
            inner,
            slot,
            worker: Some(worker),
            next_id: 1,
            served: 0,
            draining: false,
            head_since: Instant::now(),
            last_run: Duration::MAX,
            probing: false,
        }
    }

    /// This supervisor's calls.
    fn flight(&self) -> MutexGuard<'_, Flight> {
        self.inner.flights[self.slot].lock()
    }

    /// Serves calls until the queue is closed and drained, then retires
    /// the worker.
    fn run(mut self) {
        while self.fill(true) {
            if let Some((job, reply)) = self.read_one() {
                // Hand the worker its next calls before decoding this
                // reply: a large result then overlaps the next call.
                self.fill(false);
                job.finish.complete(Ok(reply));
            }
        }
        self.set_probing(false);
        self.retire();
        // Others waiting for this one to end look again.
        self.inner.nudge_idle();
    }

    /// How many calls may be in the worker at once now: one unless calls
    /// are short and no other supervisor idles (an idle one takes the
    /// next call from the queue instead) or runs a call taken over.
    fn depth(&self) -> usize {
        let inner = &self.inner;
        let others_free =
            inner.idle.load(Ordering::SeqCst) == 0 && inner.probing.load(Ordering::SeqCst) == 0;
        let depth = if self.last_run < PIPELINE_BELOW && others_free {
            PIPELINE_DEPTH
        } else {
            1
        };
        match self.inner.config.max_tasks_per_child {
            Some(max) => depth.min(max.saturating_sub(self.served)).max(1),
            None => depth,
        }
    }

    /// Sends calls until the worker holds `depth` of them, all those taken
    /// in one write; `false` when none is in flight and the queue is
    /// closed and empty.
    ///
    /// Without `wait`, it only sends calls already queued, and never
    /// sleeps.
    fn fill(&mut self, wait: bool) -> bool {
        // A call taken over that went alone has been answered (or its
        // worker is gone) by now.
        self.set_probing(false);
        let mut depth = self.depth();
        let (in_flight, mut bytes) = {
            let flight = self.flight();
            (flight.sent.len(), flight.bytes())
        };
        if in_flight > depth / 2 {
            // Top up in batches: one write for several calls.
            return true;
        }
        let mut filling = false;
        // A head taken over from another supervisor goes alone: the calls
        // still queued there are older than any in the queue, and this
        // worker takes the next of them once free, rather than run younger
        // ones written behind its head.
        let mut alone = false;
        let mut batch = Vec::new();
        while !self.draining && in_flight + batch.len() < depth {
            let head = in_flight == 0 && batch.is_empty();
            if !head && !filling {
                // Calls behind the head are taken only while no supervisor
                // is idle: counted now, not before the head came, and after
                // saying so to those turning idle (see `Inner::filling`).
                if alone || self.worker.is_none() {
                    // A head taken over goes alone, as does the first call
                    // of a worker yet to start.
                    break;
                }
                filling = true;
                self.inner.filling.fetch_add(1, Ordering::SeqCst);
                depth = self.depth();
                if in_flight + batch.len() >= depth {
                    break;
                }
            }
            let retried = self.flight().retry.pop_front();
            let job = if let Some(job) = retried {
                job
            } else if head {
                if !wait {
                    break;
                }
                self.replace_worker();
                match self.next_job() {
                    Some((job, taken_over)) => {
                        alone = taken_over;
                        job
                    }
                    None => return false,
                }
            } else {
                match self.inner.intake.receiver().try_recv() {
                    Ok(Work::Call(job)) => job,
                    Ok(Work::Look) => {
                        // Meant for an idle supervisor: pass it on.
                        self.inner.nudge_idle();
                        break;
                    }
                    Err(_) => break,
                }
            };
            let size = job.call.frame().len();
            if !head && bytes + size > PIPELINE_BYTES {
                // Too large to wait in the socket: it goes alone, once
                // the calls ahead of it are answered.
                self.flight().retry.push_front(job);
                break;
            }
            if let Some(job) = self.admit(job, head) {
                bytes += size;
                batch.push(job);
            }
        }
        if alone && batch.len() == 1 {
            self.set_probing(true);
        }
        if !batch.is_empty() {
            self.send(batch);
        }
        if filling {
            self.inner.filling.fetch_sub(1, Ordering::SeqCst);
        }
        // The loop ends with a call in flight: it waits for one while none
        // is, and a call that could not be sent goes back to `retry`.
        true
    }

    /// Marks this supervisor as running a call taken over, alone, or not.
    fn set_probing(&mut self, probing: bool) {
        if self.probing != probing {
            self.probing = probing;
            if probing {
                self.inner.probing.fetch_add(1, Ordering::SeqCst);
            } else {
                self.inner.probing.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Waits for the next call: taken over from another supervisor
    /// (`true` beside it), or from the queue. `None` once the queue is
    /// closed and empty and the other supervisors hold no calls.
    ///
    /// It sleeps at once. Polling the queue first (as the socket readers
    /// poll their sockets) was measured slower: with the caller, this
    /// thread and the worker all busy, a 2-core machine has one thread too
    /// many, and the poller delays the thread it waits for.
    fn next_job(&mut self) -> Option<(Job, bool)> {
        let inner = Arc::clone(&self.inner);
        inner.idle.fetch_add(1, Ordering::SeqCst);
        let job = loop {
            // One that did not see this one idle may be writing calls
            // ahead: they are older than any left in the queue.
            while inner.filling.load(Ordering::SeqCst) > 0 {
                std::thread::yield_now();
            }
            // Calls queued at others first: they left the queue before
            // any call still in it.
            if let Some(job) = self.take_over() {
                break Some((job, true));
            }
            let closed = match inner.intake.receiver().try_recv() {
                Ok(Work::Call(job)) => break Some((job, false)),
                Ok(Work::Look) | Err(TryRecvError::Empty) => false,
                Err(TryRecvError::Disconnected) => true,
            };
            if closed {
                if !inner.others_busy(self.slot) {
                    break None;
                }
                // Stay while others may leave calls to take over.
                let _ = inner.nudged.recv();
                continue;
            }
            // A `Look`, or the queue closed: look again.
            if let Ok(Work::Call(job)) = inner.intake.receiver().recv() {
                break Some((job, false));
            }
        };
        inner.idle.fetch_sub(1, Ordering::SeqCst);
        job
    }

    /// Takes over a call queued at another supervisor — behind its
    /// worker's head, or waiting for its next worker — oldest first.
    fn take_over(&self) -> Option<Job> {
        let flights = &self.inner.flights;
        (1..flights.len()).find_map(|k| {
            let mut flight = flights[(self.slot + k) % flights.len()].lock();
            let job = flight.take_queued()?;
            let more = flight.queued();
            drop(flight);
            if more {
                // Another idle supervisor may take the next one.
                self.inner.nudge_idle();
            }
            Some(job)
        })
    }

    /// Checks that the job may still run; `None` (and the task settled) if
    /// it was cancelled while queued, or the engine was terminated or
    /// broke. The `head`, which runs as soon as it is written, is marked
    /// running; a call written behind it is handed off in `send`.
    fn admit(&mut self, mut job: Job, head: bool) -> Option<Job> {
        if self.inner.terminated.load(Ordering::Acquire) {
            job.fail(terminated());
            return None;
        }
        if let Some(error) = self.inner.intake.broken() {
            job.fail(error.clone());
            return None;
        }
        if head && !job.started {
            if !job.finish.start() {
                return None; // cancelled while queued
            }
            job.started = true;
        }
        Some(job)
    }

    /// Writes the calls of `batch` to the worker in one write (starting a
    /// worker first if there is none). Each is offered in the ring of
    /// claims first; those behind the head are handed off, so that they
    /// can be taken back until the worker begins them.
    fn send(&mut self, batch: Vec<Job>) {
        let worker = match self.worker() {
            Ok(worker) => worker,
            Err(error) => {
                // Broken before the tasks fail, so that whoever waits on
                // them finds later submissions refused.
                let error = self.inner.break_engine(error);
                for job in batch {
                    job.fail(error.clone());
                }
                self.fail_all(|| error.clone());
                return;
            }
        };
        let claims = worker.claims();
        let mut head = self.flight().sent.is_empty();
        let mut calls = Vec::with_capacity(batch.len());
        for mut job in batch {
            let id = self.next_id;
            job.call.set_id(id);
            if let Some(claims) = &claims {
                claims.offer(id);
                if !head {
                    let revoker = Arc::clone(claims);
                    if !job.finish.hand_off(Box::new(move || revoker.revoke(id))) {
                        continue; // cancelled while queued: never written
                    }
                }
            }
            head = false;
            self.next_id += 1;
            calls.push(job);
        }
        if calls.is_empty() {
            return;
        }
        if worker
            .send_calls(calls.iter().map(|job| &job.call))
            .is_err()
        {
            // The worker is gone and never saw these calls: they go to the
            // next worker. Which call the worker died on shows once the
            // replies it sent before are read.
            let mut flight = self.flight();
            for job in calls.into_iter().rev() {
                flight.retry.push_front(job);
            }
            let idle = flight.sent.is_empty();
            drop(flight);
            if idle {
                self.on_death(None);
            } else {
                self.draining = true;
            }
            return;
        }
        let mut flight = self.inner.flights[self.slot].lock();
        if flight.sent.is_empty() {
            self.head_since = Instant::now();
            calls[0].finish.running_on(worker.pid());
        }
        flight.sent.extend(calls.into_iter().map(|job| Entry {
            id: job.call.id(),
            bytes: job.call.frame().len(),
            job: Some(job),
        }));
        let queued = flight.queued();
        drop(flight);
        if queued {
            self.inner.nudge_idle();
        }
    }

    /// Starts a worker in place of one that died, timed out or retired,
    /// before waiting for work: an idle pool keeps its size, and the next
    /// call does not wait for a start. Not once the engine is closed.
    fn replace_worker(&mut self) {
        if self.worker.is_some() || self.inner.intake.check_open().is_err() {
            return;
        }
        if let Err(error) = self.worker() {
            let error = self.inner.break_engine(error);
            self.fail_all(|| error.clone());
        }
    }

    /// The current worker, starting one if there is none.
    fn worker(&mut self) -> Result<Arc<Worker>, Error> {
        if let Some(worker) = &self.worker {
            return Ok(Arc::clone(worker));
        }
        let worker = Arc::new(self.inner.spawn_worker(0)?);
        self.inner.live.lock()[self.slot] = Some(Arc::clone(&worker));
        if self.inner.terminated.load(Ordering::Acquire) {
            worker.kill(); // terminate ran while it started
        }
        self.flight().claims = worker.claims();
        self.worker = Some(Arc::clone(&worker));
        self.served = 0;
        Ok(worker)
    }

    /// The deadline of the call at the head of the worker's line: its
    /// own, or the pool's.
    fn head_limit(&self) -> Option<Duration> {
        let own = self
            .flight()
            .sent
            .front()
            .and_then(|entry| entry.job.as_ref())
            .and_then(|job| job.call.timeout());
        own.or(self.inner.config.task_timeout)
    }

    /// Reads the next reply and returns it with its call, to complete;
    /// or deals with the worker's death or a call past its deadline.
    fn read_one(&mut self) -> Option<(Job, Reply)> {
        let Some(worker) = self.worker.clone() else {
            return None; // the calls are in `retry`, for the next worker
        };
        let limit = self.head_limit();
        let timeout =
            limit.map(|limit| (self.head_since + limit).saturating_duration_since(Instant::now()));
        // Poll for a lone call's reply (it comes soon, and polling saves a
        // wake-up); sleep while calls are queued behind it, leaving the CPU
        // to the worker.
        let polling = self.flight().sent.len() == 1;
        match worker.recv_reply_polling(timeout, polling) {
            Ok(reply) => {
                let mut flight = self.inner.flights[self.slot].lock();
                let answered = match flight.sent.pop_front() {
                    Some(Entry {
                        id, job: Some(job), ..
                    }) if id == reply.id() => Ok(job),
                    Some(entry) => {
                        flight.sent.push_front(entry);
                        Err(format!("answered call {} out of order; killed", reply.id()))
                    }
                    None => Err("answered a call it was never sent".to_owned()),
                };
                let job = match answered {
                    Ok(job) => job,
                    Err(why) => {
                        drop(flight);
                        worker.kill();
                        self.on_death(Some(why));
                        return None;
                    }
                };
                self.last_run = self.head_since.elapsed();
                self.head_since = Instant::now();
                self.served += 1;
                flight.advance(worker.pid());
                let spent = self
                    .inner
                    .config
                    .max_tasks_per_child
                    .is_some_and(|max| self.served >= max);
                let idle = flight.sent.is_empty();
                drop(flight);
                if spent && idle {
                    self.retire();
                }
                Some((job, reply))
            }
            Err(RecvError::Timeout) => {
                worker.kill();
                let limit = limit.unwrap_or_default();
                let pid = worker.pid();
                self.drop_worker();
                let head = self.flight().sent.pop_front().and_then(|e| e.job);
                if let Some(job) = head {
                    job.fail(Error::task_timeout(format!(
                        "ran longer than its {limit:?} limit; its worker (pid {pid}) was killed"
                    )));
                }
                self.requeue_in_flight();
                None
            }
            Err(RecvError::Disconnected) => {
                self.on_death(None);
                None
            }
            Err(RecvError::Protocol(why)) => {
                worker.kill();
                self.on_death(Some(format!("sent garbage ({why}); killed")));
                None
            }
        }
    }

    /// The worker is gone (or `why` it was killed): reap it, fail the call
    /// it was running, and send the others to the next worker.
    fn on_death(&mut self, why: Option<String>) {
        let Some(worker) = self.worker.clone() else {
            return;
        };
        worker.close();
        let status = worker.wait();
        self.drop_worker();
        let head = self.flight().sent.pop_front().and_then(|e| e.job);
        if let Some(job) = head {
            let error = if self.inner.terminated.load(Ordering::Acquire) {
                terminated()
            } else {
                let how = why.unwrap_or_else(|| worker.describe_end(status));
                Error::worker_died(format!(
                    "worker process {} {how} while running this task",
                    worker.pid()
                ))
            };
            job.fail(error);
        }
        self.requeue_in_flight();
    }

    /// Calls the dead worker had not begun go first to the next worker
    /// (or to an idle supervisor that takes them over).
    fn requeue_in_flight(&mut self) {
        let mut flight = self.flight();
        while let Some(entry) = flight.sent.pop_back() {
            if let Some(job) = entry.job {
                flight.retry.push_front(job);
            }
        }
        let queued = flight.queued();
        drop(flight);
        if queued {
            self.inner.nudge_idle();
        }
    }

    fn drop_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.close();
            worker.wait();
        }
        self.inner.live.lock()[self.slot] = None;
        self.flight().claims = None;
        self.served = 0;
        self.draining = false;
    }

    /// Lets the worker finish and exit; kills it if it does not.
    fn retire(&mut self) {
        if let Some(worker) = &self.worker {
            if worker.send_shutdown().is_err() || worker.wait_timeout(RETIRE_GRACE).is_none() {
                worker.kill();
            }
        }
        self.drop_worker();
    }

    /// Fails everything this supervisor holds.
    fn fail_all(&mut self, error: impl Fn() -> Error) {
        let mut guard = self.flight();
        let flight = &mut *guard;
        let sent = flight.sent.drain(..).filter_map(|e| e.job);
        let jobs: Vec<Job> = sent.chain(flight.retry.drain(..)).collect();
        drop(guard);
        for job in jobs {
            job.fail(error());
        }
    }
}

impl<T: Send + 'static> Finish for Completion<T> {
    fn start(&self) -> bool {
        self.promise.start()
    }

    fn hand_off(&self, revoke: Box<dyn FnOnce() -> bool + Send>) -> bool {
        self.promise.hand_off(revoke)
    }

    fn running_on(&self, pid: u32) {
        if let Some((recorder, id)) = &self.trace {
            recorder.started(*id, Some(format!("pid {pid}").into()));
        }
    }

    fn complete(self: Box<Self>, outcome: Result<Reply, Error>) {
        // For the timeline, what the call did, whether or not the task's
        // value is the reply itself; a result is `Ok` if it decodes.
        let how = match &outcome {
            Ok(Reply::Returned { .. }) => None,
            Ok(Reply::Panicked { .. }) => Some(Outcome::Panicked),
            Err(e) if e.is_panic() => Some(Outcome::Panicked),
            Ok(_) | Err(_) => Some(Outcome::Failed),
        };
        let Completion {
            promise,
            decode,
            trace,
        } = *self;
        let result = outcome.and_then(decode);
        if let Some((recorder, id)) = &trace {
            let outcome = how.unwrap_or(match &result {
                Ok(_) => Outcome::Ok,
                Err(_) => Outcome::Failed,
            });
            recorder.finished(*id, outcome);
        }
        promise.complete(result);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.close(false);
        self.join();
    }
}

/// `error` as the reason the pool broke: a worker that could not be
/// started is a broken pool (Python's `BrokenProcessPool`), said once.
fn broken_by(error: Error) -> Error {
    if error.is_broken() {
        error
    } else {
        Error::new(ErrorKind::Broken, format!("executor is broken: {error}")).with_source(error)
    }
}

/// The error of a call stopped by `terminate`.
fn terminated() -> Error {
    Error::shut_down()
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("processes", &self.inner.config.processes)
            .field("queued", &self.inner.intake.len())
            .field("pids", &self.pids())
            .field("closed", &self.is_closed())
            .field("broken", &self.inner.intake.broken())
            .finish()
    }
}
