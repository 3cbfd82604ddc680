//! The classic CPU-bound example: `sum(i * i for i in range(n))` for twenty
//! numbers, one after another and then with `ThreadPoolExecutor.map`, with
//! both times and the speedup. Rust threads share no interpreter lock, so
//! the pool runs on every core.

use std::time::Instant;

use corun::concurrent::{Executor, ThreadPoolExecutor};

use crate::workload::{numbers, sum_of_squares};

const BASE: u64 = 5_000_000;

pub(crate) fn run() -> anyhow::Result<()> {
    let numbers = numbers(BASE);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "sum of squares of range(n) for n = {BASE} … {}",
        numbers[numbers.len() - 1]
    );

    let start = Instant::now();
    let serial: Vec<u128> = numbers.iter().map(|&n| sum_of_squares(n)).collect();
    let serial_time = start.elapsed();
    println!("serial:                    {serial_time:>10.1?}");

    let start = Instant::now();
    let pool = ThreadPoolExecutor::builder().max_workers(cpus).build()?;
    let pooled = pool
        .map(sum_of_squares, numbers.iter().copied(), None)
        .collect::<Result<Vec<_>, _>>()?;
    pool.shutdown(true, false);
    let pool_time = start.elapsed();
    println!("ThreadPoolExecutor({cpus}).map: {pool_time:>10.1?}");

    anyhow::ensure!(
        pooled == serial,
        "the pool computed other sums: {pooled:?} vs {serial:?}"
    );
    println!(
        "speedup: {:.2}x on {cpus} cpu(s); all {} results match (first: {})",
        serial_time.as_secs_f64() / pool_time.as_secs_f64(),
        serial.len(),
        serial[0]
    );
    Ok(())
}
