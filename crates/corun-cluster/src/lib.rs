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
//! # Where it stands
//!
//! Built: submitting, results as `Task`s, workers of the identical binary
//! only (the binary's fingerprint is in the subject), at-least-once runs
//! with duplicate results dropped, a function's failure returned and not
//! retried, a worker process's crash contained, progress
//! acknowledgements, a lost worker's task delivered again (only its own,
//! after the acknowledgement wait), a task out of deliveries failed alone
//! as "worker lost", clear connection errors, [`status`] of the queues;
//! `corun cluster worker`/`status` and `corun bench -e cluster`. Not yet:
//! cancelling a task on the server before a worker claims it, waiting for
//! a live worker at connect, payloads above the server's limit through the
//! object store, the per-task deadline, `corun bench -e cpu --cluster URL`;
//! and the cost per task is above its bar (about 0.5 ms through a local
//! server, against 0.2 ms).
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

mod executor;
mod server;
mod status;
mod wire;
mod worker;

pub use executor::{ClusterBuilder, ClusterExecutor};
pub use status::{QueueStatus, status};
pub use worker::{PROCESSES_ENV, WORKER_ENV, WorkerBuilder, worker, worker_from_env};
