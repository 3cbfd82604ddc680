//! The `async-spawn` experiment: create 100 000 no-op tasks on an event
//! loop, then await each: the cost of a task, against raw tokio
//! (`LocalSet` + `spawn_local` on a current-thread runtime, awaiting each
//! `JoinHandle`) and Python's asyncio (`create_task` + `gather`).

use std::time::{Duration, Instant};

use anyhow::Context;
use corun::asyncio::{EventLoop, create_task};

use super::Plan;
use super::measure::{Contender, per_op};
use super::progress;
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "async-spawn";
/// BENCHMARKS.md: no slower than raw tokio.
const BAR_VS_TOKIO: f64 = 1.0;
const PYTHON_SCRIPT: &str = include_str!("../../python/async_spawn_bench.py");

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(100_000, 10_000);
    let event_loop = EventLoop::new().context("making the event loop")?;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let mut contenders = [
        Contender::new("corun asyncio", |n| corun_spawn(&event_loop, n)),
        Contender::new("tokio", |n| tokio_spawn(&tokio, n)),
    ];
    let t = per_op(n, plan.runs, &mut contenders);
    drop(contenders);
    event_loop.close().context("closing the event loop")?;

    let corun = "asyncio create_task + await";
    let mut rows = vec![Row::compare(
        EXPERIMENT,
        corun,
        "tokio spawn_local + await (current thread)",
        &t[0],
        &t[1],
        Some(BAR_VS_TOKIO),
    )];
    if plan.python {
        progress::step(format!("Python asyncio ({n} tasks)"));
        let args = [n.to_string(), plan.runs.to_string()];
        rows.push(match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let py = json["ns_per_task"]
                    .as_f64()
                    .with_context(|| format!("python peer gave no ns_per_task: {json}"))?;
                let version = json["python"].as_str().unwrap_or("?");
                Row::compare(
                    EXPERIMENT,
                    corun,
                    format!("Python {version} asyncio create_task + gather"),
                    &t[0],
                    py,
                    None,
                )
            }
            Err(why) => Row::peer_missing(EXPERIMENT, corun, "Python asyncio", &t[0], why),
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| r.unit("ns/task").note(format!("{n} tasks")))
        .collect())
}

/// `n` no-op tasks on the corun loop, each awaited; timed inside the loop.
fn corun_spawn(event_loop: &EventLoop, n: usize) -> Duration {
    event_loop
        .run_until_complete(async move {
            let start = Instant::now();
            let tasks: Vec<_> = (0..n).map(|i| create_task(async move { i })).collect();
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.expect("a no-op succeeds"), i);
            }
            start.elapsed()
        })
        .expect("the loop runs")
}

/// `n` no-op tasks on a tokio `LocalSet`, each awaited; timed inside it.
fn tokio_spawn(runtime: &tokio::runtime::Runtime, n: usize) -> Duration {
    let local = tokio::task::LocalSet::new();
    local.block_on(runtime, async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| tokio::task::spawn_local(async move { i }))
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.expect("a no-op succeeds"), i);
        }
        start.elapsed()
    })
}
