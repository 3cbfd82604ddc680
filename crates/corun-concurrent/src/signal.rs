//! A wake-up that `wait`, `as_completed`, `map` and a pool thread's waits
//! share among many tasks: each task pushes its index when it becomes
//! done, after its outcome is published, so a woken waiter always finds
//! the task done.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use corun_core::deadline::remaining;
use corun_threading::threading::Condition;
use crossbeam_channel::Sender;

use crate::help;

/// Indices of tasks that became done, in completion order.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    ready: Condition<Ready>,
}

#[derive(Debug, Default)]
struct Ready {
    indices: VecDeque<usize>,
    /// Rung on the next notice: a pool thread that runs queued tasks while
    /// it waits listens to it beside its pool's queue.
    bell: Option<Sender<()>>,
}

impl Signal {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Task `index` is done.
    pub(crate) fn notify(&self, index: usize) {
        let mut ready = self.ready.acquire();
        ready.indices.push_back(index);
        if let Some(bell) = ready.bell.take() {
            let _ = bell.try_send(());
        }
        ready.notify_all();
    }

    /// The next index that became done, waiting until `deadline` (`None`:
    /// forever); `None` when the time ran out. On a pool thread, the pool's
    /// queued tasks run meanwhile (see `help.rs`).
    pub(crate) fn next(&self, deadline: Option<Instant>) -> Option<usize> {
        if help::can_help() {
            help::help_until(
                |bell| {
                    let mut ready = self.ready.acquire();
                    if ready.indices.is_empty() {
                        ready.bell = Some(bell.clone());
                        false
                    } else {
                        true
                    }
                },
                deadline,
            );
        }
        let mut ready = self.ready.acquire();
        match remaining(deadline) {
            None => ready.wait_for(|r| !r.indices.is_empty()),
            Some(t) => {
                if !ready.wait_for_timeout(|r| !r.indices.is_empty(), t) {
                    return None;
                }
            }
        }
        ready.indices.pop_front()
    }
}
