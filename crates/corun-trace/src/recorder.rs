//! `Recorder`: where executors report their tasks' lives.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::buffer::{Buffers, Placement, Stamp, Submission};
use crate::merge::Merged;
use crate::outcome::Outcome;
use crate::task::TaskId;
use crate::timeline::Timeline;

/// Records when tasks are submitted, start and finish, and on which worker.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`: an executor keeps an
/// `Option<Recorder>` and hands clones to its workers. Each thread writes
/// its events to a buffer of its own (a thread-local lookup, an uncontended
/// lock and a 16- to 40-byte push, plus reading the clock), so workers
/// never contend with each other; [`timeline`](Self::timeline) merges the
/// buffers.
///
/// Task ids are meaningful only to the recorder that issued them; events
/// for ids it never issued are ignored.
///
/// # Examples
///
/// ```
/// use corun::trace::{Outcome, Recorder};
///
/// let rec = Recorder::new();
/// let workers: Vec<_> = (0..2)
///     .map(|w| {
///         let rec = rec.clone();
///         let ids: Vec<_> = (0..3).map(|i| rec.submitted(format!("job {w}.{i}"))).collect();
///         std::thread::Builder::new()
///             .name(format!("worker-{w}"))
///             .spawn(move || {
///                 for id in ids {
///                     rec.started(id);
///                     rec.finished(id, Outcome::Ok);
///                 }
///             })
///             .unwrap()
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// let timeline = rec.timeline();
/// assert_eq!(timeline.tasks().len(), 6);
/// assert_eq!(timeline.workers().len(), 2);
/// ```
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
}

/// What every clone of a recorder shares.
struct Shared {
    /// Time zero: every recorded time is measured from here.
    origin: Instant,
    /// The next task id to hand out.
    next_task: AtomicU64,
    /// Per-thread logs of events not yet merged.
    buffers: Buffers,
    /// Events merged so far.
    merged: Mutex<Merged>,
}

impl Recorder {
    /// A recorder with nothing recorded; its time origin is now.
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// assert!(rec.timeline().tasks().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                origin: Instant::now(),
                next_task: AtomicU64::new(0),
                buffers: Buffers::new(),
                merged: Mutex::new(Merged::default()),
            }),
        }
    }

    /// Records a submission; returns the task's id (unique per recorder,
    /// increasing).
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let a = rec.submitted("static label");
    /// let b = rec.submitted(format!("task {}", 2));
    /// assert!(b > a);
    /// assert_eq!(rec.timeline().tasks()[1].label, "task 2");
    /// ```
    #[must_use = "the id is needed to record the task's start and finish"]
    pub fn submitted(&self, label: impl Into<Cow<'static, str>>) -> TaskId {
        let label = label.into();
        let task = self.shared.next_task.fetch_add(1, Ordering::Relaxed);
        let at = self.shared.now();
        self.shared
            .buffers
            .with_log(|log| log.submissions.push(Submission { task, at, label }));
        TaskId::from_u64(task)
    }

    /// The task starts running on the calling thread; its worker lane is
    /// the current thread's name (or `thread <id>` if unnamed).
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let id = rec.submitted("job");
    /// std::thread::Builder::new()
    ///     .name("worker-0".into())
    ///     .spawn({
    ///         let rec = rec.clone();
    ///         move || rec.started(id)
    ///     })
    ///     .unwrap()
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rec.timeline().tasks()[0].worker.as_deref(), Some("worker-0"));
    /// ```
    pub fn started(&self, id: TaskId) {
        let at = self.shared.now();
        self.shared
            .buffers
            .with_log(|log| log.stamps.push(Stamp::started(id.as_u64(), at)));
    }

    /// The task starts running on an explicitly named worker lane (used by
    /// process pools: `"pid 1234"`).
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let id = rec.submitted("job");
    /// rec.started_on(id, "pid 1234");
    /// assert_eq!(rec.timeline().workers(), ["pid 1234"]);
    /// ```
    pub fn started_on(&self, id: TaskId, worker: impl Into<Cow<'static, str>>) {
        let worker = worker.into();
        let at = self.shared.now();
        self.shared.buffers.with_log(|log| {
            log.placements.push(Placement {
                task: id.as_u64(),
                at,
                worker,
            });
        });
    }

    /// The task finished with `outcome` (on any thread).
    ///
    /// ```
    /// use corun::trace::{Outcome, Recorder};
    ///
    /// let rec = Recorder::new();
    /// let id = rec.submitted("job");
    /// rec.started(id);
    /// rec.finished(id, Outcome::Panicked);
    /// let timeline = rec.timeline();
    /// let task = &timeline.tasks()[0];
    /// assert_eq!(task.outcome, Some(Outcome::Panicked));
    /// assert!(task.finished.is_some());
    /// ```
    pub fn finished(&self, id: TaskId, outcome: Outcome) {
        let at = self.shared.now();
        self.shared
            .buffers
            .with_log(|log| log.stamps.push(Stamp::finished(id.as_u64(), at, &outcome)));
    }

    /// A snapshot of everything recorded so far, tasks ordered by id.
    ///
    /// Events recorded while the snapshot is taken may or may not be in
    /// it; a task appears once its submission is. Taking a snapshot merges
    /// the threads' buffers, so later snapshots start from there.
    ///
    /// ```
    /// let rec = corun::trace::Recorder::new();
    /// let first = rec.submitted("a");
    /// assert_eq!(rec.timeline().tasks().len(), 1);
    /// let _second = rec.submitted("b");
    /// let timeline = rec.timeline();
    /// assert_eq!(timeline.tasks().len(), 2);
    /// assert_eq!(timeline.tasks()[0].id, first);
    /// ```
    #[must_use]
    pub fn timeline(&self) -> Timeline {
        let shared = &self.shared;
        let mut merged = shared.merged.lock();
        let logs = shared.buffers.drain();
        // Loaded after the drain: every id in the logs was issued before
        // its event was pushed, so it is below this.
        let issued = shared.next_task.load(Ordering::Relaxed);
        for (log, lane) in logs {
            merged.absorb(log, lane, issued);
        }
        let records = merged.records();
        drop(merged);
        Timeline::snapshot(records, shared.origin.elapsed())
    }
}

impl Shared {
    /// Nanoseconds since the origin.
    fn now(&self) -> u64 {
        let elapsed = self.origin.elapsed();
        elapsed
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(elapsed.subsec_nanos()))
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("id", &self.shared.buffers.recorder())
            .field("submitted", &self.shared.next_task.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A recorder is the timeline's observer: give it to an executor's builder
/// (`recorder(rec.clone())`) and every task lands on the timeline.
impl corun_concurrent::Observer for Recorder {
    fn submitted(&self, label: Cow<'static, str>) -> TaskId {
        Recorder::submitted(self, label)
    }

    fn started(&self, task: TaskId, worker: Option<Cow<'static, str>>) {
        match worker {
            Some(worker) => self.started_on(task, worker),
            None => Recorder::started(self, task),
        }
    }

    fn finished(&self, task: TaskId, outcome: Outcome) {
        Recorder::finished(self, task, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_timeline() {
        let rec = Recorder::new();
        let id = rec.clone().submitted("x");
        rec.clone().started(id);
        rec.finished(id, Outcome::Cancelled);
        let tasks = rec.timeline().tasks().to_vec();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].outcome, Some(Outcome::Cancelled));
    }

    #[test]
    fn ids_of_another_recorder_are_ignored() {
        let a = Recorder::new();
        let b = Recorder::new();
        let _ = a.submitted("a0");
        let foreign = a.submitted("a1");
        b.started(foreign);
        assert!(b.timeline().tasks().is_empty());
    }

    #[test]
    fn debug_shows_submissions() {
        let rec = Recorder::new();
        let _ = rec.submitted("x");
        let debug = format!("{rec:?}");
        assert!(debug.contains("submitted: 1"), "{debug}");
    }

    #[test]
    fn snapshots_accumulate() {
        let rec = Recorder::new();
        let a = rec.submitted("a");
        let first = rec.timeline();
        rec.started(a);
        rec.finished(a, Outcome::Ok);
        let second = rec.timeline();
        assert_eq!(first.tasks()[0].started, None);
        assert!(second.tasks()[0].finished.is_some());
        assert_eq!(second.tasks()[0].submitted, first.tasks()[0].submitted);
    }
}
