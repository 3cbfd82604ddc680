//! `Timeline`: a snapshot of recorded tasks, and the lanes they ran on.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::task::TaskRecord;

/// A snapshot of recorded tasks, ordered by id, with the worker lanes they
/// ran on; export it with [`to_chrome_json`](Self::to_chrome_json),
/// [`to_svg`](Self::to_svg) or [`summary`](Self::summary).
///
/// # Examples
///
/// ```
/// use corun::trace::{Outcome, Recorder};
///
/// let rec = Recorder::new();
/// for i in 0..3 {
///     let id = rec.submitted(format!("step {i}"));
///     rec.started(id);
///     rec.finished(id, Outcome::Ok);
/// }
/// let timeline = rec.timeline();
/// assert_eq!(timeline.tasks().len(), 3);
/// assert_eq!(timeline.workers().len(), 1, "all ran on this thread");
/// assert!(timeline.to_svg("sequential").contains("step 2"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    tasks: Vec<TaskRecord>,
    workers: Vec<Cow<'static, str>>,
    end: Duration,
}

/// The latest time anything in `tasks` happened.
fn latest(tasks: &[TaskRecord]) -> Duration {
    tasks
        .iter()
        .flat_map(|t| [Some(t.submitted), t.started, t.finished])
        .flatten()
        .max()
        .unwrap_or_default()
}

/// The lanes of `tasks`, ordered by their first start (then by name).
fn lanes(tasks: &[TaskRecord]) -> Vec<Cow<'static, str>> {
    let mut first: HashMap<&Cow<'static, str>, Duration> = HashMap::new();
    for task in tasks {
        if let (Some(worker), Some(started)) = (&task.worker, task.started) {
            first
                .entry(worker)
                .and_modify(|t| *t = (*t).min(started))
                .or_insert(started);
        }
    }
    let mut lanes: Vec<_> = first.into_iter().collect();
    lanes.sort_by(|(a, ta), (b, tb)| ta.cmp(tb).then_with(|| a.cmp(b)));
    lanes.into_iter().map(|(name, _)| name.clone()).collect()
}

impl Timeline {
    /// A timeline of the given records (sorted here by id); it ends at the
    /// latest time in them. For timelines recorded elsewhere, and tests.
    ///
    /// ```
    /// use corun::trace::{Outcome, TaskId, TaskRecord, Timeline};
    /// use std::time::Duration;
    ///
    /// let ms = Duration::from_millis;
    /// let task = |id, worker: &'static str, start, end| TaskRecord {
    ///     id: TaskId::from_u64(id),
    ///     label: format!("t{id}").into(),
    ///     worker: Some(worker.into()),
    ///     submitted: ms(0),
    ///     started: Some(ms(start)),
    ///     finished: Some(ms(end)),
    ///     outcome: Some(Outcome::Ok),
    /// };
    /// let timeline = Timeline::from_records([task(1, "b", 5, 9), task(0, "a", 1, 4)]);
    /// assert_eq!(timeline.tasks()[0].id, TaskId::from_u64(0));
    /// assert_eq!(timeline.workers(), ["a", "b"]);
    /// assert_eq!(timeline.end(), ms(9));
    /// ```
    #[must_use]
    pub fn from_records(records: impl IntoIterator<Item = TaskRecord>) -> Self {
        let mut tasks: Vec<_> = records.into_iter().collect();
        tasks.sort_by_key(|t| t.id);
        let end = latest(&tasks);
        Self {
            workers: lanes(&tasks),
            tasks,
            end,
        }
    }

    /// A recorder's snapshot, taken at `taken`; `records` are sorted by id.
    pub(crate) fn snapshot(records: Vec<TaskRecord>, taken: Duration) -> Self {
        let mut timeline = Self::from_records(records);
        timeline.end = timeline.end.max(taken);
        timeline
    }

    /// The tasks, ordered by id; those whose submission was recorded.
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let id = rec.submitted("queued");
    /// let timeline = rec.timeline();
    /// assert_eq!(timeline.tasks()[0].id, id);
    /// assert_eq!(timeline.tasks()[0].started, None);
    /// ```
    #[must_use]
    pub fn tasks(&self) -> &[TaskRecord] {
        &self.tasks
    }

    /// The worker lanes tasks started on, ordered by each lane's first
    /// start (ties by name); exports draw them in this order.
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let a = rec.submitted("a");
    /// let b = rec.submitted("b");
    /// rec.started_on(b, "second");
    /// rec.started_on(a, "third");
    /// let _never_started = rec.submitted("c");
    /// assert_eq!(rec.timeline().workers(), ["second", "third"]);
    /// ```
    #[must_use]
    pub fn workers(&self) -> &[Cow<'static, str>] {
        &self.workers
    }

    /// When the timeline ends, relative to the recorder's origin: when the
    /// snapshot was taken (for a recorder's timeline), or the latest time
    /// in it. Tasks still running are drawn up to here.
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let id = rec.submitted("x");
    /// let timeline = rec.timeline();
    /// assert!(timeline.end() >= timeline.tasks()[0].submitted);
    /// # let _ = id;
    /// ```
    #[must_use]
    pub fn end(&self) -> Duration {
        self.end
    }

    /// Writes [`to_chrome_json`](Self::to_chrome_json) to `path`.
    ///
    /// # Errors
    ///
    /// Any error creating or writing the file.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("corun-trace-doc.json");
    /// corun::trace::Recorder::new().timeline().write_chrome_json(&path)?;
    /// assert!(std::fs::read_to_string(&path)?.contains("traceEvents"));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_chrome_json(&self, path: impl AsRef<Path>) -> io::Result<()> {
        fs::write(path, self.to_chrome_json())
    }

    /// Writes [`to_svg`](Self::to_svg) to `path`.
    ///
    /// # Errors
    ///
    /// Any error creating or writing the file.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("corun-trace-doc.svg");
    /// corun::trace::Recorder::new().timeline().write_svg(&path, "nothing yet")?;
    /// assert!(std::fs::read_to_string(&path)?.starts_with("<svg"));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_svg(&self, path: impl AsRef<Path>, title: &str) -> io::Result<()> {
        fs::write(path, self.to_svg(title))
    }

    /// Each lane's index in [`workers`](Self::workers), by name.
    pub(crate) fn lane_indices(&self) -> HashMap<&str, usize> {
        (self.workers.iter())
            .enumerate()
            .map(|(i, name)| (name.as_ref(), i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskId;

    fn started(id: u64, worker: &'static str, at: u64) -> TaskRecord {
        TaskRecord {
            id: TaskId::from_u64(id),
            label: "t".into(),
            worker: Some(worker.into()),
            submitted: Duration::ZERO,
            started: Some(Duration::from_micros(at)),
            finished: None,
            outcome: None,
        }
    }

    #[test]
    fn lanes_order_by_first_start_then_name() {
        let timeline = Timeline::from_records([
            started(0, "z", 5),
            started(1, "y", 1),
            started(2, "z", 0),
            started(3, "b", 1),
        ]);
        assert_eq!(timeline.workers(), ["z", "b", "y"]);
        assert_eq!(timeline.lane_indices()["y"], 2);
    }

    #[test]
    fn empty_timeline_has_no_lanes() {
        let timeline = Timeline::from_records([]);
        assert!(timeline.workers().is_empty());
        assert_eq!(timeline.end(), Duration::ZERO);
    }

    #[test]
    fn snapshot_end_is_at_least_when_taken() {
        let timeline = Timeline::snapshot(vec![started(0, "a", 3)], Duration::from_micros(10));
        assert_eq!(timeline.end(), Duration::from_micros(10));
    }
}
