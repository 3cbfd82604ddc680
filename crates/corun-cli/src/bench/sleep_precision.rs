//! The `sleep-precision` experiment: how late `sleep(1 ms)` wakes, slept
//! 1 000 times in a row by one task: the median and p99 overshoot of the
//! corun loop's timer heap, against `tokio::time::sleep` (whose wheel
//! rounds up to whole milliseconds) and Python's `asyncio.sleep(0.001)`.

use std::time::{Duration, Instant};

use anyhow::Context;
use corun::asyncio::{EventLoop, sleep};

use super::Plan;
use super::progress;
use super::python::run_script;
use super::report::Row;

const EXPERIMENT: &str = "sleep-precision";
/// The delay slept each time.
const DELAY: Duration = Duration::from_millis(1);
/// BENCHMARKS.md: a median overshoot no worse than Python's.
const BAR_VS_PYTHON: f64 = 1.0;
const PYTHON_SCRIPT: &str = include_str!("../../python/sleep_precision_bench.py");

/// The overshoots of each contender, in µs.
struct Overshoots {
    samples: Vec<f64>,
}

pub(crate) fn run(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let n = plan.size(1_000, 100);
    let event_loop = EventLoop::new().context("making the event loop")?;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let mut corun = Overshoots::new(n);
    let mut raw = Overshoots::new(n);
    // The sleeps are split into `runs` rounds, each contender taking turns
    // going first, so drift on a shared machine hits both alike.
    let rounds = plan.runs.clamp(1, n);
    for round in 0..rounds {
        let count = n / rounds + usize::from(round < n % rounds);
        progress::step(format!("round {}/{rounds}", round + 1));
        let corun_round = |into: &mut Overshoots| {
            let samples = event_loop
                .run_until_complete(async move {
                    let mut samples = Vec::with_capacity(count);
                    sleep(DELAY).await; // warm-up, as the Python peer
                    for _ in 0..count {
                        let start = Instant::now();
                        sleep(DELAY).await;
                        samples.push(start.elapsed());
                    }
                    samples
                })
                .expect("the loop runs");
            into.extend(samples);
        };
        let tokio_round = |into: &mut Overshoots| {
            into.extend(tokio.block_on(async {
                let mut samples = Vec::with_capacity(count);
                tokio::time::sleep(DELAY).await; // warm-up
                for _ in 0..count {
                    let start = Instant::now();
                    tokio::time::sleep(DELAY).await;
                    samples.push(start.elapsed());
                }
                samples
            }));
        };
        if round % 2 == 0 {
            corun_round(&mut corun);
            tokio_round(&mut raw);
        } else {
            tokio_round(&mut raw);
            corun_round(&mut corun);
        }
    }
    event_loop.close().context("closing the event loop")?;

    let name = "asyncio sleep(1 ms)";
    let (median, p99) = (corun.percentile(50.0), corun.percentile(99.0));
    let note = format!("{n} sleeps, overshoot");
    let mut rows = vec![
        Row::compare(
            EXPERIMENT,
            format!("{name} median"),
            "tokio::time::sleep median",
            median,
            raw.percentile(50.0),
            None,
        ),
        Row::compare(
            EXPERIMENT,
            format!("{name} p99"),
            "tokio::time::sleep p99",
            p99,
            raw.percentile(99.0),
            None,
        ),
    ];
    if plan.python {
        progress::step(format!("Python asyncio.sleep ({n} sleeps)"));
        let args = [n.to_string()];
        match run_script(PYTHON_SCRIPT, &args)? {
            Ok(json) => {
                let field = |key: &str| {
                    json[key]
                        .as_f64()
                        .with_context(|| format!("python peer gave no {key}: {json}"))
                };
                let (py_median, py_p99) = (field("median_us")?, field("p99_us")?);
                let version = json["python"].as_str().unwrap_or("?");
                rows.push(Row::compare(
                    EXPERIMENT,
                    format!("{name} median"),
                    format!("Python {version} asyncio.sleep median"),
                    median,
                    py_median,
                    Some(BAR_VS_PYTHON),
                ));
                rows.push(Row::compare(
                    EXPERIMENT,
                    format!("{name} p99"),
                    format!("Python {version} asyncio.sleep p99"),
                    p99,
                    py_p99,
                    None,
                ));
            }
            Err(why) => rows.push(Row::peer_missing(
                EXPERIMENT,
                format!("{name} median"),
                "Python asyncio.sleep",
                median,
                why,
            )),
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let r = r.unit("µs late");
            if r.note.is_some() {
                r
            } else {
                r.note(note.clone())
            }
        })
        .collect())
}

impl Overshoots {
    fn new(n: usize) -> Self {
        Self {
            samples: Vec::with_capacity(n),
        }
    }

    /// Adds how long each sleep took beyond [`DELAY`].
    fn extend(&mut self, slept: Vec<Duration>) {
        self.samples.extend(
            slept
                .into_iter()
                .map(|d| d.saturating_sub(DELAY).as_secs_f64() * 1e6),
        );
    }

    /// The `p`-th percentile (nearest rank), in µs.
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return f64::NAN;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 0..len
        let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut o = Overshoots::new(100);
        o.extend(
            (1..=100)
                .map(|i| DELAY + Duration::from_micros(i))
                .collect(),
        );
        assert!((o.percentile(50.0) - 50.0).abs() < 1e-6);
        assert!((o.percentile(99.0) - 99.0).abs() < 1e-6);
        assert!((o.percentile(100.0) - 100.0).abs() < 1e-6);
    }
}
