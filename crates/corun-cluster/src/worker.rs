//! A cluster worker: this binary, serving the tasks that executors of the
//! identical binary submit, each run in a local process pool so that a
//! crash, a time-out or a memory limit is contained as on one machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::{self, CreateErrorKind};
use async_nats::jetstream::{self, AckKind, consumer};
use corun_concurrent::{Error, Executor};
use corun_multiprocessing::ProcessPoolExecutor;
use corun_multiprocessing::remote::{Call, binary_fingerprint};
use futures_util::StreamExt;
use tokio::sync::{Notify, Semaphore, watch};

use crate::server::{self, Buckets, Layout, io};
use crate::wire::{self, Outcome};

/// The environment variable that makes a process a cluster worker: its
/// value is the server's URL (see [`worker_from_env`]).
pub const WORKER_ENV: &str = "CORUN_CLUSTER_WORKER";

/// How many tasks such a worker runs at once (default: the CPUs).
pub const PROCESSES_ENV: &str = "CORUN_CLUSTER_PROCESSES";

/// How long one pull for a task waits on the server before asking again.
const PULL_WAIT: Duration = Duration::from_secs(5);

/// Serves the cluster at `url` with the default settings; see
/// [`WorkerBuilder::run`].
///
/// # Errors
///
/// As [`WorkerBuilder::run`].
pub fn worker(url: &str) -> Result<(), Error> {
    WorkerBuilder::new(url).run()
}

/// When [`WORKER_ENV`] names a server, serves it and never returns
/// ([`PROCESSES_ENV`] says how many tasks at once); returns at once
/// otherwise. Call it in `main` right after
/// `corun::multiprocessing::init()`: the same binary is then a program
/// and, started with `CORUN_CLUSTER_WORKER=nats://host:4222`, a worker.
pub fn worker_from_env() {
    let Some(url) = std::env::var_os(WORKER_ENV) else {
        return;
    };
    let mut builder = WorkerBuilder::new(&url.to_string_lossy());
    if let Some(n) = std::env::var(PROCESSES_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
    {
        builder = builder.processes(n);
    }
    match builder.run() {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("corun cluster worker: {error}");
            std::process::exit(1);
        }
    }
}

/// Settings of a worker.
#[derive(Debug, Clone)]
pub struct WorkerBuilder {
    url: String,
    layout: Layout,
    processes: Option<usize>,
    connect_timeout: Duration,
}

impl WorkerBuilder {
    /// A worker of the server at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            layout: Layout::default(),
            processes: None,
            connect_timeout: server::CONNECT_TIMEOUT,
        }
    }

    /// The stream to serve (default `CORUN`), as the executors name it.
    pub fn stream(mut self, name: &str) -> Self {
        name.clone_into(&mut self.layout.stream);
        self
    }

    /// The queue to serve (default `default`), as the executors name it.
    pub fn queue(mut self, name: &str) -> Self {
        name.clone_into(&mut self.layout.queue);
        self
    }

    /// How many tasks run at once, each in a process of the local pool
    /// (default: the CPUs).
    pub fn processes(mut self, n: usize) -> Self {
        self.processes = Some(n);
        self
    }

    /// Serves tasks until the process is stopped. It claims at most one
    /// task more than it has processes (as Python's process pool keeps one
    /// call queued ahead), and while its tasks are short it holds some
    /// more, unclaimed, to save a round trip to the server between them.
    /// It runs each claimed task in the local pool, keeps the claims of
    /// all it holds alive, publishes each outcome and, once the server
    /// has stored it, acknowledges the task. Every two seconds it says it
    /// is alive.
    ///
    /// # Errors
    ///
    /// As [`ClusterBuilder::build`](crate::ClusterBuilder::build) for the
    /// connection; [`ErrorKind::Io`](corun_concurrent::ErrorKind::Io) when
    /// the server drops the workers' consumer; the local pool's error when
    /// it cannot start.
    pub fn run(self) -> Result<(), Error> {
        self.layout.check()?;
        let mut pool = ProcessPoolExecutor::builder();
        if let Some(n) = self.processes {
            pool = pool.max_workers(n);
        }
        let pool = pool.build()?;
        let slots = pool.max_workers();
        let runtime = server::runtime("corun-cluster-worker", 1)?;
        runtime.block_on(async move {
            let (client, js) = server::connect(&self.url, self.connect_timeout).await?;
            server::streams(&js, &self.layout).await?;
            let buckets = server::buckets(&js, &self.layout).await?;
            let fingerprint = binary_fingerprint();
            // Made by the first executor with its limits; made here with
            // the defaults when a worker comes first.
            let consumer = server::worker_consumer(&js, &self.layout, fingerprint, false).await?;
            let name = wire::consumer_name(&self.layout.queue, fingerprint);
            let ack_wait = consumer
                .clone()
                .info()
                .await
                .map_err(|e| io(&format!("reading {name}"), e))?
                .config
                .ack_wait;
            let id = format!("w{:016x}", server::rand_u64(&client));
            let key = format!(
                "{}.{id}",
                wire::worker_prefix(&self.layout.queue, fingerprint)
            );
            tokio::spawn(heartbeat(buckets.workers.clone(), key, slots));
            let serving = Arc::new(Serving {
                js,
                buckets,
                pool,
                ack_wait,
                id,
                payload_limit: server::payload_limit(&client),
                claimable: Semaphore::new(slots + 1),
                held: Held::new(slots),
                to_claim: Turns::new(),
                to_run: Turns::new(),
            });
            serve(&serving, &consumer).await
        })
    }
}

/// What every task of a worker needs.
struct Serving {
    js: jetstream::Context,
    buckets: Buckets,
    pool: ProcessPoolExecutor,
    ack_wait: Duration,
    /// This worker's name, its claims' value.
    id: String,
    payload_limit: usize,
    /// One place per task claimed and not yet run: the processes, and
    /// one queued ahead of them, as Python's process pool.
    claimable: Semaphore,
    held: Held,
    /// The order in which held tasks take places among the claimed…
    to_claim: Turns,
    /// … and enter the pool: the order they came in.
    to_run: Turns,
}

/// How far ahead of its claims a worker takes short tasks: as many as its
/// processes run in this long at the pace of its recent tasks…
const AHEAD_WINDOW: Duration = Duration::from_millis(20);
/// … and at most this many.
const MAX_AHEAD: usize = 64;

/// The tasks a worker holds, claimed or waiting to be, and how long its
/// recent tasks took.
///
/// A worker that took only one task per free process would wait a round
/// trip to the server between short tasks; one that took many would hoard
/// long tasks while other workers idle. So a worker takes one task ahead
/// of its processes, plus, while its tasks are short, what its processes
/// run in [`AHEAD_WINDOW`]; after it ran out of work it starts again from
/// one ahead. The tasks held beyond the claimed ones are not claimed: their
/// executor can still take them back.
struct Held {
    slots: usize,
    count: AtomicUsize,
    freed: Notify,
    /// How long a task spent in the local pool, smoothed, in nanoseconds;
    /// 0 when unknown.
    pace: AtomicU64,
}

impl Held {
    fn new(slots: usize) -> Self {
        Self {
            slots,
            count: AtomicUsize::new(0),
            freed: Notify::new(),
            pace: AtomicU64::new(0),
        }
    }

    /// How many tasks it may hold now.
    fn room(&self) -> usize {
        let pace = self.pace.load(Ordering::Relaxed);
        let window = AHEAD_WINDOW.as_nanos() as u64 * self.slots as u64;
        // An unknown pace (0): none ahead.
        let ahead = window.checked_div(pace).unwrap_or(0).min(MAX_AHEAD as u64) as usize;
        self.slots + 1 + ahead
    }

    /// A task took `took` in the local pool.
    fn ran(&self, took: Duration) {
        let took = (took.as_nanos() as u64).max(1);
        let pace = self.pace.load(Ordering::Relaxed);
        let next = if pace == 0 {
            took
        } else {
            (pace * 7 + took) / 8
        };
        self.pace.store(next, Ordering::Relaxed);
    }

    /// One task less held; with none left, the pace is forgotten.
    fn release(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.pace.store(0, Ordering::Relaxed);
        }
        self.freed.notify_one();
    }
}

/// A task held, until it has run.
struct Holding(Arc<Serving>);

impl Drop for Holding {
    fn drop(&mut self) {
        self.0.held.release();
    }
}

/// Says every [`HEARTBEAT`](server::HEARTBEAT) that this worker, running
/// `processes` tasks at once, is alive.
async fn heartbeat(workers: kv::Store, key: String, processes: usize) {
    let mut beat = tokio::time::interval(server::HEARTBEAT);
    loop {
        beat.tick().await;
        let _ = workers.put(&key, processes.to_string().into()).await;
    }
}

/// Takes tasks while there is room for them, each handled in a task of
/// its own.
async fn serve(serving: &Arc<Serving>, consumer: &consumer::PullConsumer) -> Result<(), Error> {
    let held = &serving.held;
    let mut ticket = 0;
    loop {
        let free = held
            .room()
            .saturating_sub(held.count.load(Ordering::SeqCst));
        if free == 0 {
            held.freed.notified().await;
            continue;
        }
        let mut batch = consumer
            .fetch()
            .max_messages(free)
            .expires(PULL_WAIT)
            .messages()
            .await
            .map_err(|e| io("taking tasks", e))?;
        while let Some(message) = batch.next().await {
            let Ok(message) = message else { continue };
            held.count.fetch_add(1, Ordering::SeqCst);
            let holding = Holding(Arc::clone(serving));
            tokio::spawn(handle(Arc::clone(serving), ticket, message, holding));
            ticket += 1;
        }
    }
}

/// What became of a task here.
enum Step {
    /// It ran, or could not: answer with this.
    Answer(Outcome),
    /// Its executor took it back: it leaves the queue unrun.
    Withdrawn,
    /// The server could not be asked: leave it for later.
    Later,
}

impl Step {
    /// The answer for a task that could not run to a reply here.
    fn failed(e: Error) -> Self {
        Step::Answer(Outcome::Failed {
            kind: e.kind(),
            message: e.to_string(),
        })
    }
}

/// Handles one task, holding a place among the worker's tasks until it
/// has run; it is acknowledged only once its outcome is stored.
async fn handle(serving: Arc<Serving>, ticket: u64, message: jetstream::Message, held: Holding) {
    let headers = message.headers.as_ref();
    let (Some(task), Some(reply_to)) = (
        wire::header(headers, wire::TASK).map(str::to_owned),
        wire::header(headers, wire::REPLY_TO).map(str::to_owned),
    ) else {
        // Not a corun task: nobody can ever run it. Its turns pass.
        for turns in [&serving.to_claim, &serving.to_run] {
            turns.enter(ticket).await;
            turns.leave();
        }
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let step = {
        let work = run(&serving, ticket, &task, &message);
        tokio::pin!(work);
        // Progress every third of the wait keeps the claim, from the
        // moment the task is held.
        let mut progress = tokio::time::interval(serving.ack_wait / 3);
        progress.tick().await;
        loop {
            tokio::select! {
                step = &mut work => break step,
                _ = progress.tick() => {
                    let _ = message.ack_with(AckKind::Progress).await;
                }
            }
        }
    };
    drop(held);
    let outcome = match step {
        Step::Answer(outcome) => outcome,
        Step::Withdrawn => {
            let _ = message.ack().await;
            return;
        }
        Step::Later => return,
    };
    let (mut headers, mut payload) = outcome.to_message(&task);
    if payload.len() > serving.payload_limit {
        let name = wire::object_name("result", &task);
        let mut reader = payload.as_slice();
        let put = serving.buckets.objects.put(name.as_str(), &mut reader);
        if put.await.is_err() {
            return; // not answered: it runs again elsewhere
        }
        headers.insert(wire::OBJECT, name.as_str());
        payload = Vec::new();
    }
    // Stored, or the task is left unacknowledged, to run again elsewhere.
    let stored = match serving
        .js
        .publish_with_headers(reply_to, headers, payload.into())
        .await
    {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    if stored {
        // At once, not batched: a worker that dies after it answered
        // should not have its task run again. Should this acknowledgement
        // be lost all the same, the task runs again and its second result
        // is dropped.
        let _ = message.ack().await;
    }
}

/// Claims task `task` and runs it in the local pool. The worker's tasks
/// take their places among the claimed, and enter the pool, in the order
/// they came (`ticket`): their claims, made meanwhile, can come back in
/// any order.
async fn run(serving: &Serving, ticket: u64, task: &str, message: &jetstream::Message) -> Step {
    serving.to_claim.enter(ticket).await;
    // Held to the end, once the task has run.
    let place = serving.claimable.acquire().await;
    serving.to_claim.leave();
    let ready = match place {
        Ok(_) => prepare(serving, task, message).await,
        Err(_) => Err(Step::Later),
    };
    serving.to_run.enter(ticket).await;
    let submitted = Instant::now();
    let running = ready.map(|call| serving.pool.submit_call(call));
    serving.to_run.leave();
    match running {
        Ok(Ok(running)) => {
            let reply = running.await;
            serving.held.ran(submitted.elapsed());
            match reply {
                Ok(reply) => Step::Answer(Outcome::Reply(reply.to_bytes())),
                Err(e) => Step::failed(e),
            }
        }
        Ok(Err(e)) => Step::failed(e),
        Err(step) => step,
    }
}

/// Claims task `task` and reads its call; or what to do instead.
async fn prepare(
    serving: &Serving,
    task: &str,
    message: &jetstream::Message,
) -> Result<Call, Step> {
    let claims = &serving.buckets.claims;
    match claims.create(task, serving.id.clone().into()).await {
        Ok(_) => {}
        Err(e) if e.kind() == CreateErrorKind::AlreadyExists => match claims.get(task).await {
            Ok(Some(value)) if *value == *wire::CANCELLED.as_bytes() => {
                return Err(Step::Withdrawn);
            }
            // Claimed by a worker that was lost: it runs again here.
            Ok(Some(_)) => {}
            _ => return Err(Step::Later),
        },
        Err(e) => {
            eprintln!("corun cluster worker: claiming {task}: {e}; left for another try");
            return Err(Step::Later);
        }
    }
    let headers = message.headers.as_ref();
    let bytes = match wire::header(headers, wire::OBJECT) {
        None => message.payload.to_vec(),
        Some(name) => server::read_object(&serving.buckets.objects, name, "the argument")
            .await
            .map_err(Step::failed)?,
    };
    let call = Call::from_bytes(bytes).map_err(Step::failed)?;
    Ok(match wire::timeout(headers) {
        Some(limit) => call.with_timeout(limit),
        None => call,
    })
}

/// Lets tasks through one at a time, in the order of their tickets.
struct Turns(watch::Sender<u64>);

impl Turns {
    fn new() -> Self {
        Self(watch::Sender::new(0))
    }

    /// Waits for `ticket`'s turn.
    async fn enter(&self, ticket: u64) {
        let mut turn = self.0.subscribe();
        let _ = turn.wait_for(|now| *now == ticket).await;
    }

    /// Ends the current turn.
    fn leave(&self) {
        self.0.send_modify(|now| *now += 1);
    }
}
