//! The classic CPU-bound example: `sum(i * i for i in range(n))` for twenty
//! numbers, one after another, then with `ThreadPoolExecutor.map`, then
//! with a process `Pool.map`, with the times and speedups; and the seeds'
//! sum of squares over `range(10000)`, serially and on the process pool.
//! Rust threads share no interpreter lock, so both pools run on every core.

use std::hint::black_box;
use std::time::Instant;

use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::multiprocessing::Pool;

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
        .map(sum_of_squares, numbers.iter().copied())
        .collect::<Result<Vec<_>, _>>()?;
    pool.shutdown(true, false);
    let pool_time = start.elapsed();
    println!("ThreadPoolExecutor({cpus}).map: {pool_time:>10.1?}");

    let start = Instant::now();
    let processes = Pool::builder().processes(cpus).build()?;
    let processed = processes.map_chunked(sum_of_squares, numbers.iter().copied(), 1)?;
    let process_time = start.elapsed();
    println!("Pool({cpus}).map (processes):  {process_time:>10.1?}");

    for (mode, results) in [("thread pool", &pooled), ("process pool", &processed)] {
        anyhow::ensure!(
            *results == serial,
            "the {mode} computed other sums: {results:?} vs {serial:?}"
        );
    }
    println!(
        "speedup: threads {:.2}x, processes {:.2}x on {cpus} cpu(s); all {} results match (first: {})",
        serial_time.as_secs_f64() / pool_time.as_secs_f64(),
        serial_time.as_secs_f64() / process_time.as_secs_f64(),
        serial.len(),
        serial[0]
    );

    // The seeds' small example: squares of range(10000), summed.
    let start = Instant::now();
    // Each input hidden behind `black_box`, as in `sum_of_squares`: else
    // the optimiser folds the loop into the closed formula and times nothing.
    let serial_small: u64 = (0..black_box(10_000u64))
        .map(|x| square(black_box(x)))
        .sum();
    let serial_small_time = start.elapsed();
    let start = Instant::now();
    let pooled_small: u64 = processes.map(square, 0..10_000u64)?.into_iter().sum();
    let pooled_small_time = start.elapsed();
    anyhow::ensure!(
        serial_small == pooled_small,
        "the pool summed {pooled_small}"
    );
    println!(
        "sum(x*x for x in range(10000)) = {serial_small}: serial {serial_small_time:.1?}, \
         Pool({cpus}).map {pooled_small_time:.1?} (too little work to pay for the trip)"
    );
    processes.close();
    processes.join()?;
    Ok(())
}

/// The seeds' worker function.
fn square(x: u64) -> u64 {
    x * x
}
