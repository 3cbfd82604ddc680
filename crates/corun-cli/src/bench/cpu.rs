//! The `cpu` experiment: the sum of squares of `0..n` for the 20 numbers
//! `n = 5_000_000 + k`, sequentially, on corun's `ThreadPoolExecutor` and
//! `ProcessPoolExecutor`, on rayon, and in Python (a `multiprocessing.Pool`
//! and a `ThreadPoolExecutor`), and on the GPU through `corun::gpu`'s
//! `Compute` (the default OpenCL device — PoCL on a machine without a GPU
//! — or, with none, its CPU fallback, named in the row). Every mode must
//! produce the same 20 sums.

use std::path::Path;

use anyhow::Context;
use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::gpu::Compute;
use corun::multiprocessing::ProcessPoolExecutor;
use rayon::prelude::*;

use super::Plan;
use super::measure::{Contender, per_run_ms};
use super::progress;
use super::python::run_script;
use super::report::Row;
use crate::workload::{numbers, sum_of_squares};

const EXPERIMENT: &str = "cpu";
/// BENCHMARKS.md: threads ≥ 1.9× sequential, so time ≤ 1/1.9 of it.
const BAR_VS_SEQUENTIAL: f64 = 1.0 / 1.9;
/// BENCHMARKS.md: processes ≥ 1.85× sequential.
const PROCESSES_VS_SEQUENTIAL: f64 = 1.0 / 1.85;
/// BENCHMARKS.md: within 5% of rayon.
const BAR_VS_RAYON: f64 = 1.05;
const PYTHON_SCRIPT: &str = include_str!("../../python/cpu_bench.py");
/// One repetition of all four Rust modes takes ~0.3 s, and this VM drifts
/// between a fast and a ~15% slower phase for stretches of that length, so
/// five samples leave the median at the mercy of one phase change: the cpu
/// experiment takes three times the asked repetitions.
const REPETITIONS_PER_RUN: usize = 3;

pub(crate) fn run(plan: &Plan, timeline: Option<&Path>) -> anyhow::Result<Vec<Row>> {
    let numbers = numbers(plan.size(5_000_000, 200_000) as u64);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // What each mode computed in its last run, checked after timing.
    let (mut sequential, mut pooled, mut parallel) = (Vec::new(), Vec::new(), Vec::new());
    let (mut processed, mut on_gpu) = (Vec::new(), Vec::new());
    // Both pools live across runs, as rayon's global pool does: a pool
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
    // A device that is there but cannot be used: the fallback, and why.
    let (compute, unusable) = match Compute::new() {
        Ok(compute) => (compute, None),
        Err(why) => (Compute::cpu(), Some(why)),
    };
    let mut contenders = [
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
        Contender::timed("gpu", |_| {
            let tasks: Vec<_> = numbers
                .iter()
                .map(|&n| compute.sum_of_squares(n).expect("n is below 2^32"))
                .collect();
            on_gpu = tasks
                .into_iter()
                .map(|task| task.result().expect("no launch fails"))
                .collect();
        }),
    ];
    let t = per_run_ms(plan.runs * REPETITIONS_PER_RUN, &mut contenders);
    drop(contenders);
    if let Some(dir) = timeline {
        super::timeline::write_cpu(dir, &numbers, cpus)?;
    }
    let expected = sequential;
    for (mode, results) in [
        ("ThreadPoolExecutor", &pooled),
        ("rayon par_iter", &parallel),
        ("ProcessPoolExecutor", &processed),
        ("gpu", &on_gpu),
    ] {
        check(mode, &expected, results)?;
    }
    let threads = format!("ThreadPoolExecutor({cpus})");
    let speedup = |peer: f64, own: f64| format!("{:.2}× faster", peer / own);
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            &threads,
            "sequential",
            t[1],
            t[0],
            Some(BAR_VS_SEQUENTIAL),
        )
        .note(format!("{}; bar: ≥ 1.9×", speedup(t[0], t[1]))),
        Row::compare(
            EXPERIMENT,
            &threads,
            "rayon par_iter",
            t[1],
            t[2],
            Some(BAR_VS_RAYON),
        ),
        Row::compare(EXPERIMENT, "rayon par_iter", "sequential", t[2], t[0], None)
            .note(speedup(t[0], t[2])),
        Row::compare(
            EXPERIMENT,
            format!("ProcessPoolExecutor({cpus})"),
            "sequential",
            t[3],
            t[0],
            Some(PROCESSES_VS_SEQUENTIAL),
        )
        .note(format!("{}; bar: ≥ 1.85×", speedup(t[0], t[3]))),
        Row::compare(
            EXPERIMENT,
            "gpu (corun::gpu)",
            "sequential",
            t[4],
            t[0],
            None,
        )
        .note(match (compute.device(), unusable) {
            (Some(_), _) => format!("{} on {}", speedup(t[0], t[4]), compute.name()),
            (None, None) => format!(
                "{}; no OpenCL device: {}",
                speedup(t[0], t[4]),
                compute.name()
            ),
            (None, Some(why)) => format!(
                "{}; the OpenCL device could not be used ({why}): {}",
                speedup(t[0], t[4]),
                compute.name()
            ),
        }),
    ];
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
                let version = json["python"].as_str().unwrap_or("?");
                let workers = json["workers"].as_u64().unwrap_or(0);
                let processes = format!("ProcessPoolExecutor({cpus})");
                for (mode, ours, time, peer) in [
                    (
                        "pool",
                        &processes,
                        t[3],
                        format!("Python {version} Pool({workers}).map"),
                    ),
                    (
                        "threads",
                        &threads,
                        t[1],
                        format!("Python {version} ThreadPoolExecutor({workers})"),
                    ),
                ] {
                    check(&peer, &expected, &python_results(&json, mode)?)?;
                    let seconds = json["seconds"][mode].as_f64().with_context(|| {
                        format!("python peer gave no seconds for {mode}: {json}")
                    })?;
                    rows.push(
                        Row::compare(EXPERIMENT, ours, peer, time, seconds * 1e3, None).note(
                            format!(
                                "{}; {py_runs} Python run(s), pool start included",
                                speedup(seconds * 1e3, time)
                            ),
                        ),
                    );
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                &threads,
                "Python Pool / ThreadPoolExecutor",
                t[1],
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ms/run")).collect())
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
