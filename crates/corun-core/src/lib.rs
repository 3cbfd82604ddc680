//! What every corun crate shares: the one [`Error`] type with its
//! [`ErrorKind`], time-outs as deadlines ([`deadline`]) and panic payloads
//! as text ([`panic`](mod@panic)).
//!
//! This crate is the floor of the corun workspace, in the way `rayon-core`
//! sits under `rayon`: every other corun crate depends on it, and it
//! depends on nothing. Users name its types through the facade,
//! [`corun::Error`](https://docs.rs/corun/latest/corun/struct.Error.html)
//! and `corun::ErrorKind`; each module re-exports the same type
//! (`corun::threading::Error`, `corun::concurrent::Error`,
//! `corun::multiprocessing::Error` are one type), so an error from a thread
//! pool and one from a process pool are matched the same way.
//!
//! | Python exception                        | [`ErrorKind`]                    |
//! |-----------------------------------------|----------------------------------|
//! | `TimeoutError`                          | [`Timeout`](ErrorKind::Timeout), [`TaskTimeout`](ErrorKind::TaskTimeout) |
//! | `CancelledError`                        | [`Cancelled`](ErrorKind::Cancelled) |
//! | an exception raised by the task         | [`Panicked`](ErrorKind::Panicked), [`Remote`](ErrorKind::Remote) |
//! | `RuntimeError('cannot schedule new futures after shutdown')` | [`ShutDown`](ErrorKind::ShutDown) |
//! | `BrokenExecutor`, `BrokenProcessPool`   | [`Broken`](ErrorKind::Broken), [`WorkerDied`](ErrorKind::WorkerDied) |
//! | `OSError` from `Process.start()`        | [`ProcessStart`](ErrorKind::ProcessStart) |
//! | `BrokenBarrierError`                    | [`BrokenBarrier`](ErrorKind::BrokenBarrier) |
//! | `ValueError`                            | [`InvalidArgument`](ErrorKind::InvalidArgument), [`OverRelease`](ErrorKind::OverRelease), [`TaskDoneTooMany`](ErrorKind::TaskDoneTooMany) |
//! | `RuntimeError` (start twice, join self) | [`AlreadyStarted`](ErrorKind::AlreadyStarted), [`Deadlock`](ErrorKind::Deadlock) |
//! | `InvalidStateError`                     | [`InvalidState`](ErrorKind::InvalidState) |
//! | `PicklingError`                         | [`Serialization`](ErrorKind::Serialization) |
//! | `OSError`, `FileNotFoundError`, `FileExistsError` | [`Io`](ErrorKind::Io), [`NotFound`](ErrorKind::NotFound), [`AlreadyExists`](ErrorKind::AlreadyExists) |
//! | `IndexError`                            | [`IndexOutOfRange`](ErrorKind::IndexOutOfRange) |
//! | `EOFError` (a closed connection)        | [`Closed`](ErrorKind::Closed)    |
//! | `ExceptionGroup`                        | [`Group`](ErrorKind::Group), with [`Error::errors`] |

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod deadline;
mod error;
pub mod panic;

pub use error::{Error, ErrorKind, Result};
