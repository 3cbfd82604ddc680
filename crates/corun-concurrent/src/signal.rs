//! A wake-up that `wait` and `as_completed` share among many tasks: each
//! task pushes its index when it becomes done, after its outcome is
//! published, so a woken waiter always finds the task done.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use corun_threading::threading::Condition;

/// Indices of tasks that became done, in completion order.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    ready: Condition<VecDeque<usize>>,
}

impl Signal {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Task `index` is done.
    pub(crate) fn notify(&self, index: usize) {
        let mut ready = self.ready.acquire();
        ready.push_back(index);
        ready.notify_all();
    }

    /// The next index that became done, waiting at most `timeout` (`None`:
    /// forever). `None` when the time ran out.
    pub(crate) fn next(&self, timeout: Option<Duration>) -> Option<usize> {
        let mut ready = self.ready.acquire();
        match timeout {
            None => ready.wait_for(|r| !r.is_empty()),
            Some(t) => {
                if !ready.wait_for_timeout(|r| !r.is_empty(), t) {
                    return None;
                }
            }
        }
        ready.pop_front()
    }
}
