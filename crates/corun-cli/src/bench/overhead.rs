//! The `overhead-threads` experiment: submit many no-op tasks to a thread
//! pool, then collect every result; the cost per task, against tokio's
//! `spawn_blocking`, rayon's `spawn` with a channel, a thread per task, and
//! Python's `ThreadPoolExecutor`.

use anyhow::Context;
use corun::concurrent::ThreadPoolExecutor;

use super::Plan;
use super::measure::{Contender, per_op};
use super::progress;
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "overhead-threads";
/// BENCHMARKS.md: at most 1 µs per task …
const BUDGET_NS: f64 = 1_000.0;
/// … and no slower than the best Rust peer.
const BAR_VS_BEST: f64 = 1.0;
const PYTHON_SCRIPT: &str = include_str!("../../python/overhead_bench.py");

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(100_000, 10_000);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(cpus)
        .build()
        .context("building the pool")?;
    let tokio = tokio::runtime::Runtime::new().context("starting tokio")?;
    // The default runtime starts up to 512 blocking threads; this one has
    // as many as the pool.
    let tokio_capped = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cpus)
        .build()
        .context("starting tokio")?;
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(cpus)
        .build()
        .context("building the rayon pool")?;
    let mut contenders = [
        Contender::timed("ThreadPoolExecutor", |n| {
            let tasks: Vec<_> = (0..n)
                .map(|i| pool.spawn(move || i).expect("the pool is open"))
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.result().expect("a no-op succeeds"), i);
            }
        }),
        Contender::timed("tokio spawn_blocking", |n| spawn_blocking(&tokio, n)),
        Contender::timed("tokio spawn_blocking", |n| spawn_blocking(&tokio_capped, n)),
        Contender::timed("rayon spawn + channel", |n| {
            let (tx, rx) = crossbeam_channel::unbounded();
            for i in 0..n {
                let tx = tx.clone();
                rayon.spawn(move || tx.send(i).expect("the receiver waits"));
            }
            drop(tx);
            let total: usize = rx.iter().sum();
            assert_eq!(total, n * (n - 1) / 2, "results were lost");
        }),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    let names: Vec<&str> = contenders.iter().map(|c| c.name).collect();
    drop(contenders);

    // A thread per task costs ~50 µs: fewer tasks, the same figure.
    let spawn_n = plan.size(5_000, 500);
    let mut threads = [Contender::timed("std::thread::spawn + join", |n| {
        let handles: Vec<_> = (0..n).map(|i| std::thread::spawn(move || i)).collect();
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.join().expect("a no-op succeeds"), i);
        }
    })];
    let spawned = per_op(spawn_n, plan.runs, &mut threads).remove(0);

    let corun = format!("ThreadPoolExecutor({cpus})");
    let peers = [
        (format!("{} (default runtime)", names[1]), &t[1], None),
        (
            format!("{} ({cpus} blocking threads)", names[2]),
            &t[2],
            None,
        ),
        (format!("{} ({cpus} threads)", names[3]), &t[3], None),
        (
            threads[0].name.to_owned(),
            &spawned,
            Some(format!("{spawn_n} tasks")),
        ),
    ];
    let best = peers
        .iter()
        .map(|p| p.1.median)
        .fold(f64::INFINITY, f64::min);
    let mut rows = vec![Row::target(
        EXPERIMENT,
        &corun,
        &t[0],
        BUDGET_NS,
        "1 µs per task",
    )];
    for (peer, time, note) in peers {
        let is_best = time.median == best;
        let mut row = Row::compare(
            EXPERIMENT,
            &corun,
            peer,
            &t[0],
            time,
            is_best.then_some(BAR_VS_BEST),
        );
        row.note = match (note, is_best) {
            (Some(note), true) => Some(format!("best Rust peer; {note}")),
            (None, true) => Some("best Rust peer".to_owned()),
            (note, false) => note,
        };
        rows.push(row);
    }
    if plan.python {
        let py_n = plan.size(20_000, 5_000);
        progress::step(format!("Python ThreadPoolExecutor ({py_n} tasks)"));
        let args = [py_n.to_string(), plan.runs.to_string()];
        rows.push(match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let py = json["ns_per_task"]
                    .as_f64()
                    .with_context(|| format!("python peer gave no ns_per_task: {json}"))?;
                let version = json["python"].as_str().unwrap_or("?");
                let workers = json["workers"].as_u64().unwrap_or(0);
                Row::compare(
                    EXPERIMENT,
                    &corun,
                    format!("Python {version} ThreadPoolExecutor({workers})"),
                    &t[0],
                    py,
                    None,
                )
                .note(format!("{py_n} tasks"))
            }
            Err(why) => {
                Row::peer_missing(EXPERIMENT, &corun, "Python ThreadPoolExecutor", &t[0], why)
            }
        });
    }
    Ok(rows.into_iter().map(|r| r.unit("ns/task")).collect())
}

/// `n` no-op tasks on tokio's blocking pool, then every result.
fn spawn_blocking(runtime: &tokio::runtime::Runtime, n: usize) {
    let handles: Vec<_> = (0..n).map(|i| runtime.spawn_blocking(move || i)).collect();
    runtime.block_on(async {
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.await.expect("a no-op succeeds"), i);
        }
    });
}
