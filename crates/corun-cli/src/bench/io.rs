//! The `io` experiment: fetch 200 pages from a local HTTP server that
//! answers each after 50 ms (see `crate::pages`), sequentially, on
//! `ThreadPoolExecutor(32)`, on `ProcessPoolExecutor(2)`, on the
//! `corun::asyncio` loop, on raw tokio + hyper, and in Python
//! (`ThreadPoolExecutor(32)` with urllib, asyncio with `open_connection`).
//!
//! Every mode opens one connection per page (the server answers
//! `Connection: close`). The fast modes (threads, asyncio, tokio) run side
//! by side, the median of the asked repetitions; sequential (200 × 50 ms =
//! 10 s) and processes (100 pages per worker, 5 s) are run once each, on
//! all the pages, so a full run takes about 20 s rather than a minute.
//!
//! Bars (BENCHMARKS.md): the asyncio facade within 1.3 × one latency and
//! 1.1 × raw tokio; 32 threads within 1.3 × the ⌈pages / 32⌉ latencies
//! they need (7 for 200 pages).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::multiprocessing::ProcessPoolExecutor;

use super::Plan;
use super::measure::{Contender, per_run_ms};
use super::progress;
use super::python::run_script;
use super::report::Row;
use crate::pages::{
    LATENCY, PageServer, fetch_asyncio, fetch_blocking, fetch_in_process, fetch_tokio, page_body,
};

const EXPERIMENT: &str = "io";
const THREADS: usize = 32;
const PROCESSES: usize = 2;
/// BENCHMARKS.md: asyncio ≤ 1.3 × one latency.
const BAR_ASYNCIO_VS_LATENCY: f64 = 1.3;
/// BENCHMARKS.md: asyncio ≤ 1.1 × raw tokio.
const BAR_ASYNCIO_VS_TOKIO: f64 = 1.1;
/// BENCHMARKS.md: threads(32) ≤ 1.3 × the latencies they need.
const BAR_THREADS_VS_LATENCIES: f64 = 1.3;
const PYTHON_SCRIPT: &str = include_str!("../../python/io_bench.py");

pub(crate) fn run(plan: &Plan, timeline: Option<&Path>) -> anyhow::Result<Vec<Row>> {
    let pages = plan.size(200, 20);
    let server = PageServer::start()?;
    let port = server.port();
    let latency_ms = LATENCY.as_secs_f64() * 1e3;
    let expected: usize = (0..pages).map(|n| page_body(n).len()).sum();
    let agent = ureq::Agent::new_with_defaults();

    // The pools live across runs (their start is not what is measured).
    let pool = ThreadPoolExecutor::builder()
        .max_workers(THREADS)
        .build()
        .context("building the thread pool")?;
    let processes = ProcessPoolExecutor::builder()
        .max_workers(PROCESSES)
        .build()
        .context("starting the process pool")?;
    let runner = corun::asyncio::Runner::new().context("making the event loop")?;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;

    let (mut threaded, mut looped, mut raw) = (0, 0, 0);
    let mut contenders = [
        Contender::timed("ThreadPoolExecutor(32)", |_| {
            let agent = agent.clone();
            threaded = pool
                .map(move |n| fetch_blocking(&agent, port, n), 0..pages)
                .map(|r| r.expect("no task panics"))
                .sum::<anyhow::Result<usize>>()
                .expect("every page fetched");
        }),
        Contender::timed("corun::asyncio", |_| {
            looped = runner
                .run(async move {
                    // Python's `await asyncio.gather(*(fetch(n) for n in pages))`.
                    let pages = corun::asyncio::gather((0..pages).map(|n| fetch_asyncio(port, n)));
                    let fetched = pages.await.expect("no task panics");
                    fetched.into_iter().sum::<anyhow::Result<usize>>()
                })
                .expect("the loop runs")
                .expect("every page fetched");
        }),
        Contender::timed("tokio + hyper", |_| {
            raw = tokio
                .block_on(async {
                    let tasks: Vec<_> = (0..pages)
                        .map(|n| tokio::spawn(fetch_tokio(port, n)))
                        .collect();
                    let mut total = 0;
                    for task in tasks {
                        total += task.await.expect("no task panics")?;
                    }
                    anyhow::Ok(total)
                })
                .expect("every page fetched");
        }),
    ];
    let t = per_run_ms(plan.runs, &mut contenders);
    drop(contenders);
    for (mode, got) in [
        ("ThreadPoolExecutor(32)", threaded),
        ("corun::asyncio", looped),
        ("tokio + hyper", raw),
    ] {
        anyhow::ensure!(
            got == expected,
            "io: {mode} fetched {got} bytes, not {expected}"
        );
    }

    if let Some(dir) = timeline {
        super::timeline::write_io(dir, port, pages, THREADS)?;
    }

    // The slow modes, once each, on every page.
    progress::step(format!("sequential ({pages} pages, one run)"));
    let start = Instant::now();
    let mut fetched = 0;
    for n in 0..pages {
        fetched += fetch_blocking(&agent, port, n)?;
    }
    let sequential = start.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(
        fetched == expected,
        "io: sequential fetched {fetched} bytes"
    );

    progress::step(format!("ProcessPoolExecutor(2) ({pages} pages, one run)"));
    let start = Instant::now();
    let mut fetched = 0;
    for r in processes.map(
        fetch_in_process as fn((u16, usize)) -> Result<usize, String>,
        (0..pages).map(|n| (port, n)),
    ) {
        fetched += r
            .context("a process task failed")?
            .map_err(anyhow::Error::msg)?;
    }
    let in_processes = start.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(fetched == expected, "io: processes fetched {fetched} bytes");
    drop(processes);

    let rounds = pages.div_ceil(THREADS);
    let speedup = |own: f64| format!("{:.1}× faster than sequential", sequential / own);
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            "corun::asyncio",
            "one 50 ms latency",
            t[1],
            latency_ms,
            Some(BAR_ASYNCIO_VS_LATENCY),
        )
        .note(format!("{pages} pages at once; {}", speedup(t[1]))),
        Row::compare(
            EXPERIMENT,
            "corun::asyncio",
            "tokio + hyper (current thread)",
            t[1],
            t[2],
            Some(BAR_ASYNCIO_VS_TOKIO),
        ),
        Row::compare(
            EXPERIMENT,
            format!("ThreadPoolExecutor({THREADS})"),
            format!("{rounds} × 50 ms latency"),
            t[0],
            rounds as f64 * latency_ms,
            Some(BAR_THREADS_VS_LATENCIES),
        )
        .note(speedup(t[0])),
        Row::compare(
            EXPERIMENT,
            "sequential (ureq)",
            format!("{pages} × 50 ms latency"),
            sequential,
            pages as f64 * latency_ms,
            None,
        )
        .note("one run"),
        Row::compare(
            EXPERIMENT,
            format!("ProcessPoolExecutor({PROCESSES})"),
            format!("{} × 50 ms latency", pages.div_ceil(PROCESSES)),
            in_processes,
            pages.div_ceil(PROCESSES) as f64 * latency_ms,
            None,
        )
        .note(format!("one run; {}", speedup(in_processes))),
    ];
    if plan.python {
        progress::step(format!(
            "Python ThreadPoolExecutor and asyncio ({} run(s))",
            plan.runs
        ));
        let args = [port.to_string(), pages.to_string(), plan.runs.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let version = json["python"].as_str().unwrap_or("?");
                for (mode, ours, time, peer) in [
                    (
                        "threads",
                        format!("ThreadPoolExecutor({THREADS})"),
                        t[0],
                        format!("Python {version} ThreadPoolExecutor({THREADS}) + urllib"),
                    ),
                    (
                        "asyncio",
                        "corun::asyncio".to_owned(),
                        t[1],
                        format!("Python {version} asyncio.open_connection"),
                    ),
                ] {
                    let bytes = json["bytes"][mode].as_u64().with_context(|| {
                        format!("python peer gave no byte count for {mode}: {json}")
                    })?;
                    anyhow::ensure!(
                        bytes as usize == expected,
                        "io: Python {mode} fetched {bytes} bytes, not {expected}"
                    );
                    let ms = json["ms"][mode]
                        .as_f64()
                        .with_context(|| format!("python peer gave no time for {mode}: {json}"))?;
                    rows.push(Row::compare(EXPERIMENT, ours, peer, time, ms, None));
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                "corun::asyncio",
                "Python ThreadPoolExecutor / asyncio",
                t[1],
                why,
            )),
        }
    }
    drop(server);
    Ok(rows.into_iter().map(|r| r.unit("ms/run")).collect())
}
