//! The engine behind [`Pool`](crate::Pool) and
//! [`ProcessPoolExecutor`](crate::ProcessPoolExecutor): one queue of calls,
//! and one supervisor thread per worker process.
//!
//! # How a supervisor works
//!
//! Each supervisor owns one worker process. It takes a call from the
//! shared queue (so an idle worker always gets the next call), marks its
//! task running, writes the call to the worker and reads the reply. When
//! calls are short (the last one took under [`PIPELINE_BELOW`]) it keeps up
//! to [`PIPELINE_DEPTH`] calls in the worker's socket, so round trips
//! overlap; long calls go one at a time, so no call waits behind a long
//! one while another worker idles. Calls behind others never add up to
//! more than [`PIPELINE_BYTES`], so a write never blocks while the worker
//! may be blocked writing a large reply. A worker answers in order, so the
//! oldest unanswered call is the one it is running.
//!
//! | what happens                        | the call it was running       | the calls queued behind it | the worker           |
//! |-------------------------------------|-------------------------------|----------------------------|----------------------|
//! | it replies                          | completes with its outcome    | go on                      | goes on              |
//! | it dies (abort, signal, `exit`)     | fails: worker died, and how   | re-sent to a new worker    | reaped and replaced  |
//! | the call outlives `task_timeout`    | fails: timed out              | re-sent to a new worker    | killed and replaced  |
//! | it has served `max_tasks_per_child` | —                             | —                          | retired and replaced |
//! | the pool is terminated              | fails: shut down              | fail: shut down            | killed               |
//!
//! A replacement whose initializer fails breaks the pool: every queued
//! call fails with a broken-executor error and later submissions are
//! refused. Nothing is started again, so a failing initializer cannot loop.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corun_concurrent::{Error, Promise, Task};
use corun_trace::{Outcome, Recorder, TaskId};
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use crate::worker::{Call, RecvError, Reply, Worker, WorkerOptions};

/// Calls kept in a worker's socket at once when calls are short (and
/// together within [`PIPELINE_BYTES`]). Refilled when half are answered, so
/// one write carries many calls: 32 measured ~2.6 µs per no-op task on
/// 2 workers, against ~5 µs with 8.
const PIPELINE_DEPTH: usize = 32;
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
    pub(crate) recorder: Option<Recorder>,
}

/// A running engine; dropping it closes it and waits for its workers.
pub(crate) struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    /// `None` once closed or terminated: the queue is closed.
    sender: Mutex<Option<Sender<Job>>>,
    receiver: Receiver<Job>,
    /// Why the engine is broken, once it is.
    broken: Mutex<Option<String>>,
    terminated: AtomicBool,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
    /// Each supervisor's current worker, so `terminate` can kill them.
    live: Mutex<Vec<Option<Arc<Worker>>>>,
    next_id: AtomicU64,
}

/// One submitted call and the task it completes.
struct Job {
    call: Call,
    finish: Box<dyn Finish>,
    /// Whether its task was marked running (a call re-sent after its worker
    /// died already was).
    started: bool,
}

/// Completes a task of some result type from a worker's reply.
trait Finish: Send {
    /// Pending to running; `false` if the task was cancelled.
    fn start(&self) -> bool;
    /// Records, for the timeline, that a worker began the call.
    fn running_on(&self, pid: u32);
    fn complete(self: Box<Self>, outcome: Result<Reply, Error>);
}

struct Completion<R> {
    promise: Promise<R>,
    trace: Option<(Recorder, TaskId)>,
}

/// One supervisor's state: its worker and the calls in that worker.
struct Supervisor {
    inner: Arc<Inner>,
    slot: usize,
    worker: Option<Arc<Worker>>,
    /// Calls written to the worker and not answered yet, oldest first.
    in_flight: VecDeque<Job>,
    /// Calls to send again, to a new worker, before taking new ones.
    retry: VecDeque<Job>,
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
        let (sender, receiver) = crossbeam_channel::unbounded();
        let processes = config.processes;
        let inner = Arc::new(Inner {
            config,
            sender: Mutex::new(Some(sender)),
            receiver,
            broken: Mutex::new(None),
            terminated: AtomicBool::new(false),
            supervisors: Mutex::new(Vec::with_capacity(processes)),
            live: Mutex::new(vec![None; processes]),
            next_id: AtomicU64::new(0),
        });
        let starting = (0..processes)
            .map(|_| Worker::start(&inner.worker_options()))
            .collect::<Result<Vec<_>, _>>()?;
        let workers = starting
            .into_iter()
            .map(|s| s.finish())
            .collect::<Result<Vec<_>, _>>()?;
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
        self.inner.check_open()?;
        let (task, promise) = Task::pending();
        let trace = self
            .inner
            .config
            .recorder
            .as_ref()
            .map(|recorder| (recorder.clone(), recorder.submitted(label())));
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            call: call.with_id(id),
            finish: Box::new(Completion { promise, trace }),
            started: false,
        };
        let sender = self.inner.sender.lock();
        match sender.as_ref().map(|tx| tx.send(job)) {
            Some(Ok(())) => Ok(task),
            _ => {
                drop(sender);
                Err(self
                    .inner
                    .check_open()
                    .err()
                    .unwrap_or_else(Error::shut_down))
            }
        }
    }

    /// Stops taking calls; queued calls still run. With `cancel_pending`,
    /// queued calls that have not started are cancelled instead.
    pub(crate) fn close(&self, cancel_pending: bool) {
        let sender = self.inner.sender.lock().take();
        if cancel_pending {
            while let Ok(job) = self.inner.receiver.try_recv() {
                job.cancel();
            }
        }
        drop(sender);
    }

    /// Stops at once: queued and running calls fail with a shut-down
    /// error, and every worker is killed.
    pub(crate) fn terminate(&self) {
        self.inner.terminated.store(true, Ordering::Release);
        drop(self.inner.sender.lock().take());
        while let Ok(job) = self.inner.receiver.try_recv() {
            job.fail(terminated());
        }
        for worker in self.inner.live.lock().iter().flatten() {
            worker.kill();
        }
    }

    /// Waits until every supervisor has ended (after `close` or
    /// `terminate`), and with it every worker process.
    pub(crate) fn join(&self) {
        let handles = std::mem::take(&mut *self.inner.supervisors.lock());
        for handle in handles {
            let _ = handle.join();
        }
    }

    /// Whether `close` or `terminate` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.sender.lock().is_none()
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
}

impl Inner {
    fn check_open(&self) -> Result<(), Error> {
        if let Some(why) = &*self.broken.lock() {
            return Err(Error::broken(why.clone()));
        }
        if self.sender.lock().is_none() {
            return Err(Error::shut_down());
        }
        Ok(())
    }

    fn worker_options(&self) -> WorkerOptions {
        let n = WORKER_COUNTER.fetch_add(1, Ordering::Relaxed);
        WorkerOptions {
            name: format!("{}-{n}", self.config.name_prefix),
            initializer: self.config.initializer.clone(),
            memory_limit: self.config.memory_limit,
            ..WorkerOptions::default()
        }
    }

    /// Marks the engine broken, closes it and fails every queued call.
    fn break_engine(&self, why: &str) {
        self.broken.lock().get_or_insert_with(|| why.to_owned());
        drop(self.sender.lock().take());
        while let Ok(job) = self.receiver.try_recv() {
            job.fail(Error::broken(why));
        }
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

impl Supervisor {
    fn new(inner: Arc<Inner>, slot: usize, worker: Arc<Worker>) -> Self {
        Self {
            inner,
            slot,
            worker: Some(worker),
            in_flight: VecDeque::new(),
            retry: VecDeque::new(),
            served: 0,
            draining: false,
            head_since: Instant::now(),
            last_run: Duration::MAX,
        }
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
        self.retire();
    }

    /// How many calls may be in the worker at once now.
    fn depth(&self) -> usize {
        let depth = if self.last_run < PIPELINE_BELOW {
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
        let depth = self.depth();
        if self.in_flight.len() > depth / 2 {
            // Top up in batches: one write for several calls.
            return true;
        }
        let mut batch = Vec::new();
        while !self.draining && self.in_flight.len() + batch.len() < depth {
            let job = if let Some(job) = self.retry.pop_front() {
                job
            } else if self.in_flight.is_empty() && batch.is_empty() {
                if !wait {
                    break;
                }
                self.replace_worker();
                match self.next_job() {
                    Some(job) => job,
                    None => return false,
                }
            } else {
                match self.inner.receiver.try_recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            };
            if !self.fits_behind(&batch, &job) {
                // Too large to wait in the socket: it goes alone, once
                // the calls ahead of it are answered.
                self.retry.push_front(job);
                break;
            }
            batch.extend(self.admit(job));
        }
        if !batch.is_empty() {
            self.send(batch);
        }
        // The loop ends with a call in flight: it waits for one while none
        // is, and a call that could not be sent goes back to `retry`.
        true
    }

    /// Whether `job` may be written behind the calls in flight and those
    /// about to be sent: there are none, or all of them together stay
    /// within [`PIPELINE_BYTES`].
    fn fits_behind(&self, batch: &[Job], job: &Job) -> bool {
        (self.in_flight.is_empty() && batch.is_empty())
            || self
                .in_flight
                .iter()
                .chain(batch)
                .chain([job])
                .map(|j| j.call.frame().len())
                .sum::<usize>()
                <= PIPELINE_BYTES
    }

    /// Waits for the next call; `None` once the queue is closed and empty.
    ///
    /// It sleeps at once. Polling the queue first (as the socket readers
    /// poll their sockets) was measured slower: with the caller, this
    /// thread and the worker all busy, a 2-core machine has one thread too
    /// many, and the poller delays the thread it waits for.
    fn next_job(&mut self) -> Option<Job> {
        self.inner.receiver.recv().ok()
    }

    /// Marks the job's task running; `None` (and the task settled) if it
    /// was cancelled while queued, or the engine was terminated or broke.
    fn admit(&mut self, mut job: Job) -> Option<Job> {
        if self.inner.terminated.load(Ordering::Acquire) {
            job.fail(terminated());
            return None;
        }
        if let Some(why) = self.inner.broken.lock().clone() {
            job.fail(Error::broken(why));
            return None;
        }
        if !job.started {
            if !job.finish.start() {
                return None; // cancelled while queued
            }
            job.started = true;
        }
        Some(job)
    }

    /// Writes the calls of `batch` to the worker in one write (starting a
    /// worker first if there is none).
    fn send(&mut self, batch: Vec<Job>) {
        let worker = match self.worker() {
            Ok(worker) => worker,
            Err(error) => {
                // Broken before the tasks fail, so that whoever waits on
                // them finds later submissions refused.
                let why = error.to_string();
                self.inner.break_engine(&why);
                for job in batch {
                    job.fail(error.clone());
                }
                self.fail_all(|| Error::broken(why.clone()));
                return;
            }
        };
        if worker
            .send_calls(batch.iter().map(|job| &job.call))
            .is_err()
        {
            // The worker is gone and never saw these calls: they go to the
            // next worker. Which call the worker died on shows once the
            // replies it sent before are read.
            for job in batch.into_iter().rev() {
                self.retry.push_front(job);
            }
            if self.in_flight.is_empty() {
                self.on_death(None);
            } else {
                self.draining = true;
            }
            return;
        }
        if self.in_flight.is_empty() {
            self.head_since = Instant::now();
            batch[0].finish.running_on(worker.pid());
        }
        self.in_flight.extend(batch);
    }

    /// Starts a worker in place of one that died, timed out or retired,
    /// before waiting for work: an idle pool keeps its size, and the next
    /// call does not wait for a start. Not once the engine is closed.
    fn replace_worker(&mut self) {
        if self.worker.is_some() || self.inner.check_open().is_err() {
            return;
        }
        if let Err(error) = self.worker() {
            let why = error.to_string();
            self.inner.break_engine(&why);
            self.fail_all(|| Error::broken(why.clone()));
        }
    }

    /// The current worker, starting one if there is none.
    fn worker(&mut self) -> Result<Arc<Worker>, Error> {
        if let Some(worker) = &self.worker {
            return Ok(Arc::clone(worker));
        }
        let worker = Arc::new(Worker::spawn(&self.inner.worker_options())?);
        self.inner.live.lock()[self.slot] = Some(Arc::clone(&worker));
        if self.inner.terminated.load(Ordering::Acquire) {
            worker.kill(); // terminate ran while it started
        }
        self.worker = Some(Arc::clone(&worker));
        self.served = 0;
        Ok(worker)
    }

    /// Reads the next reply and returns it with its call, to complete;
    /// or deals with the worker's death or a call past its deadline.
    fn read_one(&mut self) -> Option<(Job, Reply)> {
        let Some(worker) = self.worker.clone() else {
            return None; // the calls are in `retry`, for the next worker
        };
        let timeout = self
            .inner
            .config
            .task_timeout
            .map(|limit| (self.head_since + limit).saturating_duration_since(Instant::now()));
        // Poll for a lone call's reply (it comes soon, and polling saves a
        // wake-up); sleep while calls are queued behind it, leaving the CPU
        // to the worker.
        let polling = self.in_flight.len() == 1;
        match worker.recv_reply_polling(timeout, polling) {
            Ok(reply) => {
                let Some(job) = self.in_flight.pop_front() else {
                    worker.kill();
                    self.on_death(Some("answered a call it was never sent".to_owned()));
                    return None;
                };
                if reply.id() != job.call.id() {
                    self.in_flight.push_front(job);
                    worker.kill();
                    self.on_death(Some(format!(
                        "answered call {} out of order; killed",
                        reply.id()
                    )));
                    return None;
                }
                self.last_run = self.head_since.elapsed();
                self.head_since = Instant::now();
                self.served += 1;
                if let Some(next) = self.in_flight.front() {
                    next.finish.running_on(worker.pid());
                }
                let spent = self
                    .inner
                    .config
                    .max_tasks_per_child
                    .is_some_and(|max| self.served >= max);
                if spent && self.in_flight.is_empty() {
                    self.retire();
                }
                Some((job, reply))
            }
            Err(RecvError::Timeout) => {
                worker.kill();
                let limit = self.inner.config.task_timeout.unwrap_or_default();
                let pid = worker.pid();
                self.drop_worker();
                if let Some(job) = self.in_flight.pop_front() {
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
        if let Some(job) = self.in_flight.pop_front() {
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

    /// Calls the dead worker had not begun go first to the next worker.
    fn requeue_in_flight(&mut self) {
        while let Some(job) = self.in_flight.pop_back() {
            self.retry.push_front(job);
        }
    }

    fn drop_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.close();
            worker.wait();
        }
        self.inner.live.lock()[self.slot] = None;
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
        for job in self.in_flight.drain(..).chain(self.retry.drain(..)) {
            job.fail(error());
        }
    }
}

impl<R> Finish for Completion<R>
where
    R: DeserializeOwned + Send + 'static,
{
    fn start(&self) -> bool {
        self.promise.start()
    }

    fn running_on(&self, pid: u32) {
        if let Some((recorder, id)) = &self.trace {
            recorder.started_on(*id, format!("pid {pid}"));
        }
    }

    fn complete(self: Box<Self>, outcome: Result<Reply, Error>) {
        let result = outcome.and_then(|reply| match reply {
            Reply::Panicked { message, .. } => Err(Error::panic(message)),
            reply => reply.decode::<R>(),
        });
        if let Some((recorder, id)) = &self.trace {
            let outcome = match &result {
                Ok(_) => Outcome::Ok,
                Err(e) if e.is_panic() => Outcome::Panicked,
                Err(_) => Outcome::Failed,
            };
            recorder.finished(*id, outcome);
        }
        self.promise.complete(result);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.close(false);
        self.join();
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
            .field("queued", &self.inner.receiver.len())
            .field("pids", &self.pids())
            .field("closed", &self.is_closed())
            .field("broken", &*self.inner.broken.lock())
            .finish()
    }
}
