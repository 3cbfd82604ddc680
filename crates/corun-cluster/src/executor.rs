//! `ClusterExecutor`: submits `fn(A) -> R` calls to the workers of this
//! very binary through a JetStream work queue, and completes each task
//! from its result.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use corun_concurrent::{Error, ErrorKind, Executor, Submit, Task};
use corun_multiprocessing::remote::{Call, Reply, binary_fingerprint};
use futures_util::StreamExt;
use parking_lot::{Condvar, Mutex};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::server::{self, Layout};
use crate::wire::{self, Outcome};

/// Completes one task from its outcome.
type Completer = Box<dyn FnOnce(Result<Outcome, Error>) + Send>;

/// Tasks by stream sequence and back.
#[derive(Default)]
struct Sequences {
    by_sequence: HashMap<u64, u64>,
    by_number: HashMap<u64, u64>,
}

/// Runs `fn(A) -> R` tasks on worker processes of this same binary on any
/// machine, through a NATS server with JetStream: a drop-in for a
/// [`ProcessPoolExecutor`](corun_multiprocessing::ProcessPoolExecutor).
///
/// Code generic over `E: Executor + Submit<fn(A) -> R, A, R>` moves from
/// processes to the cluster by the line that builds the executor; results
/// come back as the same [`Task`]s (`wait`, `as_completed`, `.await`).
///
/// Execution is at least once: a worker publishes a task's result, waits
/// for the server to store it, and only then acknowledges the task, so a
/// worker that dies in between leaves the task to be run again after the
/// acknowledgement wait. The first result completes the task; later ones
/// are dropped. A task whose function fails (returns its panic, cannot
/// decode) completes with that error and is not run again.
#[derive(Debug)]
pub struct ClusterExecutor {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// What the submitting threads and the result reader share.
struct Shared {
    js: jetstream::Context,
    /// This executor's name among the server's clients.
    client: String,
    /// Where its tasks go.
    subject: String,
    /// Where their results come back.
    reply_to: String,
    next: AtomicU64,
    /// The tasks not yet completed, by number.
    pending: Mutex<HashMap<u64, Completer>>,
    /// The stream sequence of each stored task not yet completed, and
    /// back: the server's advisories name tasks by sequence.
    sequences: Mutex<Sequences>,
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
        self.shared.sequences.lock().by_number.len()
    }
}

impl ClusterBuilder {
    /// The JetStream stream of the tasks (default `CORUN`; the results go
    /// to `<stream>_RESULTS`).
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

    /// How long connecting may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Connects, makes the streams and the workers' consumer where they
    /// are missing, and starts reading results.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] for a URL that is none, or a stream
    /// or queue name that cannot be one; [`ErrorKind::Io`] when the server
    /// cannot be reached; [`ErrorKind::InvalidState`] when it runs without
    /// JetStream.
    pub fn build(self) -> Result<ClusterExecutor, Error> {
        let layout = self.layout;
        layout.check()?;
        let runtime = server::runtime("corun-cluster")?;
        let fingerprint = binary_fingerprint();
        let url = self.url;
        let timeout = self.connect_timeout;
        let (shared, results, lost, layout) = runtime.block_on(async move {
            let (client, js) = server::connect(&url, timeout).await?;
            server::streams(&js, &layout).await?;
            server::worker_consumer(&js, &layout, fingerprint, true).await?;
            // A task delivered as often as allowed, and still not answered:
            // the server says so, naming its stream sequence.
            let lost = client
                .subscribe(format!(
                    "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{}.{}",
                    layout.stream,
                    wire::consumer_name(&layout.queue, fingerprint)
                ))
                .await
                .map_err(|e| Error::new(ErrorKind::Io, format!("watching for lost tasks: {e}")))?;
            let name = format!("c{:016x}", rand_u64(&client));
            let reply_to = wire::result_subject(&name);
            let results = js
                .get_stream(layout.results_stream())
                .await
                .map_err(|e| Error::new(ErrorKind::Io, format!("opening the results: {e}")))?
                .create_consumer(consumer::pull::Config {
                    filter_subject: reply_to.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    inactive_threshold: Duration::from_secs(300),
                    ..Default::default()
                })
                .await
                .map_err(|e| Error::new(ErrorKind::Io, format!("reading the results: {e}")))?
                .messages()
                .await
                .map_err(|e| Error::new(ErrorKind::Io, format!("reading the results: {e}")))?;
            let shared = Arc::new(Shared {
                js,
                subject: wire::task_subject(&layout.queue, fingerprint),
                client: name,
                reply_to,
                next: AtomicU64::new(0),
                pending: Mutex::new(HashMap::new()),
                sequences: Mutex::new(Sequences::default()),
                drained: Condvar::new(),
                closed: AtomicBool::new(false),
            });
            Ok::<_, Error>((shared, results, lost, layout))
        })?;
        runtime.spawn(read_results(Arc::clone(&shared), results));
        runtime.spawn(read_lost(Arc::clone(&shared), lost, layout));
        Ok(ClusterExecutor {
            shared,
            runtime: Some(runtime),
        })
    }
}

/// A number to tell this client from the others: the server's client id
/// and the clock, mixed.
fn rand_u64(client: &async_nats::Client) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let id = client.server_info().client_id;
    (nanos ^ id.rotate_left(40) ^ u64::from(std::process::id()).rotate_left(20))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Completes tasks from the results as they come; a result for a task
/// already completed (its task ran twice) is dropped.
async fn read_results(shared: Arc<Shared>, mut results: consumer::pull::Stream) {
    while let Some(message) = results.next().await {
        let Ok(message) = message else { continue };
        let number = wire::header(message.headers.as_ref(), wire::TASK)
            .and_then(|task| task.rsplit('.').next())
            .and_then(|n| n.parse::<u64>().ok());
        let outcome = Outcome::from_message(message.headers.as_ref(), &message.payload);
        if let (Some(number), Some(outcome)) = (number, outcome) {
            shared.complete(number, Ok(outcome));
        }
        // Acknowledged either way: the server forgets it.
        let _ = message.ack().await;
    }
}

/// Fails the tasks the server gave up on: delivered `1 + retries` times,
/// each time to a worker that never answered. Each fails alone, as
/// "worker lost", and leaves the stream.
async fn read_lost(shared: Arc<Shared>, mut advisories: async_nats::Subscriber, layout: Layout) {
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
            .sequences
            .lock()
            .by_sequence
            .get(&advisory.stream_seq)
            .copied();
        let Some(number) = number else { continue };
        shared.complete(
            number,
            Err(Error::worker_died(format!(
                "worker lost: task {} was delivered {} time(s) and no worker answered within \
                 the acknowledgement wait of {:?}",
                shared.task_name(number),
                advisory.deliveries,
                layout.ack_wait
            ))),
        );
        if let Ok(stream) = shared.js.get_stream(&layout.stream).await {
            let _ = stream.delete_message(advisory.stream_seq).await;
        }
    }
}

impl Shared {
    /// Completes task `number`, if it is still pending.
    fn complete(&self, number: u64, outcome: Result<Outcome, Error>) {
        let completer = {
            let mut pending = self.pending.lock();
            let completer = pending.remove(&number);
            if pending.is_empty() {
                self.drained.notify_all();
            }
            completer
        };
        // After `pending`: `stored` records a sequence only while the task
        // is pending, under that lock.
        let mut sequences = self.sequences.lock();
        if let Some(sequence) = sequences.by_number.remove(&number) {
            sequences.by_sequence.remove(&sequence);
        }
        drop(sequences);
        if let Some(completer) = completer {
            completer(outcome);
        }
    }

    /// Task `number` is stored at `sequence`, unless it completed already.
    fn stored(&self, number: u64, sequence: u64) {
        let pending = self.pending.lock();
        if pending.contains_key(&number) {
            let mut sequences = self.sequences.lock();
            sequences.by_sequence.insert(sequence, number);
            sequences.by_number.insert(number, sequence);
        }
    }

    fn task_name(&self, number: u64) -> String {
        format!("{}.{number}", self.client)
    }
}

impl Executor for ClusterExecutor {
    /// The workers are elsewhere, and come and go: as many tasks as
    /// anyone submits are in flight at once.
    fn max_workers(&self) -> usize {
        usize::MAX
    }

    fn shutdown(&self, wait: bool, cancel_pending: bool) {
        self.shared.closed.store(true, Ordering::SeqCst);
        if cancel_pending {
            let all: Vec<u64> = self.shared.pending.lock().keys().copied().collect();
            for number in all {
                self.shared.complete(number, Err(Error::cancelled()));
            }
        }
        if wait {
            let mut pending = self.shared.pending.lock();
            while !pending.is_empty() {
                self.shared.drained.wait(&mut pending);
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
        promise.start();
        let completer: Completer = Box::new(move |outcome| {
            promise.complete(outcome.and_then(|outcome| match outcome {
                Outcome::Reply(bytes) => Reply::from_bytes(&bytes)?.decode::<R>(),
                Outcome::Failed { kind, message } => Err(Outcome::error(kind, message)),
            }));
        });
        self.shared.pending.lock().insert(number, completer);
        let shared = Arc::clone(&self.shared);
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the executor");
        runtime.spawn(async move {
            let name = shared.task_name(number);
            let headers = wire::task_headers(&name, &shared.reply_to);
            let published = match shared
                .js
                .publish_with_headers(shared.subject.clone(), headers, payload.into())
                .await
            {
                Ok(ack) => ack
                    .await
                    .map(|ack| shared.stored(number, ack.sequence))
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(why) = published {
                shared.complete(
                    number,
                    Err(Error::new(
                        ErrorKind::Io,
                        format!("publishing task {name}: {why}"),
                    )),
                );
            }
        });
        Ok(task)
    }
}

impl Drop for ClusterExecutor {
    /// Stops taking tasks and cancels the handles of those not completed,
    /// then closes the connection. Unlike a process pool's, it does not
    /// wait: with no worker alive that would be forever. Call
    /// `shutdown(true, false)` first to wait for the results.
    fn drop(&mut self) {
        self.shutdown(false, true);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
