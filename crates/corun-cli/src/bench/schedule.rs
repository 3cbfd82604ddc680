//! The `schedule` experiment: how corun's pools schedule awkward work, on
//! as many workers as cores (at least 2), against rayon's work stealing and
//! Python's pools in the same run. Four parts:
//!
//! 1. **heavy-tail**: 200 CPU tasks whose sizes follow a seeded,
//!    heavy-tailed distribution (Pareto, α = 1.2, capped at 100× the
//!    smallest; ~0.65 s of work in all), through every way corun offers of running a list:
//!    `ThreadPoolExecutor` `map` and submit-all, `ProcessPoolExecutor`
//!    `map` and submit-all, `Pool` `map` (on a fresh pool, and on a warm
//!    one that has just run 5 000 tiny calls), `imap` and `imap_unordered`.
//!    A scheduler that hands out work in fixed shares, or keeps queued work
//!    behind a busy worker, leaves a core idle while one worker finishes a
//!    big task. Bar: every mode ≤ 1.1 × rayon's `par_iter`. Python runs the
//!    same sizes (the same generator, at 1/80 of the iterations, as its
//!    loop is ~80× slower); as its sizes differ, its figure is its time
//!    over the ideal (its own sequential time ÷ workers), set beside
//!    corun's.
//! 2. **tiny**: 1 000 000 no-op tasks on a `ThreadPoolExecutor`: `map`,
//!    which reads its input lazily with a bounded window of tasks in
//!    flight, against submitting all and then collecting; and 200 000 on
//!    the process pools: `ProcessPoolExecutor.map` against its submit-all,
//!    `Pool.imap` against `apply_async` for all. Bar: `map` / `imap` ≤
//!    1.2 × submit-all. rayon's `par_iter().map().collect()` and Python's
//!    `ThreadPoolExecutor.map` (fewer items) are shown beside the threads.
//! 3. **nested**: outer tasks that each submit 10 CPU tasks to their own
//!    pool and wait for them: 1 and 2 outer tasks on 2 workers, 8 on 8,
//!    against rayon doing the same (an outer `par_iter` with an inner one,
//!    in `install`). A pool whose blocked workers only wait deadlocks once
//!    every worker waits; each run has a deadline (5 × rayon's time + 1 s,
//!    at most 20 s, quick 5 s), and a shape that misses it is reported as
//!    a deadlock, its pool leaked (dropping it would wait forever). Bar: no
//!    deadlock, and ≤ 1.2 × rayon. Python's `ThreadPoolExecutor` runs the
//!    same shapes with the same rule (its time in one thread for rayon's).
//! 4. **long+short**: on a warm process `Pool`, two long tasks (~300 ms of
//!    CPU each) submitted back to back, then 20 short ones: a pool that
//!    queues the second long task behind the first on one worker, because
//!    recent calls were short, runs them one after the other. Bar: the
//!    second long task done within 1.15 × the first's time (they ran side
//!    by side); when the last short task finished is shown too. Python's
//!    `multiprocessing.Pool`, warmed the same way, beside it.
//!
//! Every repetition runs corun's modes and rayon interleaved; medians are
//! reported.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use corun::concurrent::{Executor, Submit, Task, ThreadPoolExecutor};
use corun::multiprocessing::{Pool, ProcessPoolExecutor};
use rayon::prelude::*;

use super::Plan;
use super::measure::{Contender, median, per_op, per_run_ms};
use super::progress;
use super::python::run_script;
use super::report::Row;
use crate::workload::noop;

const EXPERIMENT: &str = "schedule";
const PYTHON_SCRIPT: &str = include_str!("../../python/schedule_bench.py");

/// The heavy-tailed tasks: how many, and the generator's parameters
/// (python/schedule_bench.py has the same).
const TASKS: usize = 200;
const SEED: u64 = 20_240_601;
const LCG_A: u64 = 6_364_136_223_846_793_005;
const LCG_C: u64 = 1_442_695_040_888_963_407;
const ALPHA: f64 = 1.2;
const CAP: f64 = 100.0;
/// Loop iterations of all the heavy-tailed tasks together: ~0.65 s in one
/// thread at ~0.55 ns per iteration (quick: ~50 ms).
const HEAVY_ITERATIONS: (usize, usize) = (1_200_000_000, 90_000_000);
/// How much slower Python's loop is (~44 ns per iteration against ~0.55):
/// Python runs every size divided by this.
const PYTHON_SLOWER: u64 = 80;
/// The bars (see the module's docs).
const HEAVY_VS_RAYON: f64 = 1.1;
const MAP_VS_SUBMIT: f64 = 1.2;
const NESTED_VS_RAYON: f64 = 1.2;
const SECOND_LONG_VS_FIRST: f64 = 1.15;
/// Calls the warm pool runs just before its timed map.
const WARM_CALLS: u64 = 5_000;
/// Inner tasks per outer task in the nested part.
const INNER: usize = 10;
/// Short tasks behind the two long ones.
const SHORTS: usize = 20;

/// `0² + 1² + … + (n-1)²` modulo 2⁶⁴, by a real loop of `n` steps: a
/// task whose size is its time. Never inlined, so every mode runs the
/// same machine code; `black_box` keeps LLVM from closing the loop into
/// a formula.
#[inline(never)]
fn spin(n: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 0..black_box(n) {
        let i = black_box(i);
        total = total.wrapping_add(i.wrapping_mul(i));
    }
    total
}

/// `count` heavy-tailed sizes in units: a 64-bit LCG from `seed`, a
/// uniform `u` in (0, 1) from its top 52 bits, `u^(-1/α)` capped at
/// [`CAP`] (a Pareto draw with minimum 1). Python's peer implements the
/// same, and its sum of sizes is checked against this one's.
fn pareto_units(count: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(LCG_A).wrapping_add(LCG_C);
            let u = ((state >> 12) as f64 + 0.5) / (1_u64 << 52) as f64;
            u.powf(-1.0 / ALPHA).min(CAP)
        })
        .collect()
}

/// The units as loop iterations, `unit` per unit (truncated, as Python's
/// `int(x * unit)`).
fn sizes(units: &[f64], unit: u64) -> Vec<u64> {
    units.iter().map(|x| (x * unit as f64) as u64).collect()
}

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = cpus.max(2);
    let mut rows = heavy_tail(plan, workers)?;
    rows.extend(tiny(plan, workers)?);
    rows.extend(nested(plan, workers)?);
    rows.extend(long_then_short(plan, workers)?);
    Ok(rows)
}

/// Runs part `part` of the Python peer with `args` after the runs and
/// workers.
fn python(
    part: &str,
    runs: usize,
    workers: usize,
    args: &[u64],
) -> anyhow::Result<Result<serde_json::Value, String>> {
    let mut all = vec![part.to_owned(), runs.to_string(), workers.to_string()];
    all.extend(args.iter().map(u64::to_string));
    run_script(PYTHON_SCRIPT, &all)
}

/// Repetitions of the Python peer: at most 3 in a full run, where its
/// parts take seconds each and run after corun's, not interleaved.
fn python_runs(plan: &Plan) -> usize {
    if plan.quick {
        plan.runs
    } else {
        plan.runs.min(3)
    }
}

/// A number the Python peer printed.
fn number(json: &serde_json::Value, pointer: &str) -> anyhow::Result<f64> {
    json.pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .with_context(|| format!("python peer gave no {pointer}: {json}"))
}

/// Part 1: heavy-tailed task sizes through every mode, against rayon.
fn heavy_tail(plan: &Plan, workers: usize) -> anyhow::Result<Vec<Row>> {
    let units = pareto_units(TASKS, SEED);
    let total: f64 = units.iter().sum();
    let iterations = plan.size(HEAVY_ITERATIONS.0, HEAVY_ITERATIONS.1);
    let unit = (iterations as f64 / total) as u64;
    let sizes = sizes(&units, unit);
    let threads = ThreadPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .context("building the thread pool")?;
    let processes = ProcessPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .context("starting the process pool")?;
    let pool = Pool::builder()
        .processes(workers)
        .build()
        .context("starting the pool")?;
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .context("building the rayon pool")?;
    // What each mode computed in its last run, checked after timing.
    let outputs: Vec<RefCell<Vec<u64>>> = (0..10).map(|_| RefCell::default()).collect();
    let out = |i: usize, results: Vec<u64>| *outputs[i].borrow_mut() = results;
    let mut contenders = [
        Contender::timed("sequential", |_| {
            out(0, sizes.iter().map(|&n| spin(n)).collect());
        }),
        Contender::timed("rayon par_iter", |_| {
            out(
                1,
                rayon.install(|| sizes.par_iter().map(|&n| spin(n)).collect()),
            );
        }),
        Contender::timed("ThreadPoolExecutor.map", |_| {
            out(2, map_on(&threads, spin, sizes.iter().copied()));
        }),
        Contender::timed("ThreadPoolExecutor submit all", |_| {
            out(3, submit_all_on(&threads, spin, sizes.iter().copied()));
        }),
        Contender::timed("ProcessPoolExecutor.map", |_| {
            out(4, map_on(&processes, spin, sizes.iter().copied()));
        }),
        Contender::timed("ProcessPoolExecutor submit all", |_| {
            out(5, submit_all_on(&processes, spin, sizes.iter().copied()));
        }),
        Contender::timed("Pool.imap_unordered", |_| {
            let mut results: Vec<u64> = pool
                .imap_unordered(spin, sizes.iter().copied())
                .collect::<Result<_, _>>()
                .expect("no task fails");
            results.sort_unstable();
            out(6, results);
        }),
        Contender::new("Pool.map (fresh pool)", |_| {
            let fresh = Pool::builder()
                .processes(workers)
                .build()
                .expect("starting a pool");
            let start = Instant::now();
            let results = fresh.map(spin, sizes.iter().copied());
            let elapsed = start.elapsed();
            drop(fresh);
            out(7, results.expect("no task fails"));
            elapsed
        }),
        Contender::new("Pool.map (warm pool)", |_| {
            let warm = pool
                .map_chunked(noop, 0..WARM_CALLS, 1)
                .expect("no-ops succeed");
            assert_eq!(warm.len() as u64, WARM_CALLS);
            let start = Instant::now();
            let results = pool.map(spin, sizes.iter().copied());
            let elapsed = start.elapsed();
            out(8, results.expect("no task fails"));
            elapsed
        }),
        Contender::timed("Pool.imap", |_| {
            out(
                9,
                pool.imap(spin, sizes.iter().copied())
                    .collect::<Result<_, _>>()
                    .expect("no task fails"),
            );
        }),
    ];
    let t = per_run_ms(plan.runs, &mut contenders);
    let names: Vec<&'static str> = contenders.iter().map(|c| c.name).collect();
    drop(contenders);
    let expected = outputs[0].take();
    let mut sorted = expected.clone();
    sorted.sort_unstable();
    for (i, output) in outputs.iter().enumerate().skip(1) {
        let want = if i == 6 { &sorted } else { &expected };
        anyhow::ensure!(
            &*output.borrow() == want,
            "schedule: {} computed other sums than the sequential run",
            names[i]
        );
    }

    let label = |name: &str| {
        let name = name
            .replace(
                "ThreadPoolExecutor",
                &format!("ThreadPoolExecutor({workers})"),
            )
            .replace(
                "ProcessPoolExecutor",
                &format!("ProcessPoolExecutor({workers})"),
            )
            .replace("Pool.", &format!("Pool({workers})."));
        format!("heavy-tail: {name}")
    };
    let ideal = t[0].median / workers as f64;
    let efficiency = |time: f64| format!("efficiency {:.0}%", 100.0 * ideal / time);
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            "heavy-tail: rayon par_iter",
            "sequential",
            &t[1],
            &t[0],
            None,
        )
        .note(format!(
            "{}; {TASKS} tasks, largest {:.1}% of the work",
            efficiency(t[1].median),
            100.0 * *sizes.iter().max().unwrap_or(&0) as f64 / sizes.iter().sum::<u64>() as f64
        )),
    ];
    for i in 2..t.len() {
        rows.push(
            Row::compare(
                EXPERIMENT,
                label(names[i]),
                "rayon par_iter",
                &t[i],
                &t[1],
                Some(HEAVY_VS_RAYON),
            )
            .note(efficiency(t[i].median)),
        );
    }
    let mut rows: Vec<Row> = rows.into_iter().map(|r| r.unit("ms/run")).collect();

    if plan.python {
        let py_runs = python_runs(plan);
        let py_unit = unit / PYTHON_SLOWER;
        progress::step(format!(
            "Python process pools, heavy tail ({py_runs} run(s))"
        ));
        let args = [TASKS as u64, SEED, py_unit];
        match python("heavy", py_runs, workers, &args)? {
            Ok(json) => {
                let want: u64 = self::sizes(&units, py_unit).iter().sum();
                let got = number(&json, "/size_sum")?;
                anyhow::ensure!(
                    got == want as f64,
                    "schedule: the Python peer generated other sizes (sum {got}, not {want})"
                );
                let version = json["python"].as_str().unwrap_or("?");
                let py_ideal = number(&json, "/seconds/sequential")? * 1e3 / workers as f64;
                for (key, ours, peer) in [
                    ("ppe_map", 4, format!("ProcessPoolExecutor({workers}).map")),
                    (
                        "ppe_submit",
                        5,
                        format!("ProcessPoolExecutor({workers}) submit all"),
                    ),
                    ("pool_map", 8, format!("Pool({workers}).map")),
                    (
                        "pool_imap_unordered",
                        6,
                        format!("Pool({workers}).imap_unordered"),
                    ),
                ] {
                    let py = number(&json, &format!("/seconds/{key}"))? * 1e3;
                    rows.push(
                        Row::compare(
                            EXPERIMENT,
                            label(names[ours]),
                            format!("Python {version} {peer}"),
                            &t[ours] / ideal,
                            py / py_ideal,
                            None,
                        )
                        .unit("× ideal")
                        .note(format!(
                            "efficiency {:.0}% vs Python's {:.0}% (its own sequential ÷ {workers}); \
                             Python sizes 1/{PYTHON_SLOWER}",
                            100.0 * ideal / t[ours].median,
                            100.0 * py_ideal / py
                        )),
                    );
                }
            }
            Err(why) => rows.push(
                Row::peer_missing(EXPERIMENT, "heavy-tail", "Python process pools", &t[1], why)
                    .unit("ms/run"),
            ),
        }
    }
    Ok(rows)
}

/// A task's function, for any executor: threads and processes both run
/// a plain `fn`.
type Work = fn(u64) -> u64;

/// `f` over `inputs` through the executor's `map`, in input order.
fn map_on<E: Executor + Submit<Work, u64, u64>>(
    executor: &E,
    f: Work,
    inputs: impl IntoIterator<Item = u64>,
) -> Vec<u64> {
    executor
        .map(f, inputs)
        .collect::<Result<_, _>>()
        .expect("no task fails")
}

/// `f` over `inputs`, every call submitted before the first result is
/// taken; the results in input order.
fn submit_all_on<E: Executor + Submit<Work, u64, u64>>(
    executor: &E,
    f: Work,
    inputs: impl IntoIterator<Item = u64>,
) -> Vec<u64> {
    let tasks: Vec<Task<u64>> = inputs
        .into_iter()
        .map(|x| executor.submit(f, x).expect("the executor is open"))
        .collect();
    collect(tasks)
}

/// Checks that no-op results are `0..n`, in order.
fn check(results: Vec<u64>, n: usize) {
    assert_eq!(results.len(), n, "results were lost");
    assert!(
        (0..).zip(&results).all(|(i, &r)| r == i),
        "results out of order"
    );
}

/// The results of `tasks`, in order.
fn collect(tasks: Vec<Task<u64>>) -> Vec<u64> {
    tasks
        .into_iter()
        .map(|task| task.result().expect("no task fails"))
        .collect()
}

/// Part 2: a million no-op tasks through `map` and through submit-all.
fn tiny(plan: &Plan, workers: usize) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(1_000_000, 20_000);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .context("building the thread pool")?;
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .context("building the rayon pool")?;
    let mut contenders = [
        Contender::timed("ThreadPoolExecutor.map", |n| {
            check(map_on(&pool, noop, 0..n as u64), n);
        }),
        Contender::timed("ThreadPoolExecutor submit all", |n| {
            check(submit_all_on(&pool, noop, 0..n as u64), n);
        }),
        Contender::timed("rayon par_iter map collect", |n| {
            let results: Vec<u64> =
                rayon.install(|| (0..n as u64).into_par_iter().map(|i| i).collect());
            check(results, n);
        }),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    drop(contenders);
    let corun = format!("tiny: ThreadPoolExecutor({workers}).map");
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            &corun,
            format!("ThreadPoolExecutor({workers}) submit all, then collect"),
            &t[0],
            &t[1],
            Some(MAP_VS_SUBMIT),
        )
        .note(format!("{n} no-op tasks")),
        Row::compare(
            EXPERIMENT,
            &corun,
            format!("rayon({workers}) par_iter map collect"),
            &t[0],
            &t[2],
            None,
        ),
    ];
    rows.extend(tiny_processes(plan, workers)?);
    if plan.python {
        let py_n = plan.size(50_000, 5_000);
        let py_runs = python_runs(plan);
        progress::step(format!("Python ThreadPoolExecutor.map ({py_n} tasks)"));
        rows.push(match python("tiny", py_runs, workers, &[py_n as u64])? {
            Ok(json) => Row::compare(
                EXPERIMENT,
                &corun,
                format!(
                    "Python {} ThreadPoolExecutor({workers}).map",
                    json["python"].as_str().unwrap_or("?")
                ),
                &t[0],
                number(&json, "/ns_per_task")?,
                None,
            )
            .note(format!("{py_n} tasks")),
            Err(why) => Row::peer_missing(
                EXPERIMENT,
                &corun,
                "Python ThreadPoolExecutor.map",
                &t[0],
                why,
            ),
        });
    }
    Ok(rows.into_iter().map(|r| r.unit("ns/task")).collect())
}

/// The tiny part on the process pools: `map` and `imap` against
/// submitting every call at once.
fn tiny_processes(plan: &Plan, workers: usize) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(200_000, 5_000);
    let executor = ProcessPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .context("starting the process pool")?;
    let pool = Pool::builder()
        .processes(workers)
        .build()
        .context("starting the pool")?;
    let mut contenders = [
        Contender::timed("ProcessPoolExecutor.map", |n| {
            check(map_on(&executor, noop, 0..n as u64), n);
        }),
        Contender::timed("ProcessPoolExecutor submit all", |n| {
            check(submit_all_on(&executor, noop, 0..n as u64), n);
        }),
        Contender::timed("Pool.imap", |n| {
            let results = pool
                .imap(noop, 0..n as u64)
                .collect::<Result<Vec<_>, _>>()
                .expect("no-ops succeed");
            check(results, n);
        }),
        Contender::timed("Pool.apply_async for all", |n| {
            let tasks: Vec<Task<u64>> = (0..n as u64)
                .map(|i| pool.apply_async(noop, i).expect("the pool is open"))
                .collect();
            check(collect(tasks), n);
        }),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    drop(contenders);
    let note = format!("{n} no-op calls");
    Ok(vec![
        Row::compare(
            EXPERIMENT,
            format!("tiny: ProcessPoolExecutor({workers}).map"),
            format!("ProcessPoolExecutor({workers}) submit all, then collect"),
            &t[0],
            &t[1],
            Some(MAP_VS_SUBMIT),
        )
        .note(note.clone()),
        Row::compare(
            EXPERIMENT,
            format!("tiny: Pool({workers}).imap"),
            format!("Pool({workers}).apply_async for all, then collect"),
            &t[2],
            &t[3],
            Some(MAP_VS_SUBMIT),
        )
        .note(note),
    ])
}

/// One shape of the nested part: `outer` tasks on `workers` workers.
#[derive(Debug, Clone, Copy)]
struct Shape {
    outer: usize,
    workers: usize,
    /// The contenders' names, for the progress line.
    names: [&'static str; 2],
}

/// How one nested run of corun's pool ended.
enum Nested {
    Done(Duration),
    /// No result by the deadline: the pool's workers all wait on tasks
    /// queued behind them.
    Deadlocked,
}

/// Part 3: tasks that wait on tasks they submitted to their own pool.
fn nested(plan: &Plan, workers: usize) -> anyhow::Result<Vec<Row>> {
    let sub = plan.size(9_000_000, 1_800_000) as u64;
    let shapes = [
        Shape {
            outer: 1,
            workers,
            names: ["rayon, 1 outer", "ThreadPoolExecutor, 1 outer"],
        },
        Shape {
            outer: 2,
            workers,
            names: ["rayon, 2 outer", "ThreadPoolExecutor, 2 outer"],
        },
        Shape {
            outer: 8,
            workers: workers.max(8),
            names: ["rayon, 8 outer", "ThreadPoolExecutor, 8 outer"],
        },
    ];
    let cap = Duration::from_secs(if plan.quick { 5 } else { 20 });
    let mut results = Vec::new();
    for shape in shapes {
        let rayon = rayon::ThreadPoolBuilder::new()
            .num_threads(shape.workers)
            .build()
            .context("building the rayon pool")?;
        let run_rayon = || {
            rayon.install(|| {
                (0..shape.outer)
                    .into_par_iter()
                    .map(|_| {
                        (0..INNER)
                            .into_par_iter()
                            .map(|_| spin(sub))
                            .reduce(|| 0, u64::wrapping_add)
                    })
                    .reduce(|| 0, u64::wrapping_add)
            })
        };
        let expected = run_rayon();
        let calibration = Instant::now();
        run_rayon();
        let deadline = (calibration.elapsed() * 5 + Duration::from_secs(1)).min(cap);
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(shape.workers)
                .build()
                .context("building the thread pool")?,
        );
        let deadlocked = std::cell::Cell::new(false);
        let mut contenders = [
            Contender::timed(shape.names[0], |_| {
                assert_eq!(run_rayon(), expected, "rayon computed another sum");
            }),
            Contender::new(shape.names[1], |_| {
                if deadlocked.get() {
                    return Duration::ZERO; // not run again
                }
                match nested_once(&pool, shape.outer, sub, deadline) {
                    Nested::Done(elapsed) => elapsed,
                    Nested::Deadlocked => {
                        deadlocked.set(true);
                        Duration::ZERO
                    }
                }
            }),
        ];
        let t = per_run_ms(plan.runs, &mut contenders);
        drop(contenders);
        if deadlocked.get() {
            // Its workers wait forever, and dropping it would wait for them.
            std::mem::forget(pool);
        }
        results.push((shape, t, deadlocked.get(), deadline));
    }

    let mut rows = Vec::new();
    let label = |shape: Shape| {
        format!(
            "nested: ThreadPoolExecutor({}), {} outer × {INNER} inner",
            shape.workers, shape.outer
        )
    };
    for &(shape, ref t, deadlocked, deadline) in &results {
        let peer = format!("rayon({}) install, nested par_iter", shape.workers);
        let row = if deadlocked {
            let ms = deadline.as_secs_f64() * 1e3;
            Row::compare(
                EXPERIMENT,
                label(shape),
                peer,
                ms,
                &t[0],
                Some(NESTED_VS_RAYON),
            )
            .note(format!(
                "DEADLOCK: no result within {:.1} s (every worker waits on queued tasks); \
                 the pool is leaked",
                deadline.as_secs_f64()
            ))
        } else {
            Row::compare(
                EXPERIMENT,
                label(shape),
                peer,
                &t[1],
                &t[0],
                Some(NESTED_VS_RAYON),
            )
        };
        rows.push(row.unit("ms/run"));
    }
    if plan.python {
        let py_runs = python_runs(plan);
        progress::step("Python ThreadPoolExecutor, nested waits");
        let mut args = vec![sub / PYTHON_SLOWER, cap.as_secs()];
        args.extend(results.iter().map(|r| r.0.outer as u64));
        match python("nested", py_runs, workers, &args)? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                let shapes = json["shapes"]
                    .as_array()
                    .with_context(|| format!("python peer gave no shapes: {json}"))?;
                for (py, &(shape, ref t, deadlocked, deadline)) in shapes.iter().zip(&results) {
                    let corun_ms = if deadlocked {
                        deadline.as_secs_f64() * 1e3
                    } else {
                        t[1].median
                    };
                    let py_workers = py["workers"].as_u64().unwrap_or(0);
                    let outcome = if py["deadlocked"].as_bool() == Some(true) {
                        format!(
                            "Python deadlocked too (no result within {:.1} s)",
                            number(py, "/deadline_ms")? / 1e3
                        )
                    } else {
                        let ms = number(py, "/ms")?;
                        format!(
                            "Python: {ms:.1} ms = {:.2} × its work in one thread (GIL), \
                             sizes 1/{PYTHON_SLOWER}",
                            ms / number(py, "/sequential_ms")?
                        )
                    };
                    rows.push(
                        Row::peer_note(
                            EXPERIMENT,
                            label(shape),
                            format!("Python {version} ThreadPoolExecutor({py_workers})"),
                            corun_ms,
                            outcome,
                        )
                        .unit("ms/run"),
                    );
                }
            }
            Err(why) => rows.push(
                Row::peer_missing(
                    EXPERIMENT,
                    "nested",
                    "Python ThreadPoolExecutor",
                    &results[0].1[1],
                    why,
                )
                .unit("ms/run"),
            ),
        }
    }
    Ok(rows)
}

/// One run of `outer` tasks on `pool`, each submitting [`INNER`] tasks of
/// `sub` iterations to it and waiting for them; deadlocked when not all
/// done by `deadline` from the start.
fn nested_once(
    pool: &Arc<ThreadPoolExecutor>,
    outer: usize,
    sub: u64,
    deadline: Duration,
) -> Nested {
    let start = Instant::now();
    let mut tasks: Vec<Task<u64>> = (0..outer)
        .map(|_| {
            let inner_pool = Arc::clone(pool);
            pool.spawn(move || {
                let inner: Vec<Task<u64>> = (0..INNER)
                    .map(|_| {
                        inner_pool
                            .spawn(move || spin(sub))
                            .expect("the pool is open")
                    })
                    .collect();
                inner
                    .into_iter()
                    .map(|t| t.result().expect("no task fails"))
                    .fold(0, u64::wrapping_add)
            })
            .expect("the pool is open")
        })
        .collect();
    for task in &mut tasks {
        let left = deadline.saturating_sub(start.elapsed());
        match task.result_timeout(left) {
            Ok(_) => {}
            Err(e) if e.is_timeout() => return Nested::Deadlocked,
            Err(e) => panic!("a nested task failed: {e}"),
        }
    }
    Nested::Done(start.elapsed())
}

/// Part 4: two long tasks and then short ones on a warm process pool.
fn long_then_short(plan: &Plan, workers: usize) -> anyhow::Result<Vec<Row>> {
    let long = plan.size(550_000_000, 90_000_000) as u64;
    let short = long / 100;
    let pool = Pool::builder()
        .processes(workers)
        .build()
        .context("starting the pool")?;
    let expected = (spin(long), spin(short));
    let (mut firsts, mut seconds, mut lasts) = (Vec::new(), Vec::new(), Vec::new());
    // One untimed run first, as per_op does.
    for run in 0..=plan.runs {
        progress::step(format!(
            "Pool({workers}): 2 long, {SHORTS} short ({run}/{})",
            plan.runs
        ));
        let warm = pool
            .map_chunked(noop, 0..WARM_CALLS, 1)
            .context("warming the pool")?;
        anyhow::ensure!(warm.len() as u64 == WARM_CALLS, "warm-up calls lost");
        // Each task's done-callback says when it ran; a task's result can
        // be taken before its callbacks have run, so they are counted in.
        let (finished, when) = crossbeam_channel::unbounded();
        let start = Instant::now();
        let sizes = [long, long]
            .into_iter()
            .chain(std::iter::repeat_n(short, SHORTS));
        let tasks: Vec<Task<u64>> = sizes
            .enumerate()
            .map(|(k, n)| {
                let task = pool.apply_async(spin, n)?;
                let finished = finished.clone();
                task.add_done_callback(move |_| {
                    // The receiver outlives every task.
                    let _ = finished.send((k, Instant::now()));
                });
                Ok(task)
            })
            .collect::<Result<_, corun::Error>>()?;
        let results = collect(tasks);
        anyhow::ensure!(
            results[..2].iter().all(|&r| r == expected.0)
                && results[2..].iter().all(|&r| r == expected.1),
            "long+short: wrong sums"
        );
        let mut done = [0.0; 2 + SHORTS];
        for _ in 0..done.len() {
            let (k, at) = when
                .recv_timeout(Duration::from_secs(10))
                .context("a done-callback did not run")?;
            done[k] = (at - start).as_secs_f64() * 1e3;
        }
        let mut ends = [done[0], done[1]];
        ends.sort_by(f64::total_cmp);
        let last = done[2..].iter().copied().fold(0.0, f64::max);
        if run > 0 {
            firsts.push(ends[0]);
            seconds.push(ends[1]);
            lasts.push(last);
        }
    }
    let (first, second, last) = (median(firsts), median(seconds), median(lasts));
    let corun = format!("long+short: Pool({workers}) warm");
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            format!("{corun}, 2nd long task done"),
            "its 1st long task done",
            second,
            first,
            Some(SECOND_LONG_VS_FIRST),
        )
        .unit("ms"),
        Row::compare(
            EXPERIMENT,
            format!("{corun}, last of {SHORTS} short tasks done"),
            "its 1st long task done",
            last,
            first,
            None,
        )
        .unit("ms")
        .note(format!("long tasks ~{:.0} ms of CPU each", first)),
    ];
    if plan.python {
        let py_runs = python_runs(plan);
        progress::step("Python Pool, long then short tasks");
        let args = [long / PYTHON_SLOWER, short / PYTHON_SLOWER, SHORTS as u64];
        match python("long", py_runs, workers, &args)? {
            Ok(json) => {
                let py_first = number(&json, "/first_ms")?;
                rows.push(
                    Row::compare(
                        EXPERIMENT,
                        format!("{corun}, 2nd long ÷ 1st long"),
                        format!(
                            "Python {} Pool({workers}), warm",
                            json["python"].as_str().unwrap_or("?")
                        ),
                        second / first,
                        number(&json, "/second_ms")? / py_first,
                        None,
                    )
                    .unit("× 1st long")
                    .note(format!(
                        "last short: corun {:.2}, Python {:.2} × 1st long; Python sizes 1/{PYTHON_SLOWER}",
                        last / first,
                        number(&json, "/last_short_ms")? / py_first
                    )),
                );
            }
            Err(why) => rows
                .push(Row::peer_missing(EXPERIMENT, &corun, "Python Pool", second, why).unit("ms")),
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_deterministic_and_heavy_tailed() {
        let units = pareto_units(TASKS, SEED);
        assert_eq!(units, pareto_units(TASKS, SEED));
        assert!(units.iter().all(|&x| (1.0..=CAP).contains(&x)));
        let mut sorted = units.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[TASKS / 2];
        let total: f64 = units.iter().sum();
        // Most tasks are small, a few are huge.
        assert!(median < 2.0, "median {median}");
        assert!(
            sorted[TASKS - 1] > 20.0 * median,
            "largest {}",
            sorted[TASKS - 1]
        );
        assert!(sorted[TASKS - 10..].iter().sum::<f64>() > 0.3 * total);
    }

    #[test]
    fn sizes_truncate_as_python_does() {
        assert_eq!(sizes(&[1.0, 2.5, 99.99], 10), [10, 25, 999]);
    }

    #[test]
    fn spin_is_the_wrapping_sum_of_squares() {
        assert_eq!(spin(0), 0);
        assert_eq!(spin(4), 1 + 4 + 9);
        // Python: sum(i * i for i in range(500000)) & (2**64 - 1)
        assert_eq!(spin(500_000), 41_666_541_666_750_000);
        assert_eq!(spin(5_000_000), {
            let n = 5_000_000_u128;
            ((n - 1) * n * (2 * n - 1) / 6 % (1 << 64)) as u64
        });
    }
}
