//! Merging per-thread logs into one record per task.
//!
//! Logs arrive in no particular order (one per thread, drained at different
//! moments), so a task's start may be merged before its submission: a
//! partial record waits, and only tasks whose submission has been merged
//! appear in a timeline. When a task is started (or finished) more than
//! once, the latest time wins.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use crate::buffer::{Log, StampKind};
use crate::outcome::Outcome;
use crate::task::{TaskId, TaskRecord};

/// Every task's merged events so far, indexed by task id.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    tasks: Vec<Partial>,
    /// Lane names, interned: `Partial::worker` indexes this.
    lanes: Vec<Cow<'static, str>>,
    lane_index: HashMap<Cow<'static, str>, u32>,
}

/// What has been merged about one task.
#[derive(Debug, Default)]
struct Partial {
    label: Option<Cow<'static, str>>,
    submitted: Option<u64>,
    started: Option<u64>,
    worker: Option<u32>,
    finished: Option<u64>,
    outcome: Option<Outcome>,
}

/// Nanoseconds to a `Duration`.
fn nanos(n: u64) -> Duration {
    Duration::from_nanos(n)
}

impl Merged {
    /// Merges one thread's log; `lane` is that thread's lane, and ids at or
    /// above `issued` (never handed out by this recorder) are ignored.
    pub(crate) fn absorb(&mut self, log: Log, lane: Cow<'static, str>, issued: u64) {
        for s in log.submissions {
            if let Some(task) = self.slot(s.task, issued) {
                task.submitted = Some(s.at);
                task.label = Some(s.label);
            }
        }
        // Interned even if unused: lanes here are only a lookup table.
        let own_lane = self.intern(lane);
        for stamp in log.stamps {
            let Some(kind) = stamp.kind() else { continue };
            match kind {
                StampKind::Started => {
                    if let Some(task) = self.slot(stamp.task, issued) {
                        task.start(stamp.at(), own_lane);
                    }
                }
                StampKind::Finished(outcome) => {
                    if let Some(task) = self.slot(stamp.task, issued) {
                        if task.finished.is_none_or(|f| f <= stamp.at()) {
                            task.finished = Some(stamp.at());
                            task.outcome = Some(outcome);
                        }
                    }
                }
            }
        }
        for p in log.placements {
            let lane = self.intern(p.worker);
            if let Some(task) = self.slot(p.task, issued) {
                task.start(p.at, lane);
            }
        }
    }

    /// A record for every task whose submission has been merged, by id.
    pub(crate) fn records(&self) -> Vec<TaskRecord> {
        let mut records = Vec::with_capacity(self.tasks.len());
        for (id, task) in (0_u64..).zip(&self.tasks) {
            let (Some(submitted), Some(label)) = (task.submitted, &task.label) else {
                continue;
            };
            records.push(TaskRecord {
                id: TaskId::from_u64(id),
                label: label.clone(),
                worker: task.worker.map(|lane| self.lanes[lane as usize].clone()),
                submitted: nanos(submitted),
                started: task.started.map(nanos),
                finished: task.finished.map(nanos),
                outcome: task.outcome.clone(),
            });
        }
        records
    }

    /// The partial record of `task`, grown into if need be; `None` for an
    /// id this recorder never issued.
    fn slot(&mut self, task: u64, issued: u64) -> Option<&mut Partial> {
        if task >= issued {
            return None;
        }
        let index = usize::try_from(task).ok()?;
        if index >= self.tasks.len() {
            self.tasks.resize_with(index + 1, Partial::default);
        }
        self.tasks.get_mut(index)
    }

    /// The index of lane `name`, adding it if new.
    fn intern(&mut self, name: Cow<'static, str>) -> u32 {
        if let Some(&index) = self.lane_index.get(name.as_ref()) {
            return index;
        }
        let index = u32::try_from(self.lanes.len()).unwrap_or(u32::MAX);
        self.lanes.push(name.clone());
        self.lane_index.insert(name, index);
        index
    }
}

impl Partial {
    fn start(&mut self, at: u64, lane: u32) {
        if self.started.is_none_or(|s| s <= at) {
            self.started = Some(at);
            self.worker = Some(lane);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::{Placement, Stamp, Submission};

    fn lane(name: &'static str) -> Cow<'static, str> {
        Cow::Borrowed(name)
    }

    #[test]
    fn start_before_submission_waits_for_it() {
        let mut merged = Merged::default();
        let mut worker = Log::default();
        worker.stamps.push(Stamp::started(0, 20));
        worker.stamps.push(Stamp::finished(0, 30, &Outcome::Ok));
        merged.absorb(worker, lane("w"), 1);
        assert!(merged.records().is_empty(), "not submitted yet");

        let mut submitter = Log::default();
        submitter.submissions.push(Submission {
            task: 0,
            at: 10,
            label: lane("job"),
        });
        merged.absorb(submitter, lane("main"), 1);
        let records = merged.records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].worker.as_deref(), Some("w"));
        assert_eq!(records[0].started, Some(nanos(20)));
        assert_eq!(records[0].outcome, Some(Outcome::Ok));
    }

    #[test]
    fn latest_start_wins_and_unknown_ids_are_ignored() {
        let mut merged = Merged::default();
        let mut log = Log::default();
        log.submissions.push(Submission {
            task: 0,
            at: 0,
            label: lane("retried"),
        });
        log.placements.push(Placement {
            task: 0,
            at: 50,
            worker: lane("pid 2"),
        });
        log.stamps.push(Stamp::started(0, 40));
        log.stamps.push(Stamp::started(99, 1));
        merged.absorb(log, lane("pid 1"), 1);
        let records = merged.records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].worker.as_deref(), Some("pid 2"));
        assert_eq!(records[0].started, Some(nanos(50)));
    }
}
