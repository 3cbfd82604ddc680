//! `Summary`: a timeline in a few numbers.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::timeline::Timeline;
use crate::units::Human;

/// A timeline in a few numbers: wall time, per-worker load, queue waits.
///
/// Only finished tasks count towards a worker's busy time; every task
/// counts in `tasks`, started or not. Percentiles are nearest-rank over the
/// tasks that started.
///
/// # Examples
///
/// ```
/// use corun::trace::{Outcome, Recorder};
///
/// let rec = Recorder::new();
/// let id = rec.submitted("only");
/// rec.started(id);
/// rec.finished(id, Outcome::Ok);
/// let _never_started = rec.submitted("queued");
/// let summary = rec.timeline().summary();
/// assert_eq!(summary.tasks, 2);
/// assert_eq!(summary.workers.len(), 1);
/// assert_eq!(summary.workers[0].tasks, 1);
/// assert!(summary.to_string().contains("2 tasks"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// From the first submission to the last finish (zero if nothing
    /// finished).
    pub wall: Duration,
    /// How many tasks were submitted.
    pub tasks: usize,
    /// One entry per worker lane, in the timeline's lane order.
    pub workers: Vec<WorkerSummary>,
    /// The median wait between submission and start.
    pub queue_wait_p50: Duration,
    /// The 99th percentile of that wait.
    pub queue_wait_p99: Duration,
}

/// One worker lane's share of a [`Summary`].
///
/// # Examples
///
/// ```
/// use corun::trace::{Outcome, Recorder};
///
/// let rec = Recorder::new();
/// let id = rec.submitted("job");
/// rec.started_on(id, "pid 7");
/// rec.finished(id, Outcome::Ok);
/// let worker = &rec.timeline().summary().workers[0];
/// assert_eq!(worker.name, "pid 7");
/// assert_eq!(worker.tasks, 1);
/// assert!((0.0..=1.0).contains(&worker.utilisation));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerSummary {
    /// The lane's name.
    pub name: Cow<'static, str>,
    /// How many tasks started on it.
    pub tasks: usize,
    /// The total run time of its finished tasks.
    pub busy: Duration,
    /// `busy / wall`, within `0.0..=1.0` (zero when `wall` is).
    pub utilisation: f64,
}

/// The nearest-rank `per_mille`/1000 percentile of sorted `values`.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

impl Timeline {
    /// The timeline in a few numbers; see [`Summary`].
    ///
    /// ```
    /// let summary = corun::trace::Recorder::new().timeline().summary();
    /// assert_eq!(summary.tasks, 0);
    /// assert_eq!(summary.wall, std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn summary(&self) -> Summary {
        let tasks = self.tasks();
        let first_submit = tasks.iter().map(|t| t.submitted).min();
        let last_finish = tasks.iter().filter_map(|t| t.finished).max();
        let wall = match (first_submit, last_finish) {
            (Some(first), Some(last)) => last.saturating_sub(first),
            _ => Duration::ZERO,
        };

        let lanes = self.lane_indices();
        let mut workers: Vec<WorkerSummary> = (self.workers().iter())
            .map(|name| WorkerSummary {
                name: name.clone(),
                tasks: 0,
                busy: Duration::ZERO,
                utilisation: 0.0,
            })
            .collect();
        for task in tasks {
            let lane = task.worker.as_deref().and_then(|w| lanes.get(w));
            if let (Some(&lane), Some(_)) = (lane, task.started) {
                workers[lane].tasks += 1;
                workers[lane].busy += task.run_time().unwrap_or_default();
            }
        }
        for worker in &mut workers {
            if !wall.is_zero() {
                worker.utilisation = (worker.busy.as_secs_f64() / wall.as_secs_f64()).min(1.0);
            }
        }

        let mut waits: Vec<Duration> = tasks.iter().filter_map(|t| t.queue_wait()).collect();
        waits.sort_unstable();
        Summary {
            wall,
            tasks: tasks.len(),
            workers,
            queue_wait_p50: percentile(&waits, 500),
            queue_wait_p99: percentile(&waits, 990),
        }
    }
}

impl fmt::Display for Summary {
    /// A small table: a headline, then one row per worker.
    ///
    /// ```text
    /// 8 tasks on 2 workers in 41.3 ms; queue wait p50 10.2 ms, p99 30.5 ms
    /// worker     tasks       busy   util
    /// worker-0       4    40.1 ms  97.1%
    /// worker-1       4    39.8 ms  96.4%
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        writeln!(
            f,
            "{} task{} on {} worker{} in {}; queue wait p50 {}, p99 {}",
            self.tasks,
            plural(self.tasks),
            self.workers.len(),
            plural(self.workers.len()),
            Human(self.wall),
            Human(self.queue_wait_p50),
            Human(self.queue_wait_p99),
        )?;
        let width = (self.workers.iter())
            .map(|w| w.name.chars().count())
            .chain([6])
            .max()
            .unwrap_or(6);
        write!(
            f,
            "{:<width$}  {:>5}  {:>9}  {:>6}",
            "worker", "tasks", "busy", "util"
        )?;
        for w in &self.workers {
            let util = format!("{:.1}%", w.utilisation * 100.0);
            let busy = Human(w.busy).to_string();
            write!(
                f,
                "\n{:<width$}  {:>5}  {:>9}  {:>6}",
                w.name, w.tasks, busy, util
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d = Duration::from_millis;
        let sorted: Vec<_> = (1..=4).map(d).collect();
        assert_eq!(percentile(&sorted, 500), d(2));
        assert_eq!(percentile(&sorted, 990), d(4));
        assert_eq!(percentile(&[], 500), Duration::ZERO);
        assert_eq!(percentile(&[d(9)], 990), d(9));
        let hundred: Vec<_> = (1..=100).map(d).collect();
        assert_eq!(percentile(&hundred, 500), d(50));
        assert_eq!(percentile(&hundred, 990), d(99));
    }

    #[test]
    fn display_of_an_empty_summary() {
        let text = Timeline::from_records([]).summary().to_string();
        assert!(text.starts_with("0 tasks on 0 workers in 0 ns"), "{text}");
        assert_eq!(text.lines().count(), 2);
    }
}
