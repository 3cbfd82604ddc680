//! How a recorded [`Outcome`] is packed into a stamp.

pub use corun_concurrent::Outcome;

/// Every outcome, in code order (`code(&ALL[i]) == i`).
pub(crate) const ALL: [Outcome; 6] = [
    Outcome::Ok,
    Outcome::Failed,
    Outcome::Panicked,
    Outcome::Cancelled,
    Outcome::TimedOut,
    Outcome::WorkerDied,
];

/// A small number standing for the outcome in a packed stamp.
pub(crate) fn code(outcome: &Outcome) -> u64 {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Failed => 1,
        Outcome::Panicked => 2,
        Outcome::Cancelled => 3,
        Outcome::TimedOut => 4,
        Outcome::WorkerDied => 5,
    }
}

/// The outcome that `code` stands for (`None` for a code out of range).
pub(crate) fn from_code(code: u64) -> Option<Outcome> {
    usize::try_from(code).ok().and_then(|i| ALL.get(i)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for outcome in ALL {
            assert_eq!(from_code(code(&outcome)), Some(outcome.clone()));
        }
        assert_eq!(from_code(6), None);
    }
}
