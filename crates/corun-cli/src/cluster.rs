//! `corun cluster worker URL` and `corun cluster status URL`.

use corun::cluster::{WorkerBuilder, status};

use crate::cli::ClusterAction;

pub(crate) fn run(action: ClusterAction) -> anyhow::Result<()> {
    match action {
        ClusterAction::Worker {
            url,
            processes,
            stream,
            queue,
        } => {
            let mut worker = WorkerBuilder::new(&url).stream(&stream).queue(&queue);
            if let Some(n) = processes {
                worker = worker.processes(n);
            }
            eprintln!(
                "corun cluster: serving queue {queue} of {url} for this binary (pid {})",
                std::process::id()
            );
            worker.run()?;
            Ok(())
        }
        ClusterAction::Status { url, stream } => {
            let queues = status(&url, &stream)?;
            println!("cluster {url}, stream {stream}");
            if queues.is_empty() {
                println!("no queue yet: no executor or worker has been here");
                return Ok(());
            }
            println!(
                "{:<16} {:<16} {:>8} {:>10} {:>8} {:>8} {:>12}",
                "queue", "binary", "workers", "processes", "queued", "running", "redelivered"
            );
            for q in queues {
                println!(
                    "{:<16} {:<16} {:>8} {:>10} {:>8} {:>8} {:>12}",
                    q.queue, q.binary, q.workers, q.processes, q.queued, q.running, q.redelivered
                );
            }
            Ok(())
        }
    }
}
