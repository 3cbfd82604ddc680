//! `corun bench`: the experiments of BENCHMARKS.md, each against its peers
//! in the same run, reported as medians and ratios.

mod async_queue;
mod async_spawn;
mod cpu;
mod emit;
mod gpu_launch;
mod gpu_throughput;
mod io;
mod ipc;
mod latency;
mod measure;
mod overhead;
mod processes;
mod progress;
mod python;
mod queue;
mod reactive;
mod report;
mod schedule;
mod sleep_precision;
mod sync;
mod timeline;

use std::io::Write;

use anyhow::Context;

use crate::cli::{BenchArgs, Experiment};
use report::{Report, Row};

/// Sizes and repetitions for one invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Repetitions of every measurement; the median is reported.
    pub(crate) runs: usize,
    /// Whether this is a smoke run with small sizes.
    pub(crate) quick: bool,
    /// Whether to run the Python peers.
    pub(crate) python: bool,
}

impl Plan {
    /// `full` in a normal run, `quick` in a smoke run.
    pub(crate) fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let runs = args.runs.unwrap_or(if args.quick { 1 } else { 5 });
    anyhow::ensure!(runs > 0, "--runs must be at least 1");
    let plan = Plan {
        runs,
        quick: args.quick,
        python: !args.no_python,
    };
    let experiments = if !args.experiment.is_empty() {
        args.experiment.clone()
    } else if args.all {
        Experiment::all().collect()
    } else {
        Experiment::DEFAULT.to_vec()
    };
    let mut report = Report::new(plan);
    for experiment in experiments {
        let _spinner = progress::start(experiment.name(), runs);
        let rows: Vec<Row> = match experiment {
            Experiment::Queue => queue::run(&plan)?,
            Experiment::Sync => sync::run(&plan)?,
            Experiment::Cpu => cpu::run(&plan, args.timeline.as_deref())?,
            Experiment::OverheadThreads => overhead::run(&plan)?,
            Experiment::LatencyThreads => latency::run(&plan)?,
            Experiment::OverheadProcesses => processes::overhead(&plan)?,
            Experiment::MapProcesses => processes::map(&plan)?,
            Experiment::Spawn => processes::spawn(&plan)?,
            Experiment::Crash => processes::crash(&plan)?,
            Experiment::Bulk => ipc::bulk(&plan)?,
            Experiment::QueueProcesses => ipc::queue(&plan)?,
            Experiment::LockProcesses => ipc::lock(&plan)?,
            Experiment::Schedule => schedule::run(&plan)?,
            Experiment::AsyncSpawn => async_spawn::run(&plan)?,
            Experiment::SleepPrecision => sleep_precision::run(&plan)?,
            Experiment::AsyncQueue => async_queue::run(&plan)?,
            Experiment::Io => io::run(&plan, args.timeline.as_deref())?,
            Experiment::Emit => emit::run(&plan)?,
            Experiment::Reactive => reactive::run(&plan)?,
            Experiment::GpuThroughput => gpu_throughput::run(&plan)?,
            Experiment::GpuLaunch => gpu_launch::run(&plan)?,
        };
        report.rows.extend(rows);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    report.write_table(&mut out)?;
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        if path.as_os_str() == "-" {
            writeln!(out, "{json}")?;
        } else {
            std::fs::write(path, json + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("corun bench: wrote {}", path.display());
        }
    }
    Ok(())
}
