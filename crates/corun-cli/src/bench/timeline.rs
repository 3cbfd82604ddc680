//! `--timeline DIR`: one recorded run of each Rust mode of the `cpu`
//! experiment, written as an SVG timing diagram and Chrome trace JSON per
//! mode — the classic pictures of a sequential, a threaded, a
//! multi-process and a work-stealing run side by side.

use std::path::Path;

use anyhow::Context;
use corun::concurrent::{Executor, ThreadPoolExecutor};
use corun::multiprocessing::ProcessPoolExecutor;
use corun::trace::{Outcome, Recorder, Timeline};
use rayon::prelude::*;

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

fn write(dir: &Path, mode: &str, timeline: &Timeline, title: &str) -> anyhow::Result<()> {
    let title = format!("cpu: {title} — {} sums of squares", timeline.tasks().len());
    let svg = dir.join(format!("cpu-{mode}.svg"));
    let json = dir.join(format!("cpu-{mode}.json"));
    timeline
        .write_svg(&svg, &title)
        .with_context(|| format!("writing {}", svg.display()))?;
    timeline
        .write_chrome_json(&json)
        .with_context(|| format!("writing {}", json.display()))?;
    Ok(())
}
