//! `Outcome`: how a task ended.

use std::fmt;

/// How a task ended: the last thing an executor records about it.
///
/// # Examples
///
/// ```
/// use corun::trace::{Outcome, Recorder};
///
/// let rec = Recorder::new();
/// let id = rec.submitted("parse");
/// rec.started(id);
/// rec.finished(id, Outcome::Failed);
/// assert_eq!(rec.timeline().tasks()[0].outcome, Some(Outcome::Failed));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The task returned a value.
    Ok,
    /// The task returned an error.
    Failed,
    /// The task panicked (Python: raised an exception that escaped).
    Panicked,
    /// The task was cancelled before it completed.
    Cancelled,
    /// The task ran past its deadline.
    TimedOut,
    /// The worker running the task died (a process pool's child exited).
    WorkerDied,
}

/// Every outcome, in code order (`ALL[i].code() == i`).
pub(crate) const ALL: [Outcome; 6] = [
    Outcome::Ok,
    Outcome::Failed,
    Outcome::Panicked,
    Outcome::Cancelled,
    Outcome::TimedOut,
    Outcome::WorkerDied,
];

impl Outcome {
    /// The outcome's name in snake case, as written in exports.
    ///
    /// ```
    /// assert_eq!(corun::trace::Outcome::TimedOut.as_str(), "timed_out");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Panicked => "panicked",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
            Self::WorkerDied => "worker_died",
        }
    }

    /// A small number standing for the outcome in a packed stamp.
    pub(crate) fn code(&self) -> u64 {
        match self {
            Self::Ok => 0,
            Self::Failed => 1,
            Self::Panicked => 2,
            Self::Cancelled => 3,
            Self::TimedOut => 4,
            Self::WorkerDied => 5,
        }
    }

    /// The outcome that `code` stands for (`None` for a code out of range).
    pub(crate) fn from_code(code: u64) -> Option<Self> {
        usize::try_from(code).ok().and_then(|i| ALL.get(i)).cloned()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for outcome in ALL {
            assert_eq!(Outcome::from_code(outcome.code()), Some(outcome.clone()));
        }
        assert_eq!(Outcome::from_code(6), None);
    }
}
