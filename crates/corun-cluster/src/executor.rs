//! `ClusterExecutor`: submits `fn(A) -> R` calls to the workers of this
//! very binary through a JetStream work queue, and completes each task
//! from its result.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::kv::Operation;
use async_nats::jetstream::{self, consumer};
use corun_concurrent::{Error, ErrorKind, Executor, Promise, Submit, Task};
use corun_multiprocessing::remote::{Call, Reply, binary_fingerprint};
use futures_util::StreamExt;
use parking_lot::{Condvar, Mutex};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::acks::Acks;
use crate::server::{self, Buckets, Layout, io};
use crate::wire::{self, Outcome};

/// How long taking a task back (`cancel`) waits for the server's word;
/// without it, the task is taken as started.
const REVOKE_WAIT: Duration = Duration::from_secs(5);

/// What the executor holds of a task not yet completed: its promise,
/// behind a lock of its own so that it is started and completed outside
/// the table of pending tasks.
trait Pending: Send + Sync {
    /// A worker claimed it: it runs.
    fn start(&self);
    /// Completes it from its outcome (a later call does nothing).
    fn complete(&self, outcome: Result<Outcome, Error>);
    /// Cancels it, once the server agreed that no worker will run it.
    fn cancel(&self);
}

/// The promise of a task of result `R`.
struct Waiting<R>(Mutex<Option<Promise<R>>>);

impl<R: DeserializeOwned + Send + 'static> Pending for Waiting<R> {
    fn start(&self) {
        if let Some(promise) = &*self.0.lock() {
            promise.start();
        }
    }

    fn complete(&self, outcome: Result<Outcome, Error>) {
        let Some(promise) = self.0.lock().take() else {
            return;
        };
        // `false`: cancelled, and the outcome is dropped.
        if promise.start() {
            promise.complete(outcome.and_then(|outcome| match outcome {
                Outcome::Reply(bytes) => Reply::from_bytes(&bytes)?.decode::<R>(),
                Outcome::Failed { kind, message } => Err(Outcome::error(kind, message)),
            }));
        }
    }

    fn cancel(&self) {
        if let Some(promise) = self.0.lock().take() {
            promise.cancel();
        }
    }
}

/// A task not yet completed.
struct Entry {
    task: Arc<dyn Pending>,
    /// A worker claimed it (the claim reached this executor).
    claimed: bool,
    /// This executor took it back on the server.
    revoked: Arc<AtomicBool>,
    /// Its stream sequence, once the server stored it: the server's
    /// advisories name tasks by sequence.
    sequence: Option<u64>,
    /// Its argument went through the object store.
    object: bool,
}

/// Runs `fn(A) -> R` tasks on worker processes of this same binary on any
/// machine, through a NATS server with JetStream: a drop-in for a
/// [`ProcessPoolExecutor`](corun_multiprocessing::ProcessPoolExecutor).
///
/// Code generic over `E: Executor + Submit<fn(A) -> R, A, R>` moves from
/// processes to the cluster by the line that builds the executor; results
/// come back as the same [`Task`]s (`wait`, `as_completed`, `.await`).
///
/// # What happens to a task
///
/// - **Claim.** A worker that takes a task claims it in the server's
///   claims bucket first; the task is then running. [`Task::cancel`]
///   takes a task back on the server, atomically against the claims: it
///   succeeds only before a worker claims the task (as Python's
///   `Future.cancel` before a worker starts it), and a worker never runs
///   a task taken back.
/// - **At least once.** A worker publishes a task's result, waits for the
///   server to store it, and only then acknowledges the task, so a worker
///   that dies in between (SIGKILL, its machine gone) leaves the task to
///   run again elsewhere after the acknowledgement wait; only its own
///   tasks are delivered again. The first result completes the task; a
///   later one is dropped (the server drops the same result published
///   twice within two minutes, the executor any other).
/// - **Failures are results.** A task whose function panics, aborts its
///   process or runs past its [`task_timeout`](ClusterBuilder::task_timeout)
///   completes with that error, contained in the worker's local process
///   pool as on one machine, and is not run again. A task delivered
///   `1 + retries` times with no answer fails alone as "worker lost".
/// - **Long tasks** keep their claim: the worker sends progress every
///   third of the acknowledgement wait.
/// - **Large** arguments and results (over the server's payload limit,
///   1 MiB by default) go through the server's object store.
#[derive(Debug)]
pub struct ClusterExecutor {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// What the submitting threads and the readers share.
struct Shared {
    js: jetstream::Context,
    buckets: Buckets,
    layout: Layout,
    runtime: tokio::runtime::Handle,
    /// The results read, to acknowledge.
    acks: Arc<Acks>,
    /// This executor's name among the server's clients.
    client: String,
    /// Where its tasks go.
    subject: String,
    /// Where their results come back.
    reply_to: String,
    /// Payloads above this go through the object store.
    payload_limit: usize,
    /// Each task's deadline on its worker.
    task_timeout: Option<Duration>,
    /// The tasks to publish, in order.
    outbox: mpsc::UnboundedSender<(u64, Vec<u8>)>,
    next: AtomicU64,
    /// The tasks not yet completed, by number.
    pending: Mutex<HashMap<u64, Entry>>,
    /// Tasks taken back before the server said where it stored them.
    withdrawn: Mutex<HashSet<u64>>,
    /// Signalled when `pending` empties.
    drained: Condvar,
    closed: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("client", &self.client)
            .field("subject", &self.subject)
            .field("pending", &self.pending.lock().len())
            .finish_non_exhaustive()
    }
}

/// Sets up a [`ClusterExecutor`]; see [`ClusterExecutor::builder`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    url: String,
    layout: Layout,
    connect_timeout: Duration,
    task_timeout: Option<Duration>,
    wait_for_worker: Option<Duration>,
}

impl ClusterExecutor {
    /// Connects to the NATS server at `url` with the default settings.
    ///
    /// # Errors
    ///
    /// As [`ClusterBuilder::build`].
    pub fn connect(url: &str) -> Result<Self, Error> {
        Self::builder(url).build()
    }

    /// Settings for an executor on the server at `url`
    /// (`nats://host:4222`).
    pub fn builder(url: &str) -> ClusterBuilder {
        ClusterBuilder {
            url: url.to_owned(),
            layout: Layout::default(),
            connect_timeout: server::CONNECT_TIMEOUT,
            task_timeout: None,
            wait_for_worker: None,
        }
    }

    /// How many of its tasks have not completed yet.
    pub fn pending(&self) -> usize {
        self.shared.pending.lock().len()
    }

    /// How many of its pending tasks the server has stored (it
    /// acknowledged their publication): they survive a restart of the
    /// server and of this process's connection.
    pub fn stored(&self) -> usize {
        let pending = self.shared.pending.lock();
        pending.values().filter(|e| e.sequence.is_some()).count()
    }
}

impl ClusterBuilder {
    /// The JetStream stream of the tasks (default `CORUN`; the results go
    /// to `<stream>_RESULTS`, the claims, live workers and large payloads
    /// to the buckets `<stream>_CLAIMS`, `_WORKERS` and `_OBJECTS`).
    pub fn stream(mut self, name: &str) -> Self {
        name.clone_into(&mut self.layout.stream);
        self
    }

    /// The queue, within the stream, that this executor's tasks go to and
    /// its workers serve (default `default`).
    pub fn queue(mut self, name: &str) -> Self {
        name.clone_into(&mut self.layout.queue);
        self
    }

    /// How long a worker may hold a task without a word before the server
    /// gives it to another worker (default 30 s). A worker sends progress
    /// every third of it while a task runs, so only a dead worker, or a
    /// lost machine, lets it run out.
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.layout.ack_wait = wait;
        self
    }

    /// How many times a task whose worker was lost is given to another
    /// (default 2): after `1 + retries` deliveries it fails.
    pub fn retries(mut self, retries: u32) -> Self {
        self.layout.max_deliver = i64::from(retries) + 1;
        self
    }

    /// A deadline for each task, counted from when its worker process
    /// starts it (as a process pool's `task_timeout`): past it, that
    /// process is killed and replaced, and the task fails with a
    /// time-out, once; other tasks are not affected.
    pub fn task_timeout(mut self, limit: Duration) -> Self {
        self.task_timeout = Some(limit);
        self
    }

    /// Makes [`build`](Self::build) wait up to `timeout` for a live worker
    /// of this binary on the queue, and fail if none comes; with
    /// `Duration::ZERO` it only reads the live workers (within half a
    /// second) and fails without one. By default it does not look: tasks
    /// wait in the queue for the workers to come. A worker is live when
    /// it said so within the last six seconds (it does every two).
    pub fn wait_for_worker(mut self, timeout: Duration) -> Self {
        self.wait_for_worker = Some(timeout);
        self
    }

    /// How long connecting may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Connects, makes the streams, buckets and the workers' consumer
    /// where they are missing, and starts reading results.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] for a URL that is none, a stream or
    /// queue name that cannot be one, or a zero deadline;
    /// [`ErrorKind::Io`] when the server cannot be reached;
    /// [`ErrorKind::InvalidState`] when it runs without JetStream;
    /// [`ErrorKind::NotFound`] when [`wait_for_worker`](Self::wait_for_worker)
    /// saw no live worker of this binary.
    pub fn build(self) -> Result<ClusterExecutor, Error> {
        let layout = self.layout;
        layout.check()?;
        if self.task_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid_argument(
                "task_timeout must be more than zero",
            ));
        }
        let runtime = server::runtime("corun-cluster", 2)?;
        let fingerprint = binary_fingerprint();
        let url = self.url;
        let timeout = self.connect_timeout;
        let wait_for_worker = self.wait_for_worker;
        let task_timeout = self.task_timeout;
        let handle = runtime.handle().clone();
        let (outbox, to_publish) = mpsc::unbounded_channel();
        let (shared, results, lost, claims) = runtime.block_on(async move {
            let (client, js) = server::connect(&url, timeout).await?;
            server::streams(&js, &layout).await?;
            let buckets = server::buckets(&js, &layout).await?;
            server::worker_consumer(&js, &layout, fingerprint, true).await?;
            if let Some(wait) = wait_for_worker {
                await_worker(&buckets, &layout, fingerprint, wait, &url).await?;
            }
            // A task delivered as often as allowed, and still not answered:
            // the server says so, naming its stream sequence.
            let lost = client
                .subscribe(format!(
                    "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{}.{}",
                    layout.stream,
                    wire::consumer_name(&layout.queue, fingerprint)
                ))
                .await
                .map_err(|e| io("watching for lost tasks", e))?;
            let name = format!("c{:016x}", server::rand_u64(&client));
            // The workers' claims of this executor's tasks.
            let claims = buckets
                .claims
                .watch(format!("{name}.>"))
                .await
                .map_err(|e| io("watching the claims", e))?;
            let reply_to = wire::result_subject(&name);
            let results = js
                .get_stream(layout.results_stream())
                .await
                .map_err(|e| io("opening the results", e))?
                .create_consumer(consumer::pull::Config {
                    filter_subject: reply_to.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    inactive_threshold: Duration::from_secs(300),
                    ..Default::default()
                })
                .await
                .map_err(|e| io("reading the results", e))?
                .messages()
                .await
                .map_err(|e| io("reading the results", e))?;
            let shared = Arc::new(Shared {
                subject: wire::task_subject(&layout.queue, fingerprint),
                payload_limit: server::payload_limit(&client),
                js,
                buckets,
                layout,
                runtime: handle,
                acks: Acks::start(),
                client: name,
                reply_to,
                task_timeout,
                outbox,
                next: AtomicU64::new(0),
                pending: Mutex::new(HashMap::new()),
                withdrawn: Mutex::new(HashSet::new()),
                drained: Condvar::new(),
                closed: AtomicBool::new(false),
            });
            Ok::<_, Error>((shared, results, lost, claims))
        })?;
        runtime.spawn(publish(Arc::clone(&shared), to_publish));
        runtime.spawn(read_results(Arc::clone(&shared), results));
        runtime.spawn(read_lost(Arc::clone(&shared), lost));
        runtime.spawn(read_claims(Arc::downgrade(&shared), claims));
        Ok(ClusterExecutor {
            shared,
            runtime: Some(runtime),
        })
    }
}

/// Waits up to `wait` for a live worker of `fingerprint` on the queue.
async fn await_worker(
    buckets: &Buckets,
    layout: &Layout,
    fingerprint: u64,
    wait: Duration,
    url: &str,
) -> Result<(), Error> {
    let prefix = wire::worker_prefix(&layout.queue, fingerprint);
    let mut live = buckets
        .workers
        .watch_with_history(format!("{prefix}.*"))
        .await
        .map_err(|e| io("watching the workers", e))?;
    let seen = async {
        while let Some(entry) = live.next().await {
            if entry.is_ok_and(|e| e.operation == Operation::Put) {
                return true;
            }
        }
        false
    };
    // Even with no time to wait, the live workers' keys are read.
    let wait = wait.max(Duration::from_millis(500));
    if tokio::time::timeout(wait, seen).await == Ok(true) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "no live worker of this binary serves queue `{}` of stream `{}` at {url} \
             (waited {wait:?}); start one with `corun cluster worker {url}`, or this \
             program with {}={url}",
            layout.queue,
            layout.stream,
            crate::WORKER_ENV,
        ),
    ))
}

/// Completes tasks from the results as they come; a result for a task
/// already completed (its task ran twice) is dropped.
async fn read_results(shared: Arc<Shared>, mut results: consumer::pull::Stream) {
    while let Some(message) = results.next().await {
        let Ok(message) = message else { continue };
        let headers = message.headers.as_ref();
        let number = wire::header(headers, wire::TASK)
            .and_then(|task| task.rsplit('.').next())
            .and_then(|n| n.parse::<u64>().ok());
        let outcome = match wire::header(headers, wire::OBJECT) {
            None => Outcome::from_message(headers, &message.payload),
            Some(object) => {
                let payload = shared.take_object(object).await;
                payload.map_or_else(
                    |e| {
                        Some(Outcome::Failed {
                            kind: ErrorKind::Io,
                            message: e.to_string(),
                        })
                    },
                    |payload| Outcome::from_message(headers, &payload),
                )
            }
        };
        if let (Some(number), Some(outcome)) = (number, outcome) {
            shared.complete(number, Ok(outcome));
        }
        // Acknowledged either way: the server forgets it.
        shared.acks.push(message);
    }
}

/// Marks tasks running as workers claim them.
async fn read_claims(shared: Weak<Shared>, mut claims: jetstream::kv::Watch) {
    while let Some(entry) = claims.next().await {
        let Ok(entry) = entry else { continue };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if entry.operation != Operation::Put || *entry.value == *wire::CANCELLED.as_bytes() {
            continue;
        }
        let Some(number) = entry.key.rsplit('.').next().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let task = {
            let mut pending = shared.pending.lock();
            pending.get_mut(&number).map(|entry| {
                entry.claimed = true;
                Arc::clone(&entry.task)
            })
        };
        if let Some(task) = task {
            task.start();
        }
    }
}

/// Fails the tasks the server gave up on: delivered `1 + retries` times,
/// each time to a worker that never answered. Each fails alone, as
/// "worker lost", and leaves the stream.
async fn read_lost(shared: Arc<Shared>, mut advisories: async_nats::Subscriber) {
    #[derive(serde::Deserialize)]
    struct MaxDeliveries {
        stream_seq: u64,
        deliveries: u64,
    }
    while let Some(message) = advisories.next().await {
        let Ok(advisory) = serde_json::from_slice::<MaxDeliveries>(&message.payload) else {
            continue;
        };
        let number = shared
            .pending
            .lock()
            .iter()
            .find(|(_, entry)| entry.sequence == Some(advisory.stream_seq))
            .map(|(number, _)| *number);
        let Some(number) = number else { continue };
        shared.complete(
            number,
            Err(Error::worker_died(format!(
                "worker lost: task {} was delivered {} time(s) and no worker answered within \
                 the acknowledgement wait of {:?}",
                shared.task_name(number),
                advisory.deliveries,
                shared.layout.ack_wait
            ))),
        );
        shared.delete_message(advisory.stream_seq).await;
    }
}

impl Shared {
    /// Completes task `number`, if it is still pending, and deletes what
    /// it left in the object store.
    fn complete(self: &Arc<Self>, number: u64, outcome: Result<Outcome, Error>) {
        if let Some(entry) = self.forget(number) {
            entry.task.complete(outcome);
        }
    }

    /// Takes task `number` out of the pending ones, deleting its argument
    /// from the object store.
    fn forget(self: &Arc<Self>, number: u64) -> Option<Entry> {
        let entry = {
            let mut pending = self.pending.lock();
            let entry = pending.remove(&number);
            if pending.is_empty() {
                self.drained.notify_all();
            }
            entry
        }?;
        if entry.object {
            let shared = Arc::clone(self);
            self.runtime.spawn(async move {
                let name = wire::object_name("task", &shared.task_name(number));
                let _ = shared.buckets.objects.delete(name).await;
            });
        }
        Some(entry)
    }

    /// Task `number` is stored at `sequence`; if it was taken back
    /// meanwhile, it leaves the stream.
    fn stored(self: &Arc<Self>, number: u64, sequence: u64) {
        let found = match self.pending.lock().get_mut(&number) {
            Some(entry) => {
                entry.sequence = Some(sequence);
                true
            }
            None => false,
        };
        // Not found: completed already (nothing to do), or taken back.
        if !found && self.withdrawn.lock().remove(&number) {
            let shared = Arc::clone(self);
            self.runtime
                .spawn(async move { shared.delete_message(sequence).await });
        }
    }

    /// Deletes a task that no worker will ever run from the stream.
    async fn delete_message(&self, sequence: u64) {
        if let Ok(stream) = self.js.get_stream(&self.layout.stream).await {
            let _ = stream.delete_message(sequence).await;
        }
    }

    /// Takes task `number` back on the server, unless a worker claimed it:
    /// whether it was taken back (no worker will ever run it).
    async fn revoke(&self, number: u64) -> bool {
        let key = self.task_name(number);
        self.buckets
            .claims
            .create(&key, wire::CANCELLED.into())
            .await
            .is_ok()
    }

    /// [`revoke`](Self::revoke) from a thread outside the runtime (a
    /// [`Task::cancel`], under the task's lock): waits at most
    /// [`REVOKE_WAIT`] for the server. Once taken back, the task leaves
    /// the stream and the pending tasks.
    fn revoke_blocking(self: &Arc<Self>, number: u64, revoked: &Arc<AtomicBool>) -> bool {
        let shared = Arc::clone(self);
        let flag = Arc::clone(revoked);
        let answer = self.block(
            async move {
                let taken = shared.revoke(number).await;
                if taken {
                    flag.store(true, Ordering::SeqCst);
                }
                (taken, shared)
            },
            REVOKE_WAIT,
            move |(taken, shared)| {
                // The canceller gave up waiting: it took the task as
                // started, and it never will.
                if taken {
                    shared.complete(number, Err(Error::cancelled()));
                }
            },
        );
        match answer {
            Some((true, shared)) => {
                shared.withdraw(number);
                true
            }
            _ => false,
        }
    }

    /// [`take_back`](Self::take_back), in the runtime: called under the
    /// task's lock, which dropping its promise takes.
    fn withdraw(self: &Arc<Self>, number: u64) {
        let shared = Arc::clone(self);
        // Dropped in the task, not returned: a task's output can be
        // dropped by its handle, here, under the task's lock.
        self.runtime
            .spawn(async move { drop(shared.take_back(number)) });
    }

    /// Removes task `number`, taken back, from the pending tasks, and its
    /// message from the stream: now, or once the server says where it is.
    fn take_back(self: &Arc<Self>, number: u64) -> Option<Entry> {
        // Held across: `stored` looks here for a task it no longer finds.
        let mut withdrawn = self.withdrawn.lock();
        let entry = self.forget(number)?;
        match entry.sequence {
            Some(sequence) => {
                let shared = Arc::clone(self);
                self.runtime
                    .spawn(async move { shared.delete_message(sequence).await });
            }
            None => {
                withdrawn.insert(number);
            }
        }
        Some(entry)
    }

    /// Runs `future` on the runtime and waits up to `wait` for its output;
    /// past that, `late` gets the output when it comes.
    fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
        wait: Duration,
        late: impl FnOnce(T) + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            if let Err(std::sync::mpsc::TrySendError::Disconnected(output)) =
                tx.try_send(future.await)
            {
                late(output);
            }
        });
        rx.recv_timeout(wait).ok()
    }

    /// Reads and deletes the object `name`, a result.
    async fn take_object(&self, name: &str) -> Result<Vec<u8>, Error> {
        let bytes = server::read_object(&self.buckets.objects, name, "the result").await?;
        let _ = self.buckets.objects.delete(name).await;
        Ok(bytes)
    }

    fn task_name(&self, number: u64) -> String {
        format!("{}.{number}", self.client)
    }

    /// Sends task `number` to the server, its argument through the object
    /// store when it is large; the server's word that it stored it comes
    /// later.
    async fn send(&self, number: u64, payload: Vec<u8>) -> Result<PublishAckFuture, String> {
        let name = self.task_name(number);
        let object = (payload.len() > self.payload_limit).then(|| wire::object_name("task", &name));
        let payload = match &object {
            None => payload,
            Some(object) => {
                self.buckets
                    .objects
                    .put(object.as_str(), &mut payload.as_slice())
                    .await
                    .map_err(|e| format!("storing its argument: {e}"))?;
                Vec::new()
            }
        };
        let headers =
            wire::task_headers(&name, &self.reply_to, self.task_timeout, object.as_deref());
        self.js
            .publish_with_headers(self.subject.clone(), headers, payload.into())
            .await
            .map_err(|e| e.to_string())
    }

    /// Fails task `number`, which could not be published.
    fn unpublished(self: &Arc<Self>, number: u64, why: impl std::fmt::Display) {
        let name = self.task_name(number);
        self.complete(
            number,
            Err(Error::new(
                ErrorKind::Io,
                format!("publishing task {name}: {why}"),
            )),
        );
    }
}

/// Publishes the tasks one after the other, in the order they were
/// submitted (the order the workers take them in), and records where the
/// server stored each as its word comes.
async fn publish(shared: Arc<Shared>, mut outbox: mpsc::UnboundedReceiver<(u64, Vec<u8>)>) {
    while let Some((number, payload)) = outbox.recv().await {
        match shared.send(number, payload).await {
            Ok(stored) => {
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    match stored.await {
                        Ok(ack) => shared.stored(number, ack.sequence),
                        Err(e) => shared.unpublished(number, e),
                    }
                });
            }
            Err(why) => shared.unpublished(number, why),
        }
    }
}

impl Executor for ClusterExecutor {
    /// The workers are elsewhere, and come and go: as many tasks as
    /// anyone submits are in flight at once.
    fn max_workers(&self) -> usize {
        usize::MAX
    }

    /// Stops taking tasks. With `cancel_pending`, takes back on the server
    /// every task no worker has claimed, and cancels it; claimed tasks
    /// run on. With `wait`, blocks until every task not cancelled has
    /// completed — with no worker alive, until one comes.
    fn shutdown(&self, wait: bool, cancel_pending: bool) {
        let shared = &self.shared;
        shared.closed.store(true, Ordering::SeqCst);
        if cancel_pending {
            let unclaimed: Vec<(u64, Arc<AtomicBool>)> = shared
                .pending
                .lock()
                .iter()
                .filter(|(_, entry)| !entry.claimed)
                .map(|(number, entry)| (*number, Arc::clone(&entry.revoked)))
                .collect();
            // Taken back all at once, each against its claim.
            let taken = {
                let shared = Arc::clone(shared);
                let numbers: Vec<u64> = unclaimed.iter().map(|(n, _)| *n).collect();
                shared.clone().block(
                    async move {
                        let revokes = numbers.iter().map(|n| shared.revoke(*n));
                        futures_util::future::join_all(revokes).await
                    },
                    REVOKE_WAIT * 2,
                    |_| {},
                )
            };
            for ((number, revoked), taken) in unclaimed.into_iter().zip(taken.unwrap_or_default()) {
                if taken {
                    revoked.store(true, Ordering::SeqCst);
                    if let Some(entry) = shared.take_back(number) {
                        entry.task.cancel();
                    }
                }
            }
        }
        if wait {
            let mut pending = shared.pending.lock();
            while !pending.is_empty() {
                shared.drained.wait(&mut pending);
            }
        }
    }
}

impl<A, R> Submit<fn(A) -> R, A, R> for ClusterExecutor
where
    A: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
{
    fn submit(&self, f: fn(A) -> R, arg: A) -> Result<Task<R>, Error> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(Error::shut_down());
        }
        let payload = Call::new(f, &arg)?.to_bytes()?;
        let number = self.shared.next.fetch_add(1, Ordering::Relaxed);
        let (task, promise) = Task::pending();
        // Until a worker claims it, `cancel` takes it back on the server.
        let revoked = Arc::new(AtomicBool::new(false));
        let weak = Arc::downgrade(&self.shared);
        let flag = Arc::clone(&revoked);
        promise.hand_off(move || {
            flag.load(Ordering::SeqCst)
                || weak
                    .upgrade()
                    .is_some_and(|shared| shared.revoke_blocking(number, &flag))
        });
        let object = payload.len() > self.shared.payload_limit;
        self.shared.pending.lock().insert(
            number,
            Entry {
                task: Arc::new(Waiting(Mutex::new(Some(promise)))),
                claimed: false,
                revoked,
                sequence: None,
                object,
            },
        );
        if self.shared.outbox.send((number, payload)).is_err() {
            self.shared.unpublished(number, "the connection is closed");
        }
        Ok(task)
    }
}

impl Drop for ClusterExecutor {
    /// Stops taking tasks, takes back and cancels those no worker has
    /// claimed, fails the handles of the others (their results would have
    /// nowhere to go), then closes the connection. Unlike a process
    /// pool's, it does not wait: with no worker alive that would be
    /// forever. Call `shutdown(true, false)` first to wait for the
    /// results.
    fn drop(&mut self) {
        self.shutdown(false, true);
        let left: Vec<u64> = self.shared.pending.lock().keys().copied().collect();
        for number in left {
            self.shared.complete(
                number,
                Err(Error::new(
                    ErrorKind::Broken,
                    "the cluster executor was dropped before this task's result came back",
                )),
            );
        }
        // The results read are acknowledged before the connection closes.
        let acks = Arc::clone(&self.shared.acks);
        self.shared.block(
            async move { acks.flush().await },
            Duration::from_secs(1),
            |()| {},
        );
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
