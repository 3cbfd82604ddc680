//! Talking to the server: connecting with clear errors, the two streams
//! (tasks, results) and the workers' consumer, made where missing.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use async_nats::{Client, ConnectErrorKind};
use corun_concurrent::{Error, ErrorKind};

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

/// The runtime the connection lives on: one thread, named `name`.
pub(crate) fn runtime(name: &str) -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| Error::from_source(ErrorKind::Io, e))
}

/// How long a result waits for its client before the server drops it.
const RESULTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

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
