//! Task steps on a timeline: what the loop tells a `corun::trace::Recorder`
//! (any [`Observer`]) when one is set with
//! [`EventLoop::set_recorder`](crate::EventLoop::set_recorder).
//!
//! Each step of a task is one entry of the timeline, labelled with the
//! task's name: *submitted* when the task was created (its first step) or
//! suspended (the steps after), *started* and *finished* around the step,
//! on the loop thread's lane. So the diagram shows one lane, a bar per
//! step, the loop's idle time as gaps between bars, and each step's wait
//! (from suspend to resume: a sleep, a socket, the ready queue) as its
//! queue time. The step that ends the task finishes with the task's
//! outcome (`ok`, `panicked`, `cancelled`); the steps before it with `ok`.
//!
//! A loop without a recorder pays one branch per task and per step.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use corun_concurrent::{Observer, Outcome, TaskId};

use crate::task::Header;

/// A task's link to the observer: the entry of its next step.
pub(crate) struct StepTrace {
    observer: Arc<dyn Observer>,
    label: Box<str>,
    /// The entry submitted for the task's next step.
    next: Cell<Option<TaskId>>,
}

/// Records one step's start; its drop records the finish, with the
/// task's outcome if the step ended it.
pub(crate) struct StepGuard<'a> {
    trace: &'a StepTrace,
    header: &'a Header,
    id: Option<TaskId>,
}

impl StepTrace {
    /// Links a new task named `label` and submits its first step.
    pub(crate) fn new(observer: Arc<dyn Observer>, label: String) -> Box<Self> {
        let trace = Box::new(Self {
            observer,
            label: label.into_boxed_str(),
            next: Cell::new(None),
        });
        trace.submit();
        trace
    }

    fn submit(&self) {
        let label = Cow::Owned(self.label.to_string());
        self.next.set(Some(self.observer.submitted(label)));
    }

    /// A step of the task `header` starts now, on the calling thread.
    pub(crate) fn step<'a>(&'a self, header: &'a Header) -> StepGuard<'a> {
        let id = self.next.take();
        if let Some(id) = id {
            self.observer.started(id, None);
        }
        StepGuard {
            trace: self,
            header,
            id,
        }
    }

    /// The loop closed before the task's next step.
    pub(crate) fn closed(&self) {
        if let Some(id) = self.next.take() {
            self.observer.finished(id, Outcome::Cancelled);
        }
    }
}

impl Drop for StepGuard<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        match self.header.outcome() {
            Some(outcome) => self.trace.observer.finished(id, outcome),
            None => {
                self.trace.observer.finished(id, Outcome::Ok);
                self.trace.submit();
            }
        }
    }
}
