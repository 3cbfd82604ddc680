//! `--timeline DIR`: one recorded run of each Rust mode of the `cpu`
//! experiment, written as an SVG timing diagram and Chrome trace JSON per
//! mode — the classic pictures of a sequential, a threaded, a
//! multi-process and a work-stealing run side by side; and of the `io`
//! experiment's threads and asyncio modes (a lane per thread, against the
//! event loop's one lane with a bar per task step).

use std::path::Path;

use anyhow::Context;
use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::multiprocessing::ProcessPoolExecutor;
use corun::trace::{Outcome, Recorder, Timeline};
use rayon::prelude::*;

use crate::pages::{fetch_asyncio, fetch_blocking};
use crate::workload::sum_of_squares;

/// Runs the sums once per mode with a recorder and writes
/// `cpu-<mode>.svg` and `cpu-<mode>.json` into `dir`.
pub(crate) fn write_cpu(dir: &Path, numbers: &[u64], workers: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;

    let sequential = Recorder::new();
    for &n in numbers {
        let id = sequential.submitted(format!("n={n}"));
        sequential.started_on(id, "main");
        std::hint::black_box(sum_of_squares(n));
        sequential.finished(id, Outcome::Ok);
    }
    write(dir, "sequential", &sequential.timeline(), "sequential")?;

    let threads = Recorder::new();
    {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(workers)
            .thread_name_prefix("worker")
            .recorder(threads.clone())
            .build()?;
        for result in pool.map(sum_of_squares, numbers.iter().copied()) {
            result?;
        }
    }
    let title = format!("ThreadPoolExecutor({workers})");
    write(dir, "threads", &threads.timeline(), &title)?;

    let processes = Recorder::new();
    {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(workers)
            .recorder(processes.clone())
            .build()?;
        let sums = sum_of_squares as fn(u64) -> u128;
        for result in pool.map(sums, numbers.iter().copied()) {
            result?;
        }
    }
    let title = format!("ProcessPoolExecutor({workers})");
    write(dir, "processes", &processes.timeline(), &title)?;

    let stealing = Recorder::new();
    let ids: Vec<_> = numbers
        .iter()
        .map(|&n| (stealing.submitted(format!("n={n}")), n))
        .collect();
    ids.par_iter().for_each(|&(id, n)| {
        stealing.started(id);
        std::hint::black_box(sum_of_squares(n));
        stealing.finished(id, Outcome::Ok);
    });
    write(dir, "rayon", &stealing.timeline(), "rayon par_iter")?;
    eprintln!(
        "corun bench: wrote cpu timelines (SVG and Chrome JSON) to {}",
        dir.display()
    );
    Ok(())
}

/// Fetches the pages once on `ThreadPoolExecutor(threads)` and once as
/// `corun::asyncio` tasks, each with a recorder, and writes
/// `io-threads.*` and `io-asyncio.*` into `dir`.
pub(crate) fn write_io(dir: &Path, port: u16, pages: usize, threads: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;

    let pooled = Recorder::new();
    {
        let agent = ureq::Agent::new_with_defaults();
        let pool = ThreadPoolExecutor::builder()
            .max_workers(threads)
            .thread_name_prefix("worker")
            .recorder(pooled.clone())
            .build()?;
        for result in pool.map(move |n| fetch_blocking(&agent, port, n), 0..pages) {
            result??;
        }
    }
    let title = format!("io: ThreadPoolExecutor({threads}) — {pages} pages");
    write_as(dir, "io-threads", &pooled.timeline(), &title)?;

    let looped = Recorder::new();
    let runner = corun::asyncio::Runner::new()?;
    runner.get_loop().set_recorder(looped.clone());
    runner.run(async move {
        let fetches = (0..pages).map(|n| fetch_asyncio(port, n));
        let fetched = corun::asyncio::gather(fetches).await?;
        fetched.into_iter().sum::<anyhow::Result<usize>>()
    })??;
    drop(runner);
    let title = format!("io: corun::asyncio — {pages} pages, each task's steps on the loop");
    write_as(dir, "io-asyncio", &looped.timeline(), &title)?;
    eprintln!(
        "corun bench: wrote io timelines (SVG and Chrome JSON) to {}",
        dir.display()
    );
    Ok(())
}

fn write(dir: &Path, mode: &str, timeline: &Timeline, title: &str) -> anyhow::Result<()> {
    let title = format!("cpu: {title} — {} sums of squares", timeline.tasks().len());
    write_as(dir, &format!("cpu-{mode}"), timeline, &title)
}

/// Writes `timeline` as `<name>.svg` and `<name>.json` in `dir`.
fn write_as(dir: &Path, name: &str, timeline: &Timeline, title: &str) -> anyhow::Result<()> {
    let svg = dir.join(format!("{name}.svg"));
    let json = dir.join(format!("{name}.json"));
    timeline
        .write_svg(&svg, title)
        .with_context(|| format!("writing {}", svg.display()))?;
    timeline
        .write_chrome_json(&json)
        .with_context(|| format!("writing {}", json.display()))?;
    Ok(())
}
