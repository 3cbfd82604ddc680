//! `corun bench`: the experiments of BENCHMARKS.md, each against its peers
//! in the same run. By default the seeds' story: the CPU-bound and the
//! I/O-bound workload in every mode, their timing diagrams, and which
//! model to choose; `--all` adds the micro-benchmarks.
//!
//! One [`Report`] holds every figure; the table (`table.rs`), the JSON and
//! the HTML page (`html.rs`) are views of it.

mod async_queue;
mod async_spawn;
mod cluster;
mod cpu;
mod diagram;
mod emit;
mod gpu_launch;
mod gpu_throughput;
mod html;
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
mod self_check;
mod sleep_precision;
mod story;
mod sync;
mod table;
mod timeline;
mod workloads;

use std::io::Write;

use anyhow::Context;

use crate::cli::{BenchArgs, Experiment};
use report::{Report, Row, Section};

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
    if args.timeline.is_some() {
        let without: Vec<&str> = experiments
            .iter()
            .filter(|e| !e.has_timeline())
            .map(|e| e.name())
            .collect();
        anyhow::ensure!(
            without.is_empty(),
            "--timeline: {} ha{} no timeline; only cpu and io do (run them with -e cpu,io)",
            without.join(", "),
            if without.len() == 1 { "s" } else { "ve" }
        );
    }
    if args.cluster.is_some() && !experiments.contains(&Experiment::Cpu) {
        let names: Vec<&str> = experiments.iter().map(|e| e.name()).collect();
        anyhow::bail!(
            "--cluster: only the cpu experiment uses it, and this run has {} (run -e cpu \
             --cluster URL)",
            names.join(", ")
        );
    }
    // Connected, and a worker has answered, before anything is measured.
    let cluster = args
        .cluster
        .as_deref()
        .map(cpu::Cluster::connect)
        .transpose()?;
    let json_to_stdout = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    let mut report = Report::new(plan);
    for experiment in experiments {
        report.experiments.push(Section {
            name: experiment.name(),
            about: experiment.about(),
        });
        let _progress = progress::start(experiment.name(), runs);
        let rows: Vec<Row> = match experiment {
            Experiment::Queue => queue::run(&plan)?,
            Experiment::Sync => sync::run(&plan)?,
            Experiment::Cpu => {
                let (rows, workload) = cpu::run(&plan, cluster.as_ref())?;
                report.workloads.push(workload);
                rows
            }
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
            Experiment::Io => {
                let (rows, workload) = io::run(&plan)?;
                report.workloads.push(workload);
                rows
            }
            Experiment::Emit => emit::run(&plan)?,
            Experiment::Reactive => reactive::run(&plan)?,
            Experiment::GpuThroughput => gpu_throughput::run(&plan)?,
            Experiment::GpuLaunch => gpu_launch::run(&plan)?,
            Experiment::SelfCheck => self_check::run(&plan)?,
            Experiment::Cluster => cluster::run(&plan)?,
        };
        report.rows.extend(rows);
    }
    report.choices = (report.workloads.iter())
        .filter_map(|w| story::choose(w, report.machine.cpus))
        .collect();
    if let Some(dir) = &args.timeline {
        timeline::write_all(dir, &report.workloads)?;
    }
    if json_to_stdout {
        table::write(&report, &mut std::io::stderr().lock())?;
    } else {
        table::write(&report, &mut std::io::stdout().lock())?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        if json_to_stdout {
            writeln!(std::io::stdout().lock(), "{json}")?;
        } else {
            std::fs::write(path, json + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("corun bench: wrote {}", path.display());
        }
    }
    if let Some(path) = &args.html {
        std::fs::write(path, html::page(&report))
            .with_context(|| format!("--html: writing {}", path.display()))?;
        eprintln!("corun bench: wrote {}", path.display());
    }
    if args.check {
        check(&report)?;
    }
    Ok(())
}

/// `--check`: an error naming every bar missed outside the noise.
fn check(report: &Report) -> anyhow::Result<()> {
    let missed: Vec<String> = report
        .missed()
        .map(|r| format!("{}: {}", r.experiment, r.comparison()))
        .collect();
    anyhow::ensure!(
        missed.is_empty(),
        "--check: {} bar(s) missed outside the noise: {}",
        missed.len(),
        missed.join("; ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::Figure;

    #[test]
    fn check_fails_only_on_a_miss_outside_the_noise() {
        let mut report = Report::new(Plan {
            runs: 1,
            quick: true,
            python: false,
        });
        let spread = |v: &[f64]| Figure::from_samples(v.to_vec());
        report
            .rows
            .push(Row::compare("sync", "Lock", "Mutex", 1.0, 1.0, Some(1.1)));
        report.rows.push(Row::target(
            "spawn",
            "Pool",
            spread(&[4.0, 6.0]),
            5.0,
            "5 ms",
        ));
        assert!(check(&report).is_ok(), "met and within noise pass");
        report.rows.push(Row::target(
            "spawn",
            "Pool ready",
            spread(&[6.0, 7.0]),
            5.0,
            "5 ms",
        ));
        report.rows.push(Row::compare(
            "queue",
            "Queue",
            "crossbeam",
            3.0,
            1.0,
            Some(1.5),
        ));
        let err = check(&report).unwrap_err().to_string();
        assert_eq!(
            err,
            "--check: 2 bar(s) missed outside the noise: spawn: Pool ready; queue: Queue vs crossbeam"
        );
    }
}
