//! The process-pool experiments: `overhead-processes` (no-op tasks through
//! a 2-worker pool, one at a time and pipelined), `map-processes` (a
//! chunked `Pool.map` of trivial items), `spawn` (a pool of 2 ready and one
//! task done) and `crash` (a pool whose workers keep aborting) — each
//! against Python's `ProcessPoolExecutor` / `multiprocessing.Pool` run in
//! the same invocation.

use std::time::{Duration, Instant};

use anyhow::Context;
use corun::concurrent::{Executor, Submit};
use corun::multiprocessing::{Pool, ProcessPoolExecutor};

use super::Plan;
use super::measure::{Contender, Figure, median, per_op};
use super::progress;
use super::python::run_script;
use super::report::Row;
use crate::workload::{abort_every_tenth, inc, noop};

pub(crate) const PYTHON_SCRIPT: &str = include_str!("../../python/process_bench.py");
/// BENCHMARKS.md: workers in the process experiments.
const WORKERS: usize = 2;
/// BENCHMARKS.md bars.
const UNPIPELINED_US: f64 = 20.0;
const PIPELINED_US: f64 = 5.0;
const MAP_US_PER_ITEM: f64 = 0.05;
const SPAWN_MS: f64 = 5.0;
const CRASH_MS: f64 = 50.0;

/// `overhead-processes`: the cost of a no-op task.
pub(crate) fn overhead(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "overhead-processes";
    let n = plan.size(20_000, 2_000);
    let pool = ProcessPoolExecutor::builder()
        .max_workers(WORKERS)
        .build()
        .context("starting the process pool")?;
    let mut contenders = [
        Contender::timed("one at a time", |n| {
            for i in 0..n as u64 {
                let task = pool.submit(noop, i).expect("the pool is open");
                assert_eq!(task.result().expect("a no-op succeeds"), i);
            }
        }),
        Contender::timed("pipelined", |n| {
            let tasks: Vec<_> = (0..n as u64)
                .map(|i| pool.submit(noop, i).expect("the pool is open"))
                .collect();
            for (i, task) in (0..).zip(tasks) {
                assert_eq!(task.result().expect("a no-op succeeds"), i);
            }
        }),
    ];
    let t: Vec<Figure> = per_op(n, plan.runs, &mut contenders)
        .into_iter()
        .map(|ns| ns / 1e3)
        .collect();
    drop(contenders);
    pool.shutdown(true, false);
    let unpipelined = format!("ProcessPoolExecutor({WORKERS}) submit → result");
    let pipelined = format!("ProcessPoolExecutor({WORKERS}) submit all, then collect");
    let mut rows = vec![
        Row::target(
            EXPERIMENT,
            &unpipelined,
            &t[0],
            UNPIPELINED_US,
            "20 µs per task",
        ),
        Row::target(EXPERIMENT, &pipelined, &t[1], PIPELINED_US, "5 µs per task"),
    ];
    if plan.python {
        let py_n = plan.size(20_000, 2_000);
        progress::step(format!("Python process pools ({py_n} tasks)"));
        let args = [
            "overhead".to_owned(),
            py_n.to_string(),
            plan.runs.to_string(),
        ];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                for (key, peer) in [
                    ("ppe_us_per_task", "ProcessPoolExecutor(2).submit"),
                    ("apply_async_us_per_task", "Pool(2).apply_async"),
                ] {
                    let py = number(&json, key)?;
                    rows.push(
                        Row::compare(
                            EXPERIMENT,
                            &pipelined,
                            format!("Python {version} {peer}"),
                            &t[1],
                            py,
                            None,
                        )
                        .note(format!("{py_n} tasks, submitted all then collected")),
                    );
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                &pipelined,
                "Python process pools",
                &t[1],
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("µs/task")).collect())
}

/// `map-processes`: `Pool.map` of trivial items with automatic chunks.
pub(crate) fn map(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "map-processes";
    let n = plan.size(2_000_000, 200_000);
    let pool = Pool::builder()
        .processes(WORKERS)
        .build()
        .context("starting the pool")?;
    let mut contenders = [Contender::timed("Pool.map", |n| {
        let results = pool.map(inc, 0..n as u64).expect("the map succeeds");
        assert_eq!(results.len(), n);
        assert!(
            results.iter().zip(1..).all(|(&r, i)| r == i),
            "wrong results"
        );
    })];
    let t = per_op(n, plan.runs, &mut contenders).remove(0) / 1e3;
    drop(contenders);
    let corun = format!("Pool({WORKERS}).map");
    let mut rows = vec![
        Row::target(EXPERIMENT, &corun, &t, MAP_US_PER_ITEM, "0.05 µs per item")
            .note(format!("{n} items")),
    ];
    if plan.python {
        progress::step(format!("Python Pool.map ({n} items)"));
        let args = ["map".to_owned(), n.to_string(), plan.runs.to_string()];
        rows.push(match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => Row::compare(
                EXPERIMENT,
                &corun,
                format!(
                    "Python {} Pool(2).map",
                    json["python"].as_str().unwrap_or("?")
                ),
                t,
                number(&json, "us_per_item")?,
                None,
            )
            .note(format!("{n} items")),
            Err(why) => Row::peer_missing(EXPERIMENT, &corun, "Python Pool.map", t, why),
        });
    }
    Ok(rows.into_iter().map(|r| r.unit("µs/item")).collect())
}

/// `spawn`: from nothing to a pool of 2 ready and one task done.
pub(crate) fn spawn(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "spawn";
    let runs = plan.size(plan.runs.max(5), plan.runs);
    let mut samples = Vec::with_capacity(runs);
    for run in 0..=runs {
        progress::step(format!("Pool({WORKERS}) start ({run}/{runs})"));
        let start = Instant::now();
        let pool = Pool::builder().processes(WORKERS).build()?;
        anyhow::ensure!(pool.apply(noop, 7)? == 7, "the first task failed");
        let elapsed = start.elapsed();
        drop(pool);
        if run > 0 {
            samples.push(elapsed.as_secs_f64() * 1e3); // run 0 warms the page cache
        }
    }
    let t = median(samples);
    let corun = format!("Pool({WORKERS}) ready + one task");
    let mut rows = vec![Row::target(EXPERIMENT, &corun, t, SPAWN_MS, "5 ms")];
    if plan.python {
        progress::step("Python pool start (fork, forkserver, spawn)");
        let args = ["spawn".to_owned(), "1".to_owned(), runs.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                for method in ["fork", "forkserver", "spawn"] {
                    let key = format!("{method}_ms");
                    if let Some(py) = json[&key].as_f64() {
                        rows.push(Row::compare(
                            EXPERIMENT,
                            &corun,
                            format!("Python {version} Pool(2), start method {method}"),
                            t,
                            py,
                            None,
                        ));
                    }
                }
            }
            Err(why) => rows.push(Row::peer_missing(EXPERIMENT, &corun, "Python Pool", t, why)),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ms")).collect())
}

/// `crash`: tasks of which every tenth aborts its worker.
pub(crate) fn crash(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    const EXPERIMENT: &str = "crash";
    let n = plan.size(1_000, 100) as u64;
    let crashes = n / 10;
    let fds_before = open_fds()?;
    progress::step(format!("Pool({WORKERS}): {n} tasks, {crashes} abort"));
    let start = Instant::now();
    let pool = Pool::builder().processes(WORKERS).build()?;
    let tasks: Vec<_> = (0..n)
        .map(|i| pool.apply_async(abort_every_tenth, i))
        .collect::<Result<_, _>>()?;
    let (mut good, mut failed) = (0, 0);
    for (i, task) in (0..).zip(tasks) {
        match task.result() {
            Ok(value) if i % 10 != 9 && value == i => good += 1,
            Err(e) if i % 10 == 9 && e.is_worker_died() && e.to_string().contains("SIGABRT") => {
                failed += 1;
            }
            other => anyhow::bail!("crash: task {i} ended wrongly: {other:?}"),
        }
    }
    pool.close();
    pool.join()?;
    drop(pool);
    let elapsed = start.elapsed();
    let leaked_fds = open_fds()?.saturating_sub(fds_before);
    let children = child_processes()?;
    anyhow::ensure!(
        leaked_fds == 0 && children.is_empty(),
        "crash: the pool left {leaked_fds} fd(s) and processes {children:?} behind"
    );
    let per_crash = elapsed.as_secs_f64() * 1e3 / crashes as f64;
    let corun = format!("Pool({WORKERS}), {crashes} of {n} tasks abort");
    let summary = format!(
        "{good}/{} good tasks ok, {failed}/{crashes} failed as worker died (SIGABRT); no fd or process left",
        n - crashes
    );
    let mut rows =
        vec![Row::target(EXPERIMENT, &corun, per_crash, CRASH_MS, "50 ms per crash").note(summary)];
    if plan.python {
        progress::step("Python ProcessPoolExecutor and Pool with aborting workers");
        let args = ["crash".to_owned(), n.to_string(), "1".to_owned()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                let count = |key: &str| json[key].as_f64().unwrap_or(0.0).round() as u64;
                rows.push(
                    Row::compare(
                        EXPERIMENT,
                        &corun,
                        format!("Python {version} ProcessPoolExecutor(2)"),
                        per_crash,
                        number(&json, "ppe_ms")? / crashes as f64,
                        None,
                    )
                    .note(format!(
                        "broke at the first abort: {} of {} good tasks failed",
                        count("ppe_good_failed"),
                        n - crashes
                    )),
                );
                rows.push(
                    Row::compare(
                        EXPERIMENT,
                        &corun,
                        format!("Python {version} Pool(2)"),
                        per_crash,
                        number(&json, "pool_ms")? / crashes as f64,
                        None,
                    )
                    .note(format!(
                        "{} tasks never returned (hung until the {} ms deadline, then terminate)",
                        count("pool_hung"),
                        count("pool_budget_ms")
                    )),
                );
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                &corun,
                "Python process pools",
                per_crash,
                why,
            )),
        }
    }
    Ok(rows.into_iter().map(|r| r.unit("ms/crash")).collect())
}

/// A number the Python peer printed.
pub(crate) fn number(json: &serde_json::Value, key: &str) -> anyhow::Result<f64> {
    json[key]
        .as_f64()
        .with_context(|| format!("python peer gave no {key}: {json}"))
}

/// How many file descriptors this process has open.
fn open_fds() -> anyhow::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")
        .context("listing /proc/self/fd")?
        .count())
}

/// The pids of this process's children, waiting up to a second for
/// reaped ones to vanish from `/proc`.
fn child_processes() -> anyhow::Result<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let mut children = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").context("listing /proc/self/task")? {
            let path = task?.path().join("children");
            children.extend(
                std::fs::read_to_string(path)
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned),
            );
        }
        if children.is_empty() || Instant::now() > deadline {
            return Ok(children);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
