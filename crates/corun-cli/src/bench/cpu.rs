//! The `cpu` experiment, the seeds' CPU-bound workload: the sum of squares
//! of `0..n` for the 20 numbers `n = 5_000_000 + k`, sequentially, on
//! corun's `ThreadPoolExecutor` and `ProcessPoolExecutor`, as tasks on
//! the `corun::asyncio` loop, and on the GPU through `corun::gpu`'s
//! `Compute` when an OpenCL device exists (PoCL on a machine without a
//! GPU); beside rayon, the best Rust peer, and Python (a
//! `multiprocessing.Pool` and a `ThreadPoolExecutor`). Every mode must
//! produce the same 20 sums. Then one recorded run of each mode gives the
//! timing diagrams and the CPU time behind the verdict.
//!
//! With `--cluster URL`, the sums run on a `corun::cluster::ClusterExecutor`
//! too, on whatever workers of this binary serve URL: a mode timed with
//! the others and in the verdict, with no timing diagram (its tasks run in
//! other processes, maybe on other machines, that this run does not
//! record).

use std::time::Duration;

use anyhow::Context;
use corun::cluster::ClusterExecutor;
use corun::concurrent::{Executor, Submit, ThreadPoolExecutor};
use corun::gpu::{Builtins, Compute, DeviceKind, GpuExecutor};
use corun::multiprocessing::ProcessPoolExecutor;
use corun::trace::{Outcome, Recorder};
use rayon::prelude::*;

use super::Plan;
use super::measure::{Contender, Figure, per_run_ms};
use super::progress;
use super::python::run_script;
use super::report::Row;
use super::workloads::{Bound, Mode, Model, Origin, Recorded, Workload};
use crate::workload::{numbers, sum_of_squares};

const EXPERIMENT: &str = "cpu";
/// BENCHMARKS.md: threads ≥ 1.9× sequential, so time ≤ 1/1.9 of it.
const BAR_VS_SEQUENTIAL: f64 = 1.0 / 1.9;
/// BENCHMARKS.md: processes ≥ 1.85× sequential.
const PROCESSES_VS_SEQUENTIAL: f64 = 1.0 / 1.85;
/// BENCHMARKS.md: within 5% of rayon.
const BAR_VS_RAYON: f64 = 1.05;
const PYTHON_SCRIPT: &str = include_str!("../../python/cpu_bench.py");
/// One repetition of all the Rust modes takes ~0.5 s, and this VM drifts
/// between a fast and a ~15% slower phase for stretches of that length, so
/// five samples leave the median at the mercy of one phase change: the cpu
/// experiment takes three times the asked repetitions.
const REPETITIONS_PER_RUN: usize = 3;
/// How long a task on the cluster may go unanswered: should its workers
/// go away it would wait forever. Three acknowledgement waits (30 s by
/// default): a task whose worker died runs again elsewhere within that.
const CLUSTER_DEADLINE: Duration = Duration::from_secs(90);
/// How long `--cluster URL` waits for a live worker of this binary.
const WORKER_WAIT: Duration = Duration::from_secs(5);

/// The cluster of `--cluster URL`: connected, and a worker of this binary
/// is alive there.
pub(crate) struct Cluster {
    url: String,
    executor: ClusterExecutor,
}

impl Cluster {
    /// Connects to `url`, waiting at most [`WORKER_WAIT`] for a live
    /// worker of this binary: an error when the server cannot be reached
    /// or no such worker serves it.
    pub(crate) fn connect(url: &str) -> anyhow::Result<Self> {
        let executor = ClusterExecutor::builder(url)
            .wait_for_worker(WORKER_WAIT)
            .build()
            .with_context(|| format!("--cluster {url}"))?;
        Ok(Self {
            url: url.to_owned(),
            executor,
        })
    }

    /// The mode's name in the table.
    fn name(&self) -> String {
        format!("ClusterExecutor ({})", self.url)
    }

    /// The workload's sums, each task waited for at most
    /// [`CLUSTER_DEADLINE`].
    fn sums(&self, numbers: &[u64]) -> anyhow::Result<Vec<u128>> {
        let url = &self.url;
        let tasks = numbers
            .iter()
            .map(|&n| (self.executor).submit(sum_of_squares as fn(u64) -> u128, n))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("--cluster {url}: submitting the sums"))?;
        tasks
            .into_iter()
            .map(|mut task| match task.result_timeout(CLUSTER_DEADLINE) {
                Ok(sum) => Ok(sum),
                Err(e) if e.is_timeout() => Err(self.unanswered()),
                Err(e) => Err(anyhow::anyhow!("--cluster {url}: a sum failed: {e}")),
            })
            .collect()
    }

    /// The error for a task unanswered past the deadline.
    fn unanswered(&self) -> anyhow::Error {
        let url = &self.url;
        anyhow::anyhow!(
            "--cluster {url}: no worker of this binary serves {url}: a task got no answer \
             within {} s (start one with `corun cluster worker {url}`; a worker serves only \
             the tasks of its own build of corun)",
            CLUSTER_DEADLINE.as_secs()
        )
    }
}

pub(crate) fn run(plan: &Plan, cluster: Option<&Cluster>) -> anyhow::Result<(Vec<Row>, Workload)> {
    let base = plan.size(5_000_000, 200_000) as u64;
    let numbers = numbers(base);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // What each mode computed in its last run, checked after timing.
    let (mut sequential, mut pooled, mut parallel) = (Vec::new(), Vec::new(), Vec::new());
    let (mut processed, mut looped, mut on_gpu) = (Vec::new(), Vec::new(), Vec::new());
    // The cluster's sums; its first failure stops its runs and fails the
    // bench once the timing is over.
    let (mut on_cluster, mut cluster_failed) = (Vec::new(), None);
    // The pools live across runs, as rayon's global pool does: a pool
    // started per run costs ~5 ms more here, rayon's as much as corun's,
    // while the OS settles its new threads onto the cores.
    let pool = ThreadPoolExecutor::builder()
        .max_workers(cpus)
        .build()
        .context("building the pool")?;
    let processes = ProcessPoolExecutor::builder()
        .max_workers(cpus)
        .build()
        .context("starting the process pool")?;
    let runner = corun::asyncio::Runner::new().context("making the event loop")?;
    // The GPU mode runs where an OpenCL device exists; a device that is
    // there but cannot be used is an error worth a note, not a failure.
    let (compute, no_gpu) = match Compute::new() {
        Ok(compute) if compute.device().is_some() => (Some(compute), None),
        Ok(_) => (None, Some("no OpenCL device: no GPU mode".to_owned())),
        Err(why) => (
            None,
            Some(format!(
                "the OpenCL device could not be used ({why}): no GPU mode"
            )),
        ),
    };
    let mut contenders = vec![
        Contender::timed("sequential", |_| {
            sequential = numbers.iter().map(|&n| sum_of_squares(n)).collect();
        }),
        Contender::timed("ThreadPoolExecutor", |_| {
            pooled = pool
                .map(sum_of_squares, numbers.iter().copied())
                .collect::<Result<Vec<_>, _>>()
                .expect("no task fails");
        }),
        Contender::timed("rayon par_iter", |_| {
            parallel = numbers.par_iter().map(|&n| sum_of_squares(n)).collect();
        }),
        Contender::timed("ProcessPoolExecutor", |_| {
            processed = processes
                .map(sum_of_squares as fn(u64) -> u128, numbers.iter().copied())
                .collect::<Result<Vec<_>, _>>()
                .expect("no task fails");
        }),
        Contender::timed("asyncio", |_| {
            let sums = numbers.clone();
            looped = runner
                .run(async move {
                    // Python's `await asyncio.gather(*(f(n) for n in numbers))`
                    // with a coroutine that computes and never awaits.
                    corun::asyncio::gather(
                        sums.into_iter().map(|n| async move { sum_of_squares(n) }),
                    )
                    .await
                })
                .expect("the loop runs")
                .expect("no task fails");
        }),
    ];
    if let Some(compute) = &compute {
        contenders.push(Contender::timed("gpu", |_| {
            let tasks: Vec<_> = numbers
                .iter()
                .map(|&n| compute.sum_of_squares(n).expect("n is below 2^32"))
                .collect();
            on_gpu = tasks
                .into_iter()
                .map(|task| task.result().expect("no launch fails"))
                .collect();
        }));
    }
    let mut cluster_at = None;
    if let Some(cluster) = cluster {
        contenders.push(Contender::timed("ClusterExecutor", |_| {
            if cluster_failed.is_none() {
                match cluster.sums(&numbers) {
                    Ok(sums) => on_cluster = sums,
                    Err(e) => cluster_failed = Some(e),
                }
            }
        }));
        cluster_at = Some(contenders.len() - 1);
    }
    let t = per_run_ms(plan.runs * REPETITIONS_PER_RUN, &mut contenders);
    drop(contenders);
    drop(runner);
    if let Some(e) = cluster_failed {
        return Err(e);
    }
    let expected = sequential;
    for (mode, results) in [
        ("ThreadPoolExecutor", &pooled),
        ("rayon par_iter", &parallel),
        ("ProcessPoolExecutor", &processed),
        ("asyncio", &looped),
    ] {
        check(mode, &expected, results)?;
    }
    if compute.is_some() {
        check("gpu", &expected, &on_gpu)?;
    }
    if cluster.is_some() {
        check("ClusterExecutor", &expected, &on_cluster)?;
    }
    drop(processes);

    let threads = format!("ThreadPoolExecutor({cpus})");
    let in_processes = format!("ProcessPoolExecutor({cpus})");
    // The device's kind goes in the name: an OpenCL CPU device (PoCL)
    // is no GPU, and the verdict must not read as if it were.
    let gpu_name = compute
        .as_ref()
        .and_then(Compute::device)
        .map(|d| match d.kind() {
            DeviceKind::Gpu => "corun::gpu".to_owned(),
            DeviceKind::Cpu => "corun::gpu (OpenCL CPU)".to_owned(),
            _ => "corun::gpu (accelerator)".to_owned(),
        });
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            &threads,
            "sequential",
            &t[1],
            &t[0],
            Some(BAR_VS_SEQUENTIAL),
        ),
        Row::compare(
            EXPERIMENT,
            &threads,
            "rayon par_iter",
            &t[1],
            &t[2],
            Some(BAR_VS_RAYON),
        ),
        Row::compare(
            EXPERIMENT,
            &in_processes,
            "sequential",
            &t[3],
            &t[0],
            Some(PROCESSES_VS_SEQUENTIAL),
        ),
        Row::compare(
            EXPERIMENT,
            "asyncio (one loop)",
            "sequential",
            &t[4],
            &t[0],
            None,
        ),
        Row::compare(
            EXPERIMENT,
            "rayon par_iter",
            "sequential",
            &t[2],
            &t[0],
            None,
        ),
    ];
    if let (Some(name), Some(compute)) = (&gpu_name, &compute) {
        rows.push(
            Row::compare(EXPERIMENT, name, "sequential", &t[5], &t[0], None)
                .note(format!("on {}", compute.name())),
        );
    }
    if let Some(why) = &no_gpu {
        rows.push(Row::figure(EXPERIMENT, "gpu (corun::gpu)", &t[0]).note(why.clone()));
    }
    let clustered = cluster.zip(cluster_at).map(|(c, at)| (c.name(), &t[at]));
    if let Some((name, time)) = &clustered {
        rows.push(
            Row::compare(EXPERIMENT, name, "sequential", *time, &t[0], None)
                .note("on the workers of this binary that serve the URL"),
        );
        rows.push(Row::compare(
            EXPERIMENT,
            name,
            &in_processes,
            *time,
            &t[3],
            None,
        ));
    }

    let mut modes = vec![
        Mode::new("sequential", Model::Sequential, Origin::Corun, 1, &t[0]),
        Mode::new(&threads, Model::Threads, Origin::Corun, cpus, &t[1]),
        Mode::new(&in_processes, Model::Processes, Origin::Corun, cpus, &t[3]),
        Mode::new("asyncio tasks", Model::Asyncio, Origin::Corun, 1, &t[4]),
    ];
    if let Some(name) = &gpu_name {
        modes.push(Mode::new(name, Model::Gpu, Origin::Corun, 1, &t[5]));
    }
    if let Some((name, time)) = clustered {
        // How many workers serve the URL is not known here: 0.
        modes.push(Mode::new(name, Model::Cluster, Origin::Corun, 0, time));
    }
    modes.push(Mode::new(
        "rayon par_iter",
        Model::Threads,
        Origin::Rust,
        cpus,
        &t[2],
    ));

    if plan.python {
        // Pure Python takes ~1 s per number at full size: one run is enough.
        let py_runs = if plan.quick { plan.runs } else { 1 };
        progress::step(format!(
            "Python Pool and ThreadPoolExecutor ({py_runs} run(s))"
        ));
        let mut args = vec![py_runs.to_string()];
        args.extend(numbers.iter().map(u64::to_string));
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let workers = json["workers"].as_u64().unwrap_or(0) as usize;
                for (mode, ours, time, peer, model) in [
                    (
                        "pool",
                        &in_processes,
                        &t[3],
                        format!("Python Pool({workers}).map"),
                        Model::Processes,
                    ),
                    (
                        "threads",
                        &threads,
                        &t[1],
                        format!("Python ThreadPoolExecutor({workers})"),
                        Model::Threads,
                    ),
                ] {
                    check(&peer, &expected, &python_results(&json, mode)?)?;
                    let seconds = json["seconds"][mode].as_f64().with_context(|| {
                        format!("python peer gave no seconds for {mode}: {json}")
                    })?;
                    let peer_ms = Figure::once(seconds * 1e3);
                    rows.push(
                        Row::compare(EXPERIMENT, ours, &peer, time, &peer_ms, None)
                            .note(format!("Python: {py_runs} run(s), pool start included")),
                    );
                    modes.push(Mode::new(peer, model, Origin::Python, workers, peer_ms));
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                &threads,
                "Python Pool / ThreadPoolExecutor",
                &t[1],
                why,
            )),
        }
    }

    // One recorded run of each mode, in the order of the table.
    progress::step("recording one run of each mode");
    let mut recorded = record(&numbers, cpus, compute.is_some())?;
    for mode in &mut modes {
        let key = match mode.origin {
            Origin::Corun => mode.model.word(),
            Origin::Rust => "rayon",
            Origin::Python => continue,
        };
        if let Some(i) = recorded.iter().position(|(k, _)| *k == key) {
            mode.recorded = Some(recorded.swap_remove(i).1);
        }
    }
    let about = format!(
        "sum of squares of 0..n for the 20 numbers n = {base} … {}{}",
        numbers[numbers.len() - 1],
        no_gpu.map(|why| format!(" ({why})")).unwrap_or_default()
    );
    let workload = Workload {
        experiment: EXPERIMENT,
        bound: Bound::Cpu,
        about,
        modes,
    };
    Ok((
        rows.into_iter().map(|r| r.unit("ms/run")).collect(),
        workload,
    ))
}

/// One run of each mode with a recorder on, keyed by the model's word
/// ("rayon" for the peer): the timing diagrams and the CPU time.
fn record(
    numbers: &[u64],
    workers: usize,
    gpu: bool,
) -> anyhow::Result<Vec<(&'static str, Recorded)>> {
    let title = |mode: &str| format!("cpu: {mode} — {} sums of squares", numbers.len());
    let mut runs = Vec::new();

    let sequential = Recorded::run("cpu-sequential", title("sequential"), |rec| {
        for &n in numbers {
            let id = rec.submitted(format!("n={n}"));
            rec.started_on(id, "main");
            std::hint::black_box(sum_of_squares(n));
            rec.finished(id, Outcome::Ok);
        }
        anyhow::Ok(())
    })?;
    runs.push(("sequential", sequential.0));

    let name = format!("ThreadPoolExecutor({workers})");
    let threads = Recorded::run("cpu-threads", title(&name), |rec| {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(workers)
            .thread_name_prefix("worker")
            .recorder(rec.clone())
            .build()?;
        for result in pool.map(sum_of_squares, numbers.iter().copied()) {
            result?;
        }
        anyhow::Ok(())
    })?;
    runs.push(("threads", threads.0));

    // The pool is started and stopped inside the run, so its workers'
    // CPU time is counted (the kernel adds a child's when it is reaped).
    let name = format!("ProcessPoolExecutor({workers})");
    let processes = Recorded::run("cpu-processes", title(&name), |rec| {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(workers)
            .recorder(rec.clone())
            .build()?;
        let sums = sum_of_squares as fn(u64) -> u128;
        for result in pool.map(sums, numbers.iter().copied()) {
            result?;
        }
        pool.shutdown(true, false);
        anyhow::Ok(())
    })?;
    runs.push(("processes", processes.0));

    let looped = Recorded::run("cpu-asyncio", title("asyncio tasks on one loop"), |rec| {
        let runner = corun::asyncio::Runner::new()?;
        runner.get_loop().set_recorder(rec.clone());
        let sums = numbers.to_vec();
        runner.run(async move {
            corun::asyncio::gather(sums.into_iter().map(|n| async move { sum_of_squares(n) })).await
        })??;
        anyhow::Ok(())
    })?;
    runs.push(("asyncio", looped.0));

    if gpu {
        // The device's start and the kernels' build are not counted: the
        // timed runs reuse one `Compute` too.
        let recorder = Recorder::new();
        let gpu = GpuExecutor::builder().recorder(recorder.clone()).build()?;
        let builtins = Builtins::new(gpu)?;
        let on_gpu = Recorded::measure("cpu-gpu", title("corun::gpu"), recorder, |_| {
            let tasks = numbers
                .iter()
                .map(|&n| builtins.sum_of_squares(n))
                .collect::<Result<Vec<_>, _>>()?;
            for task in tasks {
                task.result()?;
            }
            anyhow::Ok(())
        })?;
        runs.push(("GPU", on_gpu.0));
    }

    let stealing = Recorded::run("cpu-rayon", title("rayon par_iter"), |rec| {
        let ids: Vec<_> = numbers
            .iter()
            .map(|&n| (rec.submitted(format!("n={n}")), n))
            .collect();
        ids.par_iter().for_each(|&(id, n)| {
            rec.started(id);
            std::hint::black_box(sum_of_squares(n));
            rec.finished(id, Outcome::Ok);
        });
        anyhow::Ok(())
    })?;
    runs.push(("rayon", stealing.0));
    Ok(runs)
}

/// Fails the bench if `mode` computed other sums than the sequential run.
fn check(mode: &str, expected: &[u128], results: &[u128]) -> anyhow::Result<()> {
    anyhow::ensure!(
        results == expected,
        "cpu: {mode} computed other sums than the sequential run: {}",
        first_difference(expected, results)
    );
    Ok(())
}

/// Python's results for `mode`, as decimal strings parsed to `u128`.
fn python_results(json: &serde_json::Value, mode: &str) -> anyhow::Result<Vec<u128>> {
    json["results"][mode]
        .as_array()
        .with_context(|| format!("python peer gave no results for {mode}: {json}"))?
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(|s| s.parse::<u128>().ok())
                .with_context(|| format!("python {mode} result is not a decimal integer: {v}"))
        })
        .collect()
}

/// Where two result lists first differ, for the error message.
fn first_difference(expected: &[u128], got: &[u128]) -> String {
    if expected.len() != got.len() {
        return format!("{} results instead of {}", got.len(), expected.len());
    }
    match expected.iter().zip(got).position(|(e, g)| e != g) {
        Some(i) => format!("#{i}: expected {}, got {}", expected[i], got[i]),
        None => "no difference".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_results_parse_as_u128() {
        let json = serde_json::json!({
            "results": {"pool": ["41666654166667500000", "1"]}
        });
        assert_eq!(
            python_results(&json, "pool").unwrap(),
            [41_666_654_166_667_500_000_u128, 1]
        );
        assert!(python_results(&json, "threads").is_err());
        let bad = serde_json::json!({"results": {"pool": [5]}});
        assert!(python_results(&bad, "pool").is_err());
    }

    #[test]
    fn check_fails_on_a_wrong_sum() {
        assert!(check("m", &[1, 2], &[1, 2]).is_ok());
        let err = check("Python Pool", &[1, 2], &[1, 3])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Python Pool") && err.contains("#1"), "{err}");
    }

    #[test]
    fn differences_are_located() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 3]), "no difference");
        assert_eq!(
            first_difference(&[1, 2, 3], &[1, 5, 3]),
            "#1: expected 2, got 5"
        );
        assert_eq!(first_difference(&[1, 2], &[1]), "1 results instead of 2");
    }

    #[test]
    fn bar_is_the_inverse_speedup() {
        assert!((BAR_VS_SEQUENTIAL - 0.526).abs() < 1e-3);
    }
}
