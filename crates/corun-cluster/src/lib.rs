//! The same `fn(A) -> R` tasks a process pool runs, on many machines:
//! [`ClusterExecutor`] submits them through a NATS server with JetStream
//! (Python users reach for Ray, Dask or Celery here), and the workers are
//! the user's own binary, each running its tasks in a local process pool.
//!
//! # Why NATS JetStream
//!
//! The engine, not this crate, keeps the rules that make a cluster
//! trustworthy: a claimed task that is not acknowledged within the
//! acknowledgement wait goes to another worker, a worker that is slow but
//! alive keeps its claim with progress acknowledgements, and a task is
//! delivered a bounded number of times. The server is one small binary,
//! and `async-nats` is its official Rust client (pinned: it is 0.x).
//!
//! # What is on the server
//!
//! For a stream named `S` (default `CORUN`): the stream `S` of tasks, a
//! work queue on `corun.task.<queue>.<binary>` (only workers of the
//! identical binary consume a subject); `S_RESULTS`, the results on
//! `corun.result.<client>`; the key-value buckets `S_CLAIMS` (who started
//! each task, or that its executor took it back) and `S_WORKERS` (the live
//! workers, each renewing its key every 2 s); the object store
//! `S_OBJECTS`, for arguments and results over the server's payload
//! limit. All are made where missing, by executors and workers alike.
//!
//! # Cost
//!
//! Through a local server, a task costs about 0.14 ms (submit all, then
//! collect, with three workers on two cores): every task is a few
//! messages to and from the server, where a process pool pays a few
//! microseconds. Tasks should be worth it: the cpu experiment's 2.6 ms
//! sums take about 1.2–1.3 × a process pool's time on the same two
//! cores, where the server's work for each task competes with the sums.
//! A worker holds short tasks ahead of its processes to save a round trip
//! between them, and results are acknowledged in batches, to save the
//! server wake-ups.
//!
//! # Examples
//!
//! A program that is also its own worker:
//!
//! ```no_run
//! use corun::cluster::ClusterExecutor;
//! use corun::concurrent::{Executor, Submit};
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! corun::multiprocessing::init();
//! // Started with CORUN_CLUSTER_WORKER=nats://…, this process serves.
//! corun::cluster::worker_from_env();
//!
//! let cluster = ClusterExecutor::connect("nats://127.0.0.1:4222").unwrap();
//! assert_eq!(cluster.submit(square, 7).unwrap().result().unwrap(), 49);
//! ```

mod acks;
mod executor;
mod server;
mod status;
mod wire;
mod worker;

pub use executor::{ClusterBuilder, ClusterExecutor};
pub use status::{QueueStatus, status};
pub use worker::{PROCESSES_ENV, WORKER_ENV, WorkerBuilder, worker, worker_from_env};
