//! The one thread that starts every worker process.
//!
//! A worker asks the kernel to kill it when its parent dies
//! (`PR_SET_PDEATHSIG`). Linux counts the *thread* that forked a child as
//! its parent: a worker started from a short-lived thread (a test's
//! thread, a scoped thread, a pool's helper) would be killed when that
//! thread ends, with the process alive. So every worker is started from
//! this thread, which lives as long as the process.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;

use parking_lot::Mutex;

/// A command to start, and where to send the child.
type Job = (Command, mpsc::SyncSender<io::Result<Child>>);

/// The spawner's queue, started on first use.
static SPAWNER: Mutex<Option<mpsc::Sender<Job>>> = Mutex::new(None);

/// Starts `command` from the spawner thread and returns the child. The
/// command is dropped there too, closing this process's copies of the
/// descriptors it hands to the child.
///
/// # Errors
///
/// When the spawner thread cannot be started, or the command cannot.
pub(crate) fn spawn(command: Command) -> io::Result<Child> {
    let (reply, child) = mpsc::sync_channel(1);
    let job = (command, reply);
    let job = {
        let mut spawner = SPAWNER.lock();
        let queue = match &mut *spawner {
            Some(queue) => queue,
            none => none.insert(start()?),
        };
        match queue.send(job) {
            Ok(()) => None,
            Err(mpsc::SendError(job)) => Some(job),
        }
    };
    if let Some((mut command, _)) = job {
        // The spawner thread is gone (it never ends unless the process
        // does); start from this thread rather than fail.
        return command.spawn();
    }
    child
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the worker spawner thread stopped")))
}

fn start() -> io::Result<mpsc::Sender<Job>> {
    let (queue, jobs) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("corun-spawner".to_owned())
        .spawn(move || {
            for (mut command, reply) in jobs {
                let child = command.spawn();
                drop(command);
                let _ = reply.send(child);
            }
        })?;
    Ok(queue)
}
