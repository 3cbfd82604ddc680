//! CPU-bound work in worker processes, awaited on the asyncio loop while the
//! loop goes on with other tasks: `#[corun::main]`, `run_in_executor` into a
//! `ProcessPoolExecutor`, and `to_thread` for a blocking call.
//!
//! ```text
//! cargo run -p corun --example asyncio_processes
//! ```
//!
//! One range "crashes" its worker on purpose (`std::process::abort`): only
//! that await fails; the pool replaces the worker and the rest go on.

use std::time::Duration;

use corun::asyncio::{create_task, run_in_executor, sleep, to_thread};
use corun::multiprocessing::ProcessPoolExecutor;

/// Counts the primes in `[start, end)`, the slow way; a range starting at
/// zero aborts its process instead, to show a worker dying.
fn count_primes((start, end): (u64, u64)) -> u64 {
    if start == 0 {
        std::process::abort();
    }
    (start..end)
        .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

#[corun::main]
async fn main() -> Result<(), corun::Error> {
    // Everything above this line would run again in every worker; with
    // `#[corun::main]`, `multiprocessing::init()` ran before it.
    let pool = ProcessPoolExecutor::builder().max_workers(2).build()?;
    let ranges = [(1, 200_000), (0, 1), (200_000, 400_000), (400_000, 600_000)];
    let calls: Vec<_> = ranges
        .iter()
        .map(|&range| run_in_executor(&pool, count_primes as fn((u64, u64)) -> u64, range))
        .collect();

    // The loop is free while the processes work.
    let ticker = create_task(async {
        for i in 1..=3 {
            println!("loop: tick {i}");
            sleep(Duration::from_millis(10)).await;
        }
    });
    let hostname = to_thread(|| std::fs::read_to_string("/etc/hostname").unwrap_or_default());

    let mut total = 0;
    for (range, call) in ranges.iter().zip(calls) {
        match call.await {
            Ok(n) => {
                println!("primes in {range:?}: {n}");
                total += n;
            }
            Err(err) => println!("range {range:?} failed: {err}"),
        }
    }
    ticker.await?;
    println!("host: {}", hostname.await?.trim());
    println!("primes below 600000, less the failed range: {total}");
    Ok(())
}
