//! The seeds' workloads mode by mode: the CPU-bound sums and the I/O-bound
//! page fetches, each run sequentially, on threads, on processes, on the
//! event loop (and the GPU), beside the best Rust peer and Python.
//!
//! A [`Workload`] holds each mode's timed figure and one extra recorded run
//! of it: its timeline (a lane per worker, a bar per task) and the CPU
//! time it took, which say *why* a mode won: how many cores were busy, how
//! much of the wall time was spent waiting.

use std::time::{Duration, Instant};

use corun::trace::{Recorder, Timeline};
use serde::Serialize;

use super::measure::Figure;

/// What bounds a workload.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Bound {
    Cpu,
    Io,
}

/// The concurrency model a mode uses.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Model {
    Sequential,
    Threads,
    Processes,
    Asyncio,
    Gpu,
    /// Worker processes of this binary anywhere, through a NATS server
    /// (`corun::cluster`).
    Cluster,
}

impl Model {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Model::Sequential => "sequential",
            Model::Threads => "threads",
            Model::Processes => "processes",
            Model::Asyncio => "asyncio",
            Model::Gpu => "GPU",
            Model::Cluster => "cluster",
        }
    }
}

/// Who implemented a mode.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    Corun,
    /// The best Rust peer (rayon, tokio).
    Rust,
    Python,
}

/// One workload of the seeds, every mode of it.
#[derive(Debug, Serialize)]
pub(crate) struct Workload {
    /// The experiment it belongs to ("cpu", "io").
    pub(crate) experiment: &'static str,
    pub(crate) bound: Bound,
    /// What the work is, in a line.
    pub(crate) about: String,
    pub(crate) modes: Vec<Mode>,
}

/// One way of running a workload.
#[derive(Debug, Serialize)]
pub(crate) struct Mode {
    /// The name in the tables, e.g. "ThreadPoolExecutor(2)".
    pub(crate) name: String,
    pub(crate) model: Model,
    pub(crate) origin: Origin,
    /// How many workers it had (threads, processes; 1 for a loop; 0 where
    /// unknown: a cluster's are whatever serves its URL).
    pub(crate) workers: usize,
    /// Its time per whole run, in milliseconds.
    pub(crate) ms: Figure,
    /// One recorded run, where the mode can be recorded.
    pub(crate) recorded: Option<Recorded>,
}

impl Mode {
    pub(crate) fn new(
        name: impl Into<String>,
        model: Model,
        origin: Origin,
        workers: usize,
        ms: impl Into<Figure>,
    ) -> Self {
        Self {
            name: name.into(),
            model,
            origin,
            workers,
            ms: ms.into(),
            recorded: None,
        }
    }

    pub(crate) fn recorded(mut self, recorded: Option<Recorded>) -> Self {
        self.recorded = recorded;
        self
    }
}

/// One run of a mode with a recorder on: its timeline and what it cost.
#[derive(Debug, Serialize)]
pub(crate) struct Recorded {
    pub(crate) wall_ms: f64,
    /// User + system CPU time of this process and of the worker processes
    /// it waited for; `None` where the system does not say.
    pub(crate) cpu_ms: Option<f64>,
    /// The tasks' run time summed over the lanes, over the wall time: how
    /// many workers were busy on average.
    pub(crate) busy_workers: f64,
    /// How many lanes the timeline has.
    pub(crate) lanes: usize,
    pub(crate) tasks: usize,
    #[serde(skip)]
    pub(crate) timeline: Timeline,
    /// The diagram's file name stem for `--timeline DIR` ("cpu-threads").
    pub(crate) stem: String,
    /// The diagram's title.
    pub(crate) title: String,
}

impl Recorded {
    /// Runs `work` with a new recorder, timing it and its CPU time; its
    /// value comes back beside the record.
    pub(crate) fn run<T, E>(
        stem: impl Into<String>,
        title: impl Into<String>,
        work: impl FnOnce(&Recorder) -> Result<T, E>,
    ) -> Result<(Self, T), E> {
        Self::measure(stem, title, Recorder::new(), work)
    }

    /// As [`run`](Self::run), with a recorder made beforehand: one already
    /// given to an executor whose start is not to be counted.
    pub(crate) fn measure<T, E>(
        stem: impl Into<String>,
        title: impl Into<String>,
        recorder: Recorder,
        work: impl FnOnce(&Recorder) -> Result<T, E>,
    ) -> Result<(Self, T), E> {
        let cpu_before = cpu_time();
        let start = Instant::now();
        let value = work(&recorder)?;
        let wall = start.elapsed();
        let cpu = cpu_before.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
        Ok((
            Self::new(stem, title, recorder.timeline(), wall, cpu),
            value,
        ))
    }

    fn new(
        stem: impl Into<String>,
        title: impl Into<String>,
        timeline: Timeline,
        wall: Duration,
        cpu: Option<Duration>,
    ) -> Self {
        let summary = timeline.summary();
        let busy: Duration = summary.workers.iter().map(|w| w.busy).sum();
        let wall_ms = wall.as_secs_f64() * 1e3;
        Self {
            wall_ms,
            cpu_ms: cpu.map(|c| c.as_secs_f64() * 1e3),
            busy_workers: if wall.is_zero() {
                0.0
            } else {
                busy.as_secs_f64() / wall.as_secs_f64()
            },
            lanes: summary.workers.len(),
            tasks: summary.tasks,
            timeline,
            stem: stem.into(),
            title: title.into(),
        }
    }

    /// CPU time over wall time: how many cores were busy on average.
    pub(crate) fn cores_busy(&self) -> Option<f64> {
        let cpu = self.cpu_ms?;
        (self.wall_ms > 0.0).then(|| cpu / self.wall_ms)
    }
}

/// The CPU time (user + system) of this process and of the children it
/// has waited for; `None` where the system does not say.
pub(crate) fn cpu_time() -> Option<Duration> {
    crate::sys::cpu_time()
        .ok()
        .map(|(own, children)| own + children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corun::trace::Outcome;

    #[test]
    fn cpu_time_counts_a_busy_loop() {
        let before = cpu_time().unwrap();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(150) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(cpu_time().unwrap() > before);
    }

    #[test]
    fn a_recorded_run_counts_busy_workers() {
        let recorded = Recorded::run("t", "t", |rec| {
            for lane in ["a", "b"] {
                let id = rec.submitted(lane);
                rec.started_on(id, lane);
                std::thread::sleep(Duration::from_millis(20));
                rec.finished(id, Outcome::Ok);
            }
            Ok::<_, ()>(())
        })
        .unwrap()
        .0;
        assert_eq!((recorded.lanes, recorded.tasks), (2, 2));
        // Two lanes, one after the other: about one busy at a time.
        assert!(
            (0.5..=1.0).contains(&recorded.busy_workers),
            "{}",
            recorded.busy_workers
        );
        // (Its CPU time is the whole test process's, other tests included.)
        assert!(recorded.cores_busy().is_some());
    }
}
