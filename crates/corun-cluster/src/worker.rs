//! A cluster worker: this binary, serving the tasks that executors of the
//! identical binary submit, each run in a local process pool so that a
//! crash, a time-out or a memory limit is contained as on one machine.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use corun_concurrent::{Error, ErrorKind, Executor};
use corun_multiprocessing::ProcessPoolExecutor;
use corun_multiprocessing::remote::{Call, binary_fingerprint};
use futures_util::StreamExt;

use crate::server::{self, Layout};
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

    /// Serves tasks until the process is stopped: claims one task per
    /// free process, runs it in the local pool, keeps the claim alive
    /// while it runs, publishes the outcome and, once the server has
    /// stored it, acknowledges the task.
    ///
    /// # Errors
    ///
    /// As [`ClusterBuilder::build`](crate::ClusterBuilder::build) for the
    /// connection; [`ErrorKind::Io`] when the server drops the workers'
    /// consumer; the local pool's error when it cannot start.
    pub fn run(self) -> Result<(), Error> {
        self.layout.check()?;
        let mut pool = ProcessPoolExecutor::builder();
        if let Some(n) = self.processes {
            pool = pool.max_workers(n);
        }
        let pool = Arc::new(pool.build()?);
        let slots = pool.max_workers();
        let runtime = server::runtime("corun-cluster-worker")?;
        runtime.block_on(async move {
            let (_client, js) = server::connect(&self.url, self.connect_timeout).await?;
            server::streams(&js, &self.layout).await?;
            let fingerprint = binary_fingerprint();
            // Made by the first executor with its limits; made here with
            // the defaults when a worker comes first.
            let mut consumer =
                server::worker_consumer(&js, &self.layout, fingerprint, false).await?;
            let name = wire::consumer_name(&self.layout.queue, fingerprint);
            let ack_wait = consumer
                .info()
                .await
                .map_err(|e| Error::new(ErrorKind::Io, format!("reading {name}: {e}")))?
                .config
                .ack_wait;
            let mut serving = Vec::new();
            for _ in 0..slots {
                serving.push(tokio::spawn(serve(
                    js.clone(),
                    consumer.clone(),
                    Arc::clone(&pool),
                    ack_wait,
                )));
            }
            for slot in serving {
                slot.await
                    .map_err(|e| Error::new(ErrorKind::Broken, format!("a slot failed: {e}")))??;
            }
            Ok(())
        })
    }
}

/// One slot: claims a task, runs it, answers, and again.
async fn serve(
    js: jetstream::Context,
    consumer: consumer::PullConsumer,
    pool: Arc<ProcessPoolExecutor>,
    ack_wait: Duration,
) -> Result<(), Error> {
    loop {
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(PULL_WAIT)
            .messages()
            .await
            .map_err(|e| Error::new(ErrorKind::Io, format!("claiming a task: {e}")))?;
        while let Some(message) = batch.next().await {
            let Ok(message) = message else { continue };
            answer(&js, &pool, message, ack_wait).await;
        }
    }
}

/// Runs one task and answers it; the task is acknowledged only once its
/// outcome is stored.
async fn answer(
    js: &jetstream::Context,
    pool: &ProcessPoolExecutor,
    message: jetstream::Message,
    ack_wait: Duration,
) {
    let headers = message.headers.as_ref();
    let (Some(task), Some(reply_to)) = (
        wire::header(headers, wire::TASK).map(str::to_owned),
        wire::header(headers, wire::REPLY_TO).map(str::to_owned),
    ) else {
        // Not a corun task: nobody can ever run it.
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let failed = |e: Error| Outcome::Failed {
        kind: e.kind(),
        message: e.to_string(),
    };
    let outcome = match Call::from_bytes(message.payload.to_vec()).and_then(|c| pool.submit_call(c))
    {
        Err(e) => failed(e),
        Ok(mut running) => {
            // Progress every third of the wait keeps the claim.
            let mut progress = tokio::time::interval(ack_wait / 3);
            progress.tick().await;
            let reply = loop {
                tokio::select! {
                    reply = &mut running => break reply,
                    _ = progress.tick() => {
                        let _ = message.ack_with(AckKind::Progress).await;
                    }
                }
            };
            match reply {
                Ok(reply) => Outcome::Reply(reply.to_bytes()),
                Err(e) => failed(e),
            }
        }
    };
    let (headers, payload) = outcome.to_message(&task);
    // Stored, or the task is left unacknowledged, to run again elsewhere.
    let stored = match js
        .publish_with_headers(reply_to, headers, payload.into())
        .await
    {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    if stored {
        let _ = message.double_ack().await;
    }
}
