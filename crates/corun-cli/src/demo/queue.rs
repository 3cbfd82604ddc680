//! Workers drain a queue; the main thread waits with `join`, then shuts the
//! queue down so the workers stop.

use std::sync::Arc;
use std::time::Duration;

use corun::queue::Queue;
use corun::threading::{Lock, Thread};

const WORKERS: usize = 3;
const JOBS: u64 = 12;

pub(crate) fn run() -> anyhow::Result<()> {
    let jobs = Arc::new(Queue::new());
    let results = Arc::new(Lock::new(Vec::new()));
    let workers = (0..WORKERS)
        .map(|w| {
            let (jobs, results) = (Arc::clone(&jobs), Arc::clone(&results));
            Thread::builder()
                .name(format!("worker-{w}"))
                .spawn(move || {
                    let mut handled = 0;
                    while let Ok(n) = jobs.get() {
                        std::thread::sleep(Duration::from_millis(5 * (n % 3)));
                        println!("worker-{w}: {n} squared is {}", n * n);
                        results.acquire().push(n * n);
                        handled += 1;
                        jobs.task_done().expect("one task_done per get");
                    }
                    handled
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for n in 1..=JOBS {
        jobs.put(n)
            .map_err(|e| anyhow::anyhow!("put failed: {e}"))?;
    }
    jobs.join();
    println!("main: join returned, all {JOBS} jobs done");
    jobs.shutdown(false);
    for worker in workers {
        let name = worker.name().to_owned();
        println!("main: {name} handled {} job(s)", worker.join()?);
    }
    let mut squares = results.acquire().clone();
    squares.sort_unstable();
    let expected: Vec<u64> = (1..=JOBS).map(|n| n * n).collect();
    anyhow::ensure!(squares == expected, "results are wrong: {squares:?}");
    println!("results: {squares:?}");
    Ok(())
}
