//! Helping while waiting: a pool thread that blocks on a task runs its
//! pool's queued tasks meanwhile, as a rayon thread does in `join`.
//!
//! A thread pool worker registers its pool here for as long as it lives
//! ([`Registered`]). Every blocking wait on tasks — [`Task::wait`] and
//! `result` (with or without a time-out), [`wait`], [`as_completed`] and
//! `map` — waits on a [`Signal`](crate::signal::Signal), which, on such a
//! thread, asks the pool for queued jobs and runs them until what it waits
//! for is done. So a task that submits sub-tasks to its own pool
//! and waits for them cannot deadlock the pool: when every worker waits,
//! the waiting workers run the sub-tasks themselves.
//!
//! What helping cannot untie, and still deadlocks (the docs of
//! [`ThreadPoolExecutor`](crate::ThreadPoolExecutor) say so too):
//!
//! - a wait on anything but a task — a lock, an event, a queue, a channel —
//!   for something only a queued task will do: no helping happens there;
//! - a task run while helping that needs what the waiting task holds (a
//!   lock it took before it waited): both are on one thread's stack, and
//!   the helped one can never get it.
//!
//! A helped task runs to its end before the wait looks again, so a wait
//! with a time-out can return late by the rest of the task it was running
//! when the time ran out.
//!
//! [`Task::wait`]: crate::Task::wait
//! [`wait`]: crate::wait()
//! [`as_completed`]: crate::as_completed()

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

/// A pool whose queued jobs a waiting thread can run.
pub(crate) trait Helper: Send + Sync {
    /// Runs one queued job, waiting for one until `bell` rings or the
    /// deadline passes.
    fn help_once(&self, bell: &Receiver<()>, deadline: Option<Instant>) -> Helped;
}

/// What one round of helping did.
pub(crate) enum Helped {
    /// Ran a job: look again whether the wait is over.
    Ran,
    /// The bell rang: something waited for may be done.
    Rang,
    /// Nothing more to do here: the deadline passed, or the pool is shut
    /// down and drained. The caller waits as any thread would.
    Stop,
}

thread_local! {
    /// The pool this thread works for, while it does.
    static POOL: RefCell<Option<Arc<dyn Helper>>> = const { RefCell::new(None) };
}

/// Registers `pool` as this thread's pool until the returned guard drops.
pub(crate) fn register(pool: Arc<dyn Helper>) -> Registered {
    let previous = POOL.with(|p| p.replace(Some(pool)));
    Registered { previous }
}

/// Puts back the pool registered before, when a pool thread's loop ends.
pub(crate) struct Registered {
    previous: Option<Arc<dyn Helper>>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // During thread teardown the slot may already be gone.
        let _ = POOL.try_with(|p| p.replace(previous));
    }
}

/// Whether this thread belongs to a pool it can help.
pub(crate) fn can_help() -> bool {
    POOL.try_with(|p| p.borrow().is_some()).unwrap_or(false)
}

/// On a pool thread, runs the pool's queued jobs until `ready` says the
/// wait is over or the deadline passes; elsewhere, returns at once.
/// `ready` is given a bell to ring (once, from any thread) when it may
/// have become ready; it must check and arm it atomically, so that no ring
/// is lost between the two.
pub(crate) fn help_until(mut ready: impl FnMut(&Sender<()>) -> bool, deadline: Option<Instant>) {
    let Some(pool) = POOL.try_with(|p| p.borrow().clone()).ok().flatten() else {
        return;
    };
    let (bell, rung) = crossbeam_channel::bounded(1);
    while !ready(&bell) {
        match pool.help_once(&rung, deadline) {
            Helped::Ran | Helped::Rang => {}
            Helped::Stop => return,
        }
    }
}
