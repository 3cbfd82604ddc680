//! A process pool that survives its workers dying: every tenth task aborts
//! the worker running it. Python's `Pool` would wait forever for those
//! tasks and its `ProcessPoolExecutor` would fail every task still queued;
//! here only the aborting tasks fail, each saying how its worker died, and
//! the pool replaces the worker and goes on.

use std::time::Instant;

use corun::multiprocessing::Pool;

use crate::workload::abort_every_tenth;

const TASKS: u64 = 40;

pub(crate) fn run() -> anyhow::Result<()> {
    let start = Instant::now();
    let pool = Pool::builder().processes(2).build()?;
    let first_pids = pool.pids();
    println!("Pool(2) workers {first_pids:?}; {TASKS} tasks, every tenth aborts its worker");
    let tasks = (0..TASKS)
        .map(|i| pool.apply_async(abort_every_tenth, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ok = 0;
    for (i, task) in (0..).zip(tasks) {
        match task.result() {
            Ok(value) => {
                anyhow::ensure!(value == i, "task {i} returned {value}");
                ok += 1;
            }
            Err(e) => {
                anyhow::ensure!(e.is_worker_died(), "task {i} failed otherwise: {e}");
                println!("task {i:>2} failed: {e}");
            }
        }
    }
    println!(
        "{ok} tasks succeeded, {} failed; workers now {:?}; {:.1?} in all",
        TASKS - ok,
        pool.pids(),
        start.elapsed()
    );
    pool.close();
    pool.join()?;
    anyhow::ensure!(pool.pids().is_empty(), "workers left behind");
    println!("pool closed and joined: no worker left");
    Ok(())
}
