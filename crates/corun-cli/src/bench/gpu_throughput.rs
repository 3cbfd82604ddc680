//! The `gpu-throughput` experiment: vector add and SAXPY over `n` f32
//! elements (2²² on an OpenCL CPU device such as PoCL, 2²⁸ on a GPU) on
//! the default device — kernel-only (the device's profiling clock) and end
//! to end (upload, kernel, download) — against corun::gpu's CPU fallback
//! on the thread pool and rayon's `par_iter`, in the same run. Both
//! kernels move 12 bytes per element (two reads, one write): GB/s =
//! 12·n / t. On a CPU device the ratios are the result: no bandwidth claim
//! is made for a 2-core CPU. On a GPU whose memory bandwidth is known
//! (`CORUN_GPU_BANDWIDTH_GBS`, or a table of devices) a bar row asks
//! kernel-only SAXPY for at least 70 % of it.

use std::time::Duration;

use anyhow::{Context, ensure};
use corun::gpu::{Builtins, Compute, Device, DeviceKind, GpuExecutor, default_device};
use rayon::prelude::*;

use super::Plan;
use super::measure::{Contender, per_run_ms};
use super::report::Row;

const EXPERIMENT: &str = "gpu-throughput";
/// BENCHMARKS.md: kernel-only SAXPY ≥ 70 % of the memory bandwidth.
const BANDWIDTH_SHARE: f64 = 0.70;
/// Overrides the bandwidth table, in GB/s.
const BANDWIDTH_ENV: &str = "CORUN_GPU_BANDWIDTH_GBS";
/// Peak memory bandwidths, by a part of the device's name (vendor data).
const BANDWIDTHS: [(&str, f64); 2] = [("H200", 4800.0), ("H100", 3350.0)];
/// Bytes each kernel moves per element.
const BYTES_PER_ELEMENT: f64 = 12.0;
const A: f32 = 2.5;

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let Some(device) = default_device() else {
        return Ok(vec![Row::peer_missing(
            EXPERIMENT,
            "corun::gpu kernels",
            "rayon par_iter",
            0.0,
            "no OpenCL device here: nothing to measure (the cpu experiment's gpu mode shows the CPU fallback)".into(),
        )]);
    };
    let on_gpu = device.kind() == DeviceKind::Gpu;
    let n = if plan.quick {
        1 << 18
    } else if on_gpu {
        1 << 28
    } else {
        1 << 22
    };
    let builtins = Builtins::new(GpuExecutor::on(&device)?)?;
    let compute = Compute::on(&device)?;
    let cpu = Compute::cpu();
    let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.25).collect();
    let y: Vec<f32> = (0..n).map(|i| (i % 777) as f32 - 300.0).collect();
    let gpu = builtins.executor();
    let (bx, by) = (gpu.buffer_from(&x)?, gpu.buffer_from(&y)?);
    let out = gpu.buffer::<f32>(n)?;

    let mut rows = Vec::new();
    for kernel in [Kernel::Add, Kernel::Saxpy] {
        let expected = kernel.on_cpu(&x, &y);
        let (mut end_to_end, mut fallback, mut parallel) = (Vec::new(), Vec::new(), Vec::new());
        let mut contenders = [
            Contender::new("kernel-only", |_| {
                kernel
                    .on_device(&builtins, &bx, &by, &out)
                    .expect("the kernel launches")
            }),
            Contender::timed("end to end", |_| {
                end_to_end = kernel.compute(&compute, &x, &y).expect("end to end runs");
            }),
            Contender::timed("CPU fallback", |_| {
                fallback = kernel.compute(&cpu, &x, &y).expect("the fallback runs");
            }),
            Contender::timed("rayon par_iter", |_| {
                parallel = kernel.rayon(&x, &y);
            }),
        ];
        let t = per_run_ms(plan.runs, &mut contenders);
        drop(contenders);
        let kernel_only = out.read()?.result()?;
        for (how, got) in [
            ("kernel-only", &kernel_only),
            ("end to end", &end_to_end),
            ("CPU fallback", &fallback),
            ("rayon", &parallel),
        ] {
            ensure!(
                bits(got) == bits(&expected),
                "gpu-throughput: {} {how} differs from the plain loop",
                kernel.name()
            );
        }
        let gbs = |ms: f64| BYTES_PER_ELEMENT * n as f64 / (ms * 1e6);
        let rate = |ms: f64| {
            if on_gpu {
                format!("{:.1} GB/s", gbs(ms))
            } else {
                "PoCL on the CPU: ratio only, no GB/s claim".to_string()
            }
        };
        let name = kernel.name();
        let size = format!("{n} f32 on {device}");
        rows.push(
            Row::compare(
                EXPERIMENT,
                format!("{name} kernel-only"),
                "rayon par_iter",
                &t[0],
                &t[3],
                None,
            )
            .note(format!("{}; {size}", rate(t[0].median))),
        );
        rows.push(
            Row::compare(
                EXPERIMENT,
                format!("{name} end to end"),
                "rayon par_iter",
                &t[1],
                &t[3],
                None,
            )
            .note(format!("with the transfers; {}", rate(t[1].median))),
        );
        rows.push(
            Row::compare(
                EXPERIMENT,
                format!("{name} CPU fallback"),
                "rayon par_iter",
                &t[2],
                &t[3],
                None,
            )
            .note(format!("corun::gpu::Compute::cpu(), {}", cpu.name())),
        );
        if let (Kernel::Saxpy, true) = (kernel, on_gpu) {
            match bandwidth(&device)? {
                Some((peak, source)) => {
                    // The time that moves the bytes at 70 % of the peak.
                    let bar_ms = BYTES_PER_ELEMENT * n as f64 / (BANDWIDTH_SHARE * peak * 1e6);
                    rows.push(
                        Row::target(
                            EXPERIMENT,
                            "saxpy kernel-only",
                            &t[0],
                            bar_ms,
                            format!("moves the bytes at 70 % of {peak:.0} GB/s"),
                        )
                        .note(format!(
                            "{:.1} GB/s = {:.0} % of the peak ({source})",
                            gbs(t[0].median),
                            100.0 * gbs(t[0].median) / peak
                        )),
                    );
                }
                None => rows.push(Row::peer_missing(
                    EXPERIMENT,
                    "saxpy kernel-only",
                    "the bar: 70 % of the memory bandwidth",
                    &t[0],
                    format!("{device}'s bandwidth is not known: set {BANDWIDTH_ENV}"),
                )),
            }
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ms/run")).collect())
}

#[derive(Clone, Copy)]
enum Kernel {
    Add,
    Saxpy,
}

impl Kernel {
    fn name(self) -> &'static str {
        match self {
            Kernel::Add => "vector add",
            Kernel::Saxpy => "saxpy",
        }
    }

    /// The plain loop: what every contender must compute.
    fn on_cpu(self, x: &[f32], y: &[f32]) -> Vec<f32> {
        match self {
            Kernel::Add => x.iter().zip(y).map(|(x, y)| x + y).collect(),
            Kernel::Saxpy => x.iter().zip(y).map(|(x, y)| A * x + y).collect(),
        }
    }

    fn rayon(self, x: &[f32], y: &[f32]) -> Vec<f32> {
        match self {
            Kernel::Add => x.par_iter().zip(y).map(|(x, y)| x + y).collect(),
            Kernel::Saxpy => x.par_iter().zip(y).map(|(x, y)| A * x + y).collect(),
        }
    }

    /// The kernel on resident buffers; its kernel-only time.
    fn on_device(
        self,
        builtins: &Builtins,
        x: &corun::gpu::Buffer<f32>,
        y: &corun::gpu::Buffer<f32>,
        out: &corun::gpu::Buffer<f32>,
    ) -> anyhow::Result<Duration> {
        let task = match self {
            Kernel::Add => builtins.vector_add(x, y, out)?,
            Kernel::Saxpy => builtins.saxpy(A, x, y, out)?,
        };
        Ok(task.result()?)
    }

    /// The kernel on host slices through `compute`.
    fn compute(self, compute: &Compute, x: &[f32], y: &[f32]) -> anyhow::Result<Vec<f32>> {
        let task = match self {
            Kernel::Add => compute.vector_add(x, y)?,
            Kernel::Saxpy => compute.saxpy(A, x, y)?,
        };
        Ok(task.result()?)
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// The device's peak memory bandwidth in GB/s and where it comes from:
/// `CORUN_GPU_BANDWIDTH_GBS`, else the table; `None` when neither knows.
fn bandwidth(device: &Device) -> anyhow::Result<Option<(f64, String)>> {
    if let Ok(value) = std::env::var(BANDWIDTH_ENV) {
        let gbs: f64 = value
            .parse()
            .with_context(|| format!("{BANDWIDTH_ENV}={value:?} is not a number of GB/s"))?;
        ensure!(gbs > 0.0, "{BANDWIDTH_ENV} must be positive, not {gbs}");
        return Ok(Some((gbs, BANDWIDTH_ENV.to_string())));
    }
    Ok(BANDWIDTHS
        .iter()
        .find(|(part, _)| device.name().contains(part))
        .map(|&(part, gbs)| (gbs, format!("{part}'s published peak"))))
}
