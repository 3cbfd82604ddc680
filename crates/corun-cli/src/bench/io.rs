//! The `io` experiment: fetch 200 pages from a local HTTP server that
//! answers each after 50 ms (see `crate::pages`), sequentially, on
//! `ThreadPoolExecutor(32)`, on `ProcessPoolExecutor(2)`, on the
//! `corun::asyncio` loop, on raw tokio + hyper, and in Python
//! (`ThreadPoolExecutor(32)` with urllib, asyncio with `open_connection`).
//!
//! The seeds' I/O-bound workload. Every mode opens one connection per page (the server answers
//! `Connection: close`). The fast modes (threads, asyncio, tokio) run side
//! by side, the median of the asked repetitions; sequential (200 × 50 ms =
//! 10 s) and processes (100 pages per worker, 5 s) are run once each, on
//! all the pages, with a recorder on, so a full run takes about 20 s
//! rather than a minute; threads and asyncio get one recorded run more, for
//! their timing diagrams.
//!
//! Bars (BENCHMARKS.md): the asyncio facade within 1.3 × one latency and
//! 1.1 × raw tokio; 32 threads within 1.3 × the ⌈pages / 32⌉ latencies
//! they need (7 for 200 pages).

use std::time::Instant;

use anyhow::Context;
use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::multiprocessing::ProcessPoolExecutor;

use super::Plan;
use super::measure::{Contender, Figure, per_run_ms};
use super::progress;
use super::python::run_script;
use super::report::Row;
use super::workloads::{Bound, Mode, Model, Origin, Recorded, Workload};
use crate::pages::{
    LATENCY, PageServer, fetch_asyncio, fetch_blocking, fetch_in_process, fetch_tokio, page_body,
};
use corun::trace::Outcome;

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

pub(crate) fn run(plan: &Plan) -> anyhow::Result<(Vec<Row>, Workload)> {
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

    // The slow modes, once each, on every page, recorded.
    progress::step(format!("sequential ({pages} pages, one run)"));
    let (sequential_run, sequential) = Recorded::run(
        "io-sequential",
        format!("io: sequential — {pages} pages"),
        |rec| {
            let start = Instant::now();
            let mut fetched = 0;
            for n in 0..pages {
                let id = rec.submitted(format!("page {n}"));
                rec.started_on(id, "main");
                fetched += fetch_blocking(&agent, port, n)?;
                rec.finished(id, Outcome::Ok);
            }
            let ms = start.elapsed().as_secs_f64() * 1e3;
            anyhow::ensure!(
                fetched == expected,
                "io: sequential fetched {fetched} bytes"
            );
            anyhow::Ok(ms)
        },
    )?;

    progress::step(format!("ProcessPoolExecutor(2) ({pages} pages, one run)"));
    // The pool starts and stops inside the recorded run, so its workers'
    // CPU time is counted; only the fetches are timed.
    let (processes_run, in_processes) = Recorded::run(
        "io-processes",
        format!("io: ProcessPoolExecutor({PROCESSES}) — {pages} pages"),
        |rec| {
            let processes = ProcessPoolExecutor::builder()
                .max_workers(PROCESSES)
                .recorder(rec.clone())
                .build()
                .context("starting the process pool")?;
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
            let ms = start.elapsed().as_secs_f64() * 1e3;
            processes.shutdown(true, false);
            anyhow::ensure!(fetched == expected, "io: processes fetched {fetched} bytes");
            anyhow::Ok(ms)
        },
    )?;

    progress::step("recording threads and asyncio");
    let (threads_run, asyncio_run) = record(port, pages)?;

    let rounds = pages.div_ceil(THREADS);
    let threads = format!("ThreadPoolExecutor({THREADS})");
    let in_processes_name = format!("ProcessPoolExecutor({PROCESSES})");
    let sequential = Figure::once(sequential);
    let in_processes = Figure::once(in_processes);
    let mut rows = vec![
        Row::target(
            EXPERIMENT,
            "corun::asyncio",
            &t[1],
            BAR_ASYNCIO_VS_LATENCY * latency_ms,
            format!("{BAR_ASYNCIO_VS_LATENCY} × one 50 ms latency"),
        ),
        Row::compare(
            EXPERIMENT,
            "corun::asyncio",
            "tokio + hyper",
            &t[1],
            &t[2],
            Some(BAR_ASYNCIO_VS_TOKIO),
        )
        .note("tokio on a current-thread runtime, as the corun loop"),
        Row::target(
            EXPERIMENT,
            &threads,
            &t[0],
            BAR_THREADS_VS_LATENCIES * rounds as f64 * latency_ms,
            format!("{BAR_THREADS_VS_LATENCIES} × {rounds} × 50 ms latency"),
        ),
        Row::compare(
            EXPERIMENT,
            "corun::asyncio",
            "sequential",
            &t[1],
            &sequential,
            None,
        ),
        Row::compare(EXPERIMENT, &threads, "sequential", &t[0], &sequential, None),
        Row::compare(
            EXPERIMENT,
            &in_processes_name,
            "sequential",
            &in_processes,
            &sequential,
            None,
        )
        .note("one run each"),
        Row::figure(EXPERIMENT, "sequential (ureq)", &sequential).note(format!(
            "one run; {pages} × 50 ms = {} of waiting",
            crate::human::ms(pages as f64 * latency_ms)
        )),
    ];
    let mut modes = vec![
        Mode::new(
            "sequential",
            Model::Sequential,
            Origin::Corun,
            1,
            &sequential,
        )
        .recorded(Some(sequential_run)),
        Mode::new(&threads, Model::Threads, Origin::Corun, THREADS, &t[0])
            .recorded(Some(threads_run)),
        Mode::new(
            &in_processes_name,
            Model::Processes,
            Origin::Corun,
            PROCESSES,
            &in_processes,
        )
        .recorded(Some(processes_run)),
        Mode::new("corun::asyncio", Model::Asyncio, Origin::Corun, 1, &t[1])
            .recorded(Some(asyncio_run)),
        Mode::new("tokio + hyper", Model::Asyncio, Origin::Rust, 1, &t[2]),
    ];
    if plan.python {
        progress::step(format!(
            "Python ThreadPoolExecutor and asyncio ({} run(s))",
            plan.runs
        ));
        let args = [port.to_string(), pages.to_string(), plan.runs.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                for (mode, ours, time, peer, model, workers) in [
                    (
                        "threads",
                        threads.clone(),
                        &t[0],
                        format!("Python ThreadPoolExecutor({THREADS})"),
                        Model::Threads,
                        THREADS,
                    ),
                    (
                        "asyncio",
                        "corun::asyncio".to_owned(),
                        &t[1],
                        "Python asyncio".to_owned(),
                        Model::Asyncio,
                        1,
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
                    let ms = Figure::from_samples(
                        json["runs_ms"][mode]
                            .as_array()
                            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                            .filter(|v: &Vec<f64>| !v.is_empty())
                            .unwrap_or_else(|| vec![ms]),
                    );
                    rows.push(Row::compare(EXPERIMENT, ours, &peer, time, &ms, None));
                    modes.push(Mode::new(peer, model, Origin::Python, workers, ms));
                }
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                "corun::asyncio",
                "Python ThreadPoolExecutor / asyncio",
                &t[1],
                why,
            )),
        }
    }
    drop(server);
    let workload = Workload {
        experiment: EXPERIMENT,
        bound: Bound::Io,
        about: format!("{pages} pages from a local server that answers each after 50 ms"),
        modes,
    };
    Ok((
        rows.into_iter().map(|r| r.unit("ms/run")).collect(),
        workload,
    ))
}

/// One recorded run on `ThreadPoolExecutor(THREADS)` and one of
/// `corun::asyncio` tasks: their timing diagrams and CPU time.
fn record(port: u16, pages: usize) -> anyhow::Result<(Recorded, Recorded)> {
    let threads = format!("io: ThreadPoolExecutor({THREADS}) — {pages} pages");
    let (threads, ()) = Recorded::run("io-threads", threads, |rec| {
        let agent = ureq::Agent::new_with_defaults();
        let pool = ThreadPoolExecutor::builder()
            .max_workers(THREADS)
            .thread_name_prefix("worker")
            .recorder(rec.clone())
            .build()?;
        for result in pool.map(move |n| fetch_blocking(&agent, port, n), 0..pages) {
            result??;
        }
        anyhow::Ok(())
    })?;
    let title = format!("io: corun::asyncio — {pages} pages, each task's steps on the loop");
    let (looped, ()) = Recorded::run("io-asyncio", title, |rec| {
        let runner = corun::asyncio::Runner::new()?;
        runner.get_loop().set_recorder(rec.clone());
        runner.run(async move {
            let fetches = (0..pages).map(|n| fetch_asyncio(port, n));
            let fetched = corun::asyncio::gather(fetches).await?;
            fetched.into_iter().sum::<anyhow::Result<usize>>()
        })??;
        anyhow::Ok(())
    })?;
    Ok((threads, looped))
}
