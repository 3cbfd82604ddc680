//! Talking to the server: connecting with clear errors, the two streams
//! (tasks, results), the workers' consumer and the three buckets (claims,
//! live workers, large payloads), made where missing.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, object_store, stream};
use async_nats::{Client, ConnectErrorKind};
use corun_concurrent::{Error, ErrorKind};

use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::wire;

/// How the streams and the workers' consumer are set up.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The tasks' stream; the results' is this name with `_RESULTS`.
    pub(crate) stream: String,
    pub(crate) queue: String,
    /// How long a claimed task may go without an acknowledgement before
    /// the server gives it to another worker.
    pub(crate) ack_wait: Duration,
    /// How many times a task is delivered at most (1 + retries).
    pub(crate) max_deliver: i64,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            stream: "CORUN".to_owned(),
            queue: "default".to_owned(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 3,
        }
    }
}

impl Layout {
    pub(crate) fn results_stream(&self) -> String {
        format!("{}_RESULTS", self.stream)
    }

    /// The bucket of claims: a task's name, set by the worker that starts
    /// it, or to [`CANCELLED`](crate::wire::CANCELLED) by its executor,
    /// whichever comes first.
    fn claims_bucket(&self) -> String {
        format!("{}_CLAIMS", self.stream)
    }

    /// The bucket of live workers, `<queue>.<binary>.<worker>`: each
    /// worker renews its key every [`HEARTBEAT`]; a key not renewed
    /// expires.
    pub(crate) fn workers_bucket(&self) -> String {
        format!("{}_WORKERS", self.stream)
    }

    /// The object store of arguments and results over the server's
    /// payload limit.
    fn objects_bucket(&self) -> String {
        format!("{}_OBJECTS", self.stream)
    }

    /// The names can stand in subjects, and the wait is one.
    pub(crate) fn check(&self) -> Result<(), Error> {
        for (what, name) in [("stream", &self.stream), ("queue", &self.queue)] {
            if !wire::is_token(name) {
                return Err(Error::invalid_argument(format!(
                    "the {what} name `{name}`: use letters, digits, `-` and `_`"
                )));
            }
        }
        if self.ack_wait.is_zero() {
            return Err(Error::invalid_argument("ack_wait must be more than zero"));
        }
        Ok(())
    }

    /// The durable consumer the workers of `fingerprint` share.
    fn consumer_config(&self, fingerprint: u64) -> consumer::pull::Config {
        consumer::pull::Config {
            durable_name: Some(wire::consumer_name(&self.queue, fingerprint)),
            filter_subject: wire::task_subject(&self.queue, fingerprint),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            ..Default::default()
        }
    }
}

/// How long connecting may take, unless told otherwise.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An I/O error while doing `what`.
pub(crate) fn io(what: &str, error: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("{what}: {error}"))
}

/// The runtime the connection lives on: `threads` threads named `name`.
pub(crate) fn runtime(name: &str, threads: usize) -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| Error::from_source(ErrorKind::Io, e))
}

/// How long a result waits for its client before the server drops it;
/// also how long claims and large payloads are kept.
const RESULTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// How often a worker says it is alive.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(2);

/// How long a worker that stopped saying so still counts as alive.
const WORKER_TTL: Duration = Duration::from_secs(6);

/// What a payload may weigh, below the server's limit, and leave room for
/// the headers: above it, it goes through the object store.
pub(crate) fn payload_limit(client: &Client) -> usize {
    client
        .server_info()
        .max_payload
        .saturating_sub(8 * 1024)
        .max(1024)
}

/// The buckets beside the streams.
#[derive(Clone)]
pub(crate) struct Buckets {
    /// Who started each task, or that its executor took it back.
    pub(crate) claims: kv::Store,
    /// The live workers.
    pub(crate) workers: kv::Store,
    /// Arguments and results over the payload limit.
    pub(crate) objects: object_store::ObjectStore,
}

/// Opens the buckets, making those that are missing.
pub(crate) async fn buckets(js: &jetstream::Context, layout: &Layout) -> Result<Buckets, Error> {
    let store = |bucket: String, max_age: Duration| kv::Config {
        bucket,
        history: 1,
        max_age,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    let claims = key_value(js, store(layout.claims_bucket(), RESULTS_MAX_AGE)).await?;
    let workers = key_value(js, store(layout.workers_bucket(), WORKER_TTL)).await?;
    let bucket = layout.objects_bucket();
    let objects = match js.get_object_store(&bucket).await {
        Ok(objects) => objects,
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: bucket.clone(),
                max_age: RESULTS_MAX_AGE,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::new(ErrorKind::Io, format!("making the bucket {bucket}: {e}")))?,
    };
    Ok(Buckets {
        claims,
        workers,
        objects,
    })
}

/// The bytes of object `name` (`what` it holds, for the error).
pub(crate) async fn read_object(
    objects: &object_store::ObjectStore,
    name: &str,
    what: &str,
) -> Result<Vec<u8>, Error> {
    let lost = |e: String| io(&format!("reading {what} {name} from the object store"), e);
    let mut object = objects.get(name).await.map_err(|e| lost(e.to_string()))?;
    let mut bytes = Vec::new();
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| lost(e.to_string()))?;
    Ok(bytes)
}

/// The key-value bucket `config` names, made if it is missing.
async fn key_value(js: &jetstream::Context, config: kv::Config) -> Result<kv::Store, Error> {
    if let Ok(store) = js.get_key_value(&config.bucket).await {
        return Ok(store);
    }
    let bucket = config.bucket.clone();
    match js.create_key_value(config).await {
        Ok(store) => Ok(store),
        // Made by another process meanwhile.
        Err(e) => js
            .get_key_value(&bucket)
            .await
            .map_err(|_| Error::new(ErrorKind::Io, format!("making the bucket {bucket}: {e}"))),
    }
}

/// The live workers, by `<queue>.<binary>`: how many, and how many tasks
/// they run at once in all.
///
/// The keys come from the bucket's stream in one request: listing them
/// through a consumer (`Store::keys`) waits for the newest key, and a key
/// that expires meanwhile never comes.
pub(crate) async fn live_workers(
    workers: &kv::Store,
) -> Result<HashMap<String, (usize, usize)>, Error> {
    let mut subjects = workers
        .stream
        .info_with_subjects(format!("{}>", workers.prefix))
        .await
        .map_err(|e| io("listing the workers", e))?;
    let mut live = HashMap::new();
    while let Some(subject) = subjects.next().await {
        let (subject, _) = subject.map_err(|e| io("listing the workers", e))?;
        let Some(key) = subject.strip_prefix(workers.prefix.as_str()) else {
            continue;
        };
        // <queue>.<binary>.<worker>
        let Some((queue_binary, _worker)) = key.rsplit_once('.') else {
            continue;
        };
        // None: deleted, or expired since.
        if let Ok(Some(value)) = workers.get(key).await {
            let processes = std::str::from_utf8(&value)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            let entry: &mut (usize, usize) = live.entry(queue_binary.to_owned()).or_default();
            entry.0 += 1;
            entry.1 += processes;
        }
    }
    Ok(live)
}

/// A number to tell this client from the others: the server's client id
/// and the clock, mixed.
pub(crate) fn rand_u64(client: &async_nats::Client) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let id = client.server_info().client_id;
    (nanos ^ id.rotate_left(40) ^ u64::from(std::process::id()).rotate_left(20))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Connects to `url`, failing at once when the server cannot be reached.
pub(crate) async fn connect(
    url: &str,
    timeout: Duration,
) -> Result<(Client, jetstream::Context), Error> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(timeout)
        .name("corun")
        .connect(url)
        .await
        .map_err(|e| match e.kind() {
            ConnectErrorKind::ServerParse | ConnectErrorKind::Dns => {
                Error::invalid_argument(format!("cluster URL `{url}`: {e}"))
            }
            _ => Error::new(
                ErrorKind::Io,
                format!("cannot reach the NATS server at `{url}`: {e}"),
            ),
        })?;
    let js = jetstream::new(client.clone());
    Ok((client, js))
}

/// Makes the tasks' and the results' streams where they are missing.
pub(crate) async fn streams(js: &jetstream::Context, layout: &Layout) -> Result<(), Error> {
    let tasks = stream::Config {
        name: layout.stream.clone(),
        subjects: vec![wire::TASKS.to_owned()],
        // A task is gone once a worker acknowledges it.
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    };
    let results = stream::Config {
        name: layout.results_stream(),
        subjects: vec![wire::RESULTS.to_owned()],
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        max_age: RESULTS_MAX_AGE,
        ..Default::default()
    };
    for config in [tasks, results] {
        let name = config.name.clone();
        js.get_or_create_stream(config).await.map_err(|e| {
            use async_nats::jetstream::context::CreateStreamErrorKind as K;
            match e.kind() {
                K::JetStreamUnavailable | K::TimedOut => Error::new(
                    ErrorKind::InvalidState,
                    format!(
                        "the NATS server has no JetStream (start it with `-js`): \
                         creating the stream {name}: {e}"
                    ),
                ),
                _ => Error::new(ErrorKind::Io, format!("creating the stream {name}: {e}")),
            }
        })?;
    }
    Ok(())
}

/// The durable consumer the workers of `fingerprint` share: made with
/// `layout`'s limits, or its limits updated to them with `update` (an
/// executor's settings), else joined as it is (a worker's).
pub(crate) async fn worker_consumer(
    js: &jetstream::Context,
    layout: &Layout,
    fingerprint: u64,
    update: bool,
) -> Result<consumer::PullConsumer, Error> {
    let stream = js.get_stream(&layout.stream).await.map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("opening the stream {}: {e}", layout.stream),
        )
    })?;
    let name = wire::consumer_name(&layout.queue, fingerprint);
    let config = layout.consumer_config(fingerprint);
    let consumer = if update {
        stream.create_consumer(config).await
    } else {
        stream.get_or_create_consumer(&name, config).await
    };
    consumer.map_err(|e| Error::new(ErrorKind::Io, format!("making the consumer {name}: {e}")))
}
