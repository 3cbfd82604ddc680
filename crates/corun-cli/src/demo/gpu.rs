//! The seeds' "Using the GPU": SAXPY over a million floats and the twenty
//! exact sums of squares, on whatever device there is — a GPU, an OpenCL
//! CPU driver (PoCL), or, with no OpenCL at all, corun's CPU fallback on
//! the thread pool — each checked against the CPU and timed. The same
//! calls run everywhere: `Compute` picks the device.

use std::time::Instant;

use anyhow::ensure;
use corun::gpu::{Compute, devices};

use crate::workload::numbers;

const N: usize = 1 << 20;
const BASE: u64 = 5_000_000;

pub(crate) fn run() -> anyhow::Result<()> {
    let found = devices();
    if found.is_empty() {
        println!("no OpenCL device: corun's CPU fallback runs the kernels");
    } else {
        println!("OpenCL devices:");
        for device in &found {
            println!("  {device}");
        }
    }
    let compute = Compute::new()?;
    let cpu = Compute::cpu();
    println!("running on: {}", compute.name());

    let x: Vec<f32> = (0..N).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..N).map(|i| (N - i) as f32).collect();
    let start = Instant::now();
    let on_device = compute.saxpy(2.0, &x, &y)?.result()?;
    let device_time = start.elapsed();
    let on_cpu = cpu.saxpy(2.0, &x, &y)?.result()?;
    ensure!(on_device == on_cpu, "SAXPY differs from the CPU's");
    println!(
        "SAXPY y = 2·x + y over {N} floats: {device_time:.1?} with the transfers; y[{}] = {} (equal to the CPU's)",
        N - 1,
        on_device[N - 1]
    );

    let numbers = numbers(BASE);
    let start = Instant::now();
    let tasks = numbers
        .iter()
        .map(|&n| compute.sum_of_squares(n))
        .collect::<Result<Vec<_>, _>>()?;
    let sums = tasks
        .into_iter()
        .map(|task| task.result())
        .collect::<Result<Vec<_>, _>>()?;
    let device_time = start.elapsed();
    let start = Instant::now();
    let expected = numbers
        .iter()
        .map(|&n| cpu.sum_of_squares(n)?.result())
        .collect::<Result<Vec<_>, _>>()?;
    let cpu_time = start.elapsed();
    ensure!(sums == expected, "the sums differ from the CPU's");
    println!(
        "sum of squares of range(n) for n = {BASE} … {}: {device_time:.1?} ({cpu_time:.1?} on the CPU fallback)",
        numbers[numbers.len() - 1]
    );
    println!(
        "  the first: {}; all twenty: {} (exact: they overflow 64 bits, partials are added in u128)",
        sums[0],
        sums.iter().sum::<u128>()
    );
    Ok(())
}
