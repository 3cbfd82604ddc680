//! `TaskId` and `TaskRecord`: one task's identity and its merged timeline.

use std::borrow::Cow;
use std::time::Duration;

use crate::outcome::Outcome;

pub use corun_concurrent::TaskId;

/// Everything recorded about one task; times are relative to the recorder's
/// origin (when it was created).
///
/// # Examples
///
/// ```
/// use corun::trace::{Outcome, Recorder};
///
/// let rec = Recorder::new();
/// let id = rec.submitted("load");
/// rec.started_on(id, "pid 1234");
/// rec.finished(id, Outcome::Ok);
/// let timeline = rec.timeline();
/// let task = &timeline.tasks()[0];
/// assert_eq!(task.label, "load");
/// assert_eq!(task.worker.as_deref(), Some("pid 1234"));
/// assert!(task.submitted <= task.started.unwrap());
/// assert!(task.started <= task.finished);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRecord {
    /// The task's id.
    pub id: TaskId,
    /// The label given at submission.
    pub label: Cow<'static, str>,
    /// The worker lane it ran on (`None` until it started).
    pub worker: Option<Cow<'static, str>>,
    /// When it was submitted.
    pub submitted: Duration,
    /// When it started running (`None` if it never did).
    pub started: Option<Duration>,
    /// When it finished (`None` if it has not).
    pub finished: Option<Duration>,
    /// How it ended (`None` if it has not).
    pub outcome: Option<Outcome>,
}

impl TaskRecord {
    /// How long the task waited between submission and start (`None` if it
    /// never started).
    ///
    /// ```
    /// use corun::trace::{TaskId, TaskRecord};
    /// use std::time::Duration;
    ///
    /// let ms = Duration::from_millis;
    /// let task = TaskRecord {
    ///     id: TaskId::from_u64(0),
    ///     label: "job".into(),
    ///     worker: Some("w0".into()),
    ///     submitted: ms(1),
    ///     started: Some(ms(4)),
    ///     finished: None,
    ///     outcome: None,
    /// };
    /// assert_eq!(task.queue_wait(), Some(ms(3)));
    /// ```
    #[must_use]
    pub fn queue_wait(&self) -> Option<Duration> {
        self.started
            .map(|started| started.saturating_sub(self.submitted))
    }

    /// How long the task ran (`None` unless it both started and finished).
    ///
    /// ```
    /// use corun::trace::{Outcome, TaskId, TaskRecord};
    /// use std::time::Duration;
    ///
    /// let ms = Duration::from_millis;
    /// let task = TaskRecord {
    ///     id: TaskId::from_u64(0),
    ///     label: "job".into(),
    ///     worker: Some("w0".into()),
    ///     submitted: ms(0),
    ///     started: Some(ms(2)),
    ///     finished: Some(ms(7)),
    ///     outcome: Some(Outcome::Ok),
    /// };
    /// assert_eq!(task.run_time(), Some(ms(5)));
    /// ```
    #[must_use]
    pub fn run_time(&self) -> Option<Duration> {
        match (self.started, self.finished) {
            (Some(started), Some(finished)) => Some(finished.saturating_sub(started)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_id_displays_with_hash() {
        assert_eq!(TaskId::from_u64(42).to_string(), "#42");
    }

    #[test]
    fn run_time_needs_both_ends() {
        let task = TaskRecord {
            id: TaskId::from_u64(0),
            label: "x".into(),
            worker: None,
            submitted: Duration::ZERO,
            started: None,
            finished: Some(Duration::from_secs(1)),
            outcome: None,
        };
        assert_eq!(task.run_time(), None);
        assert_eq!(task.queue_wait(), None);
    }
}
