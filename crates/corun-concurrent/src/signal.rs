//! A wake-up that `wait`, `as_completed`, `map` and a pool thread's waits
//! share among many tasks: each task pushes its index when it becomes
//! done, after its outcome is published, so a woken waiter always finds
//! the task done.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use corun_core::deadline::remaining;
use corun_threading::threading::{Condition, ConditionGuard};
use crossbeam_channel::Sender;

use crate::help;

/// Indices of tasks that became done, in completion order, for one waiter.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    ready: Condition<Ready>,
}

#[derive(Debug)]
struct Ready {
    indices: VecDeque<usize>,
    /// How many indices the waiter wants before it is woken …
    count: usize,
    /// … unless this one comes first (`map` waits for its oldest task, and
    /// for a batch of the others to submit more in their place).
    key: Option<usize>,
    key_seen: bool,
    /// Rung when the waiter's want is met: a pool thread that runs queued
    /// tasks while it waits listens to it beside its pool's queue.
    bell: Option<Sender<()>>,
}

impl Default for Ready {
    fn default() -> Self {
        Self {
            indices: VecDeque::new(),
            count: 1,
            key: None,
            key_seen: false,
            bell: None,
        }
    }
}

impl Ready {
    fn satisfied(&self) -> bool {
        self.key_seen || self.indices.len() >= self.count
    }
}

impl Signal {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Task `index` is done. The waiter is woken only once what it wants
    /// is there, so that a waiter for a batch costs the tasks that finish
    /// before the batch is complete no wake-up.
    pub(crate) fn notify(&self, index: usize) {
        let mut ready = self.ready.acquire();
        ready.indices.push_back(index);
        if ready.key == Some(index) {
            ready.key_seen = true;
        }
        if ready.satisfied() {
            if let Some(bell) = ready.bell.take() {
                let _ = bell.try_send(());
            }
            ready.notify_all();
        }
    }

    /// The next index that became done, waiting until `deadline` (`None`:
    /// forever); `None` when the time ran out.
    pub(crate) fn next(&self, deadline: Option<Instant>) -> Option<usize> {
        self.wait(1, None, deadline).indices.pop_front()
    }

    /// Every index that became done, once there are `count` (at least 1)
    /// or `key` is among them, or the deadline passed (then maybe none).
    pub(crate) fn take(
        &self,
        count: usize,
        key: Option<usize>,
        deadline: Option<Instant>,
    ) -> VecDeque<usize> {
        std::mem::take(&mut self.wait(count, key, deadline).indices)
    }

    /// Waits until `count` indices are ready or `key` is, or the deadline
    /// passes. On a pool thread, the pool's queued tasks run meanwhile (see
    /// `help.rs`; elsewhere `help_until` returns at once).
    fn wait(
        &self,
        count: usize,
        key: Option<usize>,
        deadline: Option<Instant>,
    ) -> ConditionGuard<'_, Ready> {
        {
            let mut ready = self.ready.acquire();
            ready.count = count.max(1);
            ready.key = key;
            ready.key_seen = key.is_some_and(|k| ready.indices.contains(&k));
        }
        help::help_until(
            |bell| {
                let mut ready = self.ready.acquire();
                let satisfied = ready.satisfied();
                if !satisfied {
                    ready.bell = Some(bell.clone());
                }
                satisfied
            },
            deadline,
        );
        let mut ready = self.ready.acquire();
        match remaining(deadline) {
            None => ready.wait_for(Ready::satisfied),
            Some(t) => {
                ready.wait_for_timeout(Ready::satisfied, t);
            }
        }
        ready.count = 1;
        ready.key = None;
        ready.key_seen = false;
        ready
    }
}
