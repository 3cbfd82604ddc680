//! What the server knows of the queues: per queue and binary, how many
//! workers are alive, how many tasks wait for a worker, how many run, how
//! many were delivered more than once.

use corun_concurrent::{Error, ErrorKind};
use futures_util::StreamExt;

use crate::server;

/// One queue of one binary, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// The queue's name.
    pub queue: String,
    /// The binary's fingerprint, in hex: its workers serve only its tasks.
    pub binary: String,
    /// Workers alive: those that said so within the last few seconds.
    pub workers: usize,
    /// How many tasks those workers run at once, in all.
    pub processes: usize,
    /// Worker slots asking for a task right now: idle workers. A worker
    /// busy in every slot asks for none, so it is counted in `running`.
    pub waiting_slots: usize,
    /// Tasks stored and not yet claimed by any worker.
    pub queued: u64,
    /// Tasks claimed and not yet answered.
    pub running: usize,
    /// Tasks delivered more than once (their worker was lost), among
    /// those claimed.
    pub redelivered: usize,
}

/// The queues of the stream `stream` on the server at `url`, one entry per
/// queue and binary whose workers or executors have been there.
///
/// # Errors
///
/// As [`ClusterBuilder::build`](crate::ClusterBuilder::build) for the
/// connection; [`ErrorKind::NotFound`] when the stream does not exist.
pub fn status(url: &str, stream: &str) -> Result<Vec<QueueStatus>, Error> {
    let runtime = server::runtime("corun-cluster-status", 1)?;
    runtime.block_on(async {
        let (_client, js) = server::connect(url, server::CONNECT_TIMEOUT).await?;
        let layout = server::Layout {
            stream: stream.to_owned(),
            ..server::Layout::default()
        };
        let stream = js.get_stream(stream).await.map_err(|e| {
            Error::new(
                ErrorKind::NotFound,
                format!("no stream `{stream}` on {url}: {e}"),
            )
        })?;
        // No bucket of workers yet: none has come.
        let live = match js.get_key_value(layout.workers_bucket()).await {
            Ok(workers) => server::live_workers(&workers).await?,
            Err(_) => Default::default(),
        };
        let mut consumers = stream.consumers();
        let mut queues = Vec::new();
        while let Some(info) = consumers.next().await {
            let info =
                info.map_err(|e| Error::new(ErrorKind::Io, format!("listing the queues: {e}")))?;
            // workers-<queue>-<fingerprint>
            let Some(rest) = info.name.strip_prefix("workers-") else {
                continue;
            };
            let Some((queue, binary)) = rest.rsplit_once('-') else {
                continue;
            };
            let (workers, processes) = live
                .get(&format!("{queue}.{binary}"))
                .copied()
                .unwrap_or_default();
            queues.push(QueueStatus {
                queue: queue.to_owned(),
                binary: binary.to_owned(),
                workers,
                processes,
                waiting_slots: info.num_waiting,
                queued: info.num_pending,
                running: info.num_ack_pending,
                redelivered: info.num_redelivered,
            });
        }
        queues.sort_by(|a, b| (&a.queue, &a.binary).cmp(&(&b.queue, &b.binary)));
        Ok(queues)
    })
}
