//! What the loop's exception handler is told: Python's `context` dict of
//! `loop.call_exception_handler`, as a struct.

use std::fmt;

use corun_core::Error;

use crate::task::AnyTask;

/// What went wrong where nobody could be told by a return value: a
/// callback that panicked, a task failure nobody retrieved, a task
/// destroyed while pending (Python: the `context` of
/// `loop.call_exception_handler(context)`).
///
/// # Examples
///
/// ```
/// use corun::asyncio::{EventLoop, ExceptionContext};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let event_loop = EventLoop::new().unwrap();
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let s = seen.clone();
/// event_loop.set_exception_handler(move |ctx: &ExceptionContext| {
///     s.borrow_mut().push(ctx.message().to_owned());
/// });
/// event_loop.call_exception_handler(&ExceptionContext::new("something odd"));
/// assert_eq!(*seen.borrow(), ["something odd"]);
/// ```
#[derive(Clone)]
pub struct ExceptionContext {
    message: String,
    error: Option<Error>,
    task: Option<AnyTask>,
}

impl ExceptionContext {
    /// A context with `message` alone.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            error: None,
            task: None,
        }
    }

    /// This context, with `error` (Python's `context['exception']`).
    pub fn with_error(mut self, error: Error) -> Self {
        self.error = Some(error);
        self
    }

    /// This context, naming `task` (Python's `context['task']`).
    pub fn with_task(mut self, task: AnyTask) -> Self {
        self.task = Some(task);
        self
    }

    /// What happened ("Exception in callback", "Task exception was never
    /// retrieved", …).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error, where there is one (a panic's, say).
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The task concerned, where there is one.
    pub fn task(&self) -> Option<&AnyTask> {
        self.task.as_ref()
    }
}

impl fmt::Display for ExceptionContext {
    /// The message, then the task's name and the error where there are
    /// some: what the default handler prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(task) = &self.task {
            write!(f, " (task {:?})", task.get_name())?;
        }
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptionContext")
            .field("message", &self.message)
            .field("error", &self.error)
            .field("task", &self.task)
            .finish()
    }
}
