//! [`Intake`]: an executor's queue of jobs and whether it still takes them
//! — the submit, shutdown and broken bookkeeping every executor shares.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::Mutex;

use crate::error::Error;

/// An executor's intake: the queue its workers take jobs from, open until
/// the executor is shut down or breaks.
///
/// It is the executor's life, written once for every executor (the thread
/// pool, the process pools, those still to come): [`submit`](Self::submit)
/// queues a job or says why not — broken first, then shut down, as
/// Python's executors check; [`close`](Self::close) stops taking jobs (and
/// can take back the queued ones, for `shutdown(cancel_futures=True)`);
/// [`break_with`](Self::break_with) records the first reason the executor
/// broke (Python's `BrokenExecutor`), closes it and hands back what was
/// queued, to be failed with that reason. Workers take jobs with
/// [`recv`](Self::recv) until the intake is closed and drained.
///
/// # Examples
///
/// ```
/// use corun::concurrent::{Error, Intake};
///
/// let intake = Intake::new();
/// intake.submit(1).unwrap();
/// intake.submit(2).unwrap();
/// let (error, queued) = intake.break_with(Error::broken("initializer failed"));
/// assert_eq!(queued, [1, 2]);
/// assert!(error.is_broken());
/// let (first, _) = intake.break_with(Error::broken("a later reason"));
/// assert_eq!(first.to_string(), error.to_string());
/// let refused = intake.submit(3).unwrap_err();
/// assert_eq!(refused.to_string(), "executor is broken: initializer failed");
/// ```
pub struct Intake<J> {
    /// `None` once closed: the queue is closed, and workers drain it.
    sender: Mutex<Option<Sender<J>>>,
    receiver: Receiver<J>,
    /// Set when the sender is taken: lets `check_open`, on every
    /// submission's path, answer without the lock.
    closed: AtomicBool,
    broken: OnceLock<Error>,
}

impl<J> Intake<J> {
    /// An open intake with nothing queued.
    pub fn new() -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        Self {
            sender: Mutex::new(Some(sender)),
            receiver,
            closed: AtomicBool::new(false),
            broken: OnceLock::new(),
        }
    }

    /// Whether jobs are still taken: not closed, not broken.
    ///
    /// # Errors
    ///
    /// The error that broke the executor ([`Error::is_broken`]), else a
    /// shut-down error ([`Error::is_shutdown`]) once it is closed.
    pub fn check_open(&self) -> Result<(), Error> {
        if let Some(error) = self.broken.get() {
            return Err(error.clone());
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::shut_down());
        }
        Ok(())
    }

    /// Queues `job` for the workers.
    ///
    /// # Errors
    ///
    /// As [`check_open`](Self::check_open); the job is dropped.
    pub fn submit(&self, job: J) -> Result<(), Error> {
        let sender = self.sender.lock();
        match sender.as_ref().map(|tx| tx.send(job)) {
            Some(Ok(())) => Ok(()),
            _ => {
                drop(sender);
                Err(self.check_open().err().unwrap_or_else(Error::shut_down))
            }
        }
    }

    /// Queues `job` only while the intake is open; a closed one drops it
    /// quietly (for the executor's own messages to its workers).
    pub fn nudge(&self, job: J) {
        if let Some(sender) = &*self.sender.lock() {
            let _ = sender.send(job);
        }
    }

    /// Stops taking jobs; the queued ones stay for the workers, unless
    /// `take_queued`, which hands them back (to be cancelled, say).
    pub fn close(&self, take_queued: bool) -> Vec<J> {
        let sender = self.take_sender();
        let queued = if take_queued {
            self.drain()
        } else {
            Vec::new()
        };
        drop(sender);
        queued
    }

    /// Breaks the executor with `error` — the first reason given stays —,
    /// closes the intake and hands back the error it is broken with and the
    /// jobs still queued, to be failed with it.
    pub fn break_with(&self, error: Error) -> (Error, Vec<J>) {
        let broken = self.broken.get_or_init(|| error).clone();
        drop(self.take_sender());
        (broken, self.drain())
    }

    /// The error the executor broke with, if it did.
    pub fn broken(&self) -> Option<&Error> {
        self.broken.get()
    }

    /// Whether the intake was closed (or broken).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The next job, waiting for one; `None` once the intake is closed and
    /// drained.
    pub fn recv(&self) -> Option<J> {
        self.receiver.recv().ok()
    }

    /// The next job if one is queued now: `Ok(None)` when none is, `Err`
    /// once the intake is closed and drained.
    #[allow(clippy::result_unit_err)]
    pub fn try_recv(&self) -> Result<Option<J>, ()> {
        match self.receiver.try_recv() {
            Ok(job) => Ok(Some(job)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(()),
        }
    }

    /// How many jobs are queued.
    pub fn len(&self) -> usize {
        self.receiver.len()
    }

    /// Whether no job is queued.
    pub fn is_empty(&self) -> bool {
        self.receiver.is_empty()
    }

    /// The receiving end, for workers that wait on it beside other
    /// channels (`crossbeam_channel::select!`).
    pub fn receiver(&self) -> &Receiver<J> {
        &self.receiver
    }

    fn take_sender(&self) -> Option<Sender<J>> {
        let sender = self.sender.lock().take();
        self.closed.store(true, Ordering::Release);
        sender
    }

    fn drain(&self) -> Vec<J> {
        self.receiver.try_iter().collect()
    }
}

impl<J> Default for Intake<J> {
    fn default() -> Self {
        Self::new()
    }
}

impl<J> fmt::Debug for Intake<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intake")
            .field("queued", &self.receiver.len())
            .field("closed", &self.is_closed())
            .field("broken", &self.broken.get())
            .finish()
    }
}
