//! [`Notification`]: one event of an observable, as a value.

use std::fmt;

use corun_core::Error;

/// One event of an observable as a value (RxPY: `OnNext`, `OnError`,
/// `OnCompleted`): what the [`TestScheduler`](crate::TestScheduler)
/// records and what marble tests compare.
///
/// Two errors are equal when their kinds and messages are.
#[derive(Clone)]
pub enum Notification<T> {
    /// An element.
    Next(T),
    /// The end, with an error.
    Error(Error),
    /// The end, without one.
    Completed,
}

impl<T> Notification<T> {
    /// Whether this ends the sequence.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Next(_))
    }
}

impl<T: PartialEq> PartialEq for Notification<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Next(a), Self::Next(b)) => a == b,
            (Self::Error(a), Self::Error(b)) => {
                a.kind() == b.kind() && a.to_string() == b.to_string()
            }
            (Self::Completed, Self::Completed) => true,
            _ => false,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Notification<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Next(value) => write!(f, "on_next({value:?})"),
            Self::Error(error) => write!(f, "on_error({error})"),
            Self::Completed => f.write_str("on_completed()"),
        }
    }
}
