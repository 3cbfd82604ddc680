//! [`TaskGroup`]: tasks that live and fail together (Python 3.11:
//! `asyncio.TaskGroup`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use corun_core::{Error, ErrorKind};

use crate::task::{
    AnyTask, Cascade, Task, create_task, create_task_named, current_task, drop_cancelling,
};

/// Tasks that live and fail together (Python 3.11: `asyncio.TaskGroup`).
///
/// | event                                        | what the group does                          |
/// |----------------------------------------------|----------------------------------------------|
/// | a child returns `Err` or panics, or the body returns `Err` | the first such failure cancels the other children and the body; every failure is kept |
/// | a child is cancelled from elsewhere          | nothing: a cancel is no failure               |
/// | all children done, body done                 | [`run`](TaskGroup::run) / [`wait`](TaskGroup::wait) return: the body's value, or one [`Group`](ErrorKind::Group) error with every failure |
/// | the task awaiting `run` / `wait` is cancelled, or the group is dropped | the children not done are cancelled |
///
/// Python's `async with TaskGroup() as tg:` reads
/// `tg.run(async { …; Ok(v) }).await` or, for a group filled first and
/// then waited for, `tg.wait().await`.
///
/// A child is a future returning `Result<T, Error>`: an `Err` is its
/// failure, as an exception is in Python, and so is a panic.
///
/// A child adds siblings through a [`TaskGroupHandle`]
/// ([`handle`](TaskGroup::handle)), as a Python child calls
/// `tg.create_task` on the group it was given. The group forgets each
/// child once it is done, so a long-lived group does not grow.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{TaskGroup, run, sleep};
/// use corun::{Error, ErrorKind};
/// use std::time::Duration;
///
/// let err = run(async {
///     let tg = TaskGroup::new();
///     let slow = tg.create_task(async {
///         sleep(Duration::from_secs(3600)).await;
///         Ok(1)
///     })?;
///     let _failing =
///         tg.create_task(async { Err::<(), _>(Error::new(ErrorKind::InvalidArgument, "bad input")) })?;
///     let err = tg.wait().await.unwrap_err();
///     assert!(slow.cancelled()); // the first failure cancelled its sibling
///     Ok::<_, Error>(err)
/// })
/// .unwrap()
/// .unwrap();
/// assert_eq!(err.kind(), ErrorKind::Group);
/// assert_eq!(err.errors()[0].to_string(), "bad input");
/// ```
pub struct TaskGroup {
    inner: Rc<Inner>,
}

struct Inner {
    /// The children not yet heard done, by id (creation order).
    tasks: RefCell<BTreeMap<u64, AnyTask>>,
    /// Children not yet done.
    pending: Cell<usize>,
    /// The failures, in the order they happened.
    errors: RefCell<Vec<Error>>,
    /// A failure happened: the others are being cancelled.
    aborting: Cell<bool>,
    /// `run` began.
    entered: Cell<bool>,
    /// `run` returned (or was dropped): no more children.
    finished: Cell<bool>,
    /// The task in `run`, woken when a child is done or fails.
    waker: RefCell<Option<Waker>>,
}

impl TaskGroup {
    /// An empty group.
    pub fn new() -> Self {
        Self {
            inner: Rc::new(Inner {
                tasks: RefCell::new(BTreeMap::new()),
                pending: Cell::new(0),
                errors: RefCell::new(Vec::new()),
                aborting: Cell::new(false),
                entered: Cell::new(false),
                finished: Cell::new(false),
                waker: RefCell::new(None),
            }),
        }
    }

    /// Runs `future` as a child of the group (Python:
    /// `tg.create_task(coro)`). Awaiting the returned task gives the
    /// child's own `Result` (inside the task's).
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) when the group is
    /// finished, or shutting down after a failure (Python raises
    /// `RuntimeError`); the future is dropped unpolled.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn create_task<F, T>(&self, future: F) -> Result<Task<Result<T, Error>>, Error>
    where
        F: Future<Output = Result<T, Error>> + 'static,
        T: 'static,
    {
        spawn(&self.inner, None, future)
    }

    /// [`create_task`](Self::create_task) with a name (Python:
    /// `tg.create_task(coro, name=name)`).
    ///
    /// # Errors
    ///
    /// As [`create_task`](Self::create_task).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn create_task_named<F, T>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<Task<Result<T, Error>>, Error>
    where
        F: Future<Output = Result<T, Error>> + 'static,
        T: 'static,
    {
        spawn(&self.inner, Some(name.into()), future)
    }

    /// A handle that adds children to this group from anywhere, such as
    /// from a child (Python: a child given `tg` calling `tg.create_task`).
    /// It holds the group weakly: dropping the group still cancels what is
    /// left, and the handle then refuses new children.
    ///
    /// ```
    /// use corun::asyncio::{TaskGroup, run};
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// let total = run(async {
    ///     let total = Rc::new(Cell::new(0));
    ///     let tg = TaskGroup::new();
    ///     let group = tg.handle();
    ///     let t = total.clone();
    ///     let _parent = tg.create_task(async move {
    ///         let t2 = t.clone();
    ///         let _sibling = group.create_task(async move {
    ///             t2.set(t2.get() + 2);
    ///             Ok(())
    ///         })?;
    ///         t.set(t.get() + 1);
    ///         Ok(())
    ///     })?;
    ///     tg.wait().await?; // waits for the sibling too
    ///     Ok::<_, corun::Error>(total.get())
    /// });
    /// assert_eq!(total.unwrap().unwrap(), 3);
    /// ```
    pub fn handle(&self) -> TaskGroupHandle {
        TaskGroupHandle {
            inner: Rc::downgrade(&self.inner),
        }
    }

    /// Runs `body` and waits for every child, including those created
    /// meanwhile (Python: the body of `async with tg:` and its exit).
    ///
    /// The first failure of a child or of the body cancels the other
    /// children and drops the body at its await point; a [`Task`] the body
    /// was awaiting then is cancelled too, and waited for. Dropping this
    /// future before it is done (its task cancelled) cancels the children
    /// not done.
    ///
    /// ```
    /// use corun::asyncio::{TaskGroup, run};
    ///
    /// let total = run(async {
    ///     let tg = TaskGroup::new();
    ///     tg.run(async {
    ///         let a = tg.create_task(async { Ok(2) })?;
    ///         let b = tg.create_task(async { Ok(3) })?;
    ///         Ok((a, b))
    ///     })
    ///     .await
    ///     .map(|(a, b)| (a.result().unwrap().unwrap(), b.result().unwrap().unwrap()))
    /// });
    /// assert_eq!(total.unwrap().unwrap(), (2, 3));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Group`](ErrorKind::Group), whose [`errors`](Error::errors) are
    /// every failure in the order they happened;
    /// [`InvalidState`](ErrorKind::InvalidState) if the group ran before.
    pub async fn run<B, T>(&self, body: B) -> Result<T, Error>
    where
        B: Future<Output = Result<T, Error>>,
    {
        let inner = &self.inner;
        if inner.entered.replace(true) {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "this TaskGroup has already been entered",
            ));
        }
        let exit = ExitGuard { inner };
        let mut slot = pin!(Some(body));
        let mut output = None;
        let mut cascade: Option<Rc<Cascade>> = None;
        poll_fn(|cx| {
            {
                let mut waker = inner.waker.borrow_mut();
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
            }
            if inner.aborting.get() {
                if slot.is_some() {
                    // The body is cancelled: so are the tasks it awaits.
                    cascade = Some(drop_cancelling(|| slot.set(None)).1);
                }
            } else if let Some(body) = slot.as_mut().as_pin_mut() {
                match body.poll(cx) {
                    Poll::Ready(Ok(value)) => {
                        output = Some(value);
                        slot.set(None);
                    }
                    Poll::Ready(Err(error)) => {
                        slot.set(None);
                        inner.fail(error);
                    }
                    Poll::Pending => {}
                }
            }
            if slot.is_none() && inner.pending.get() == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        if let Some(cascade) = cascade {
            cascade.wait().await;
        }
        drop(exit);
        let errors = std::mem::take(&mut *inner.errors.borrow_mut());
        match output {
            Some(value) if errors.is_empty() => Ok(value),
            _ => Err(Error::group("unhandled errors in a TaskGroup", errors)),
        }
    }

    /// Waits for every child (Python: leaving `async with tg:` with an
    /// empty body); [`run`](Self::run) with a body that does nothing.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn wait(&self) -> Result<(), Error> {
        self.run(async { Ok(()) }).await
    }

    /// The children not done yet, in creation order (Python's
    /// `tg._tasks`); the group lets go of a child once it hears it is done.
    pub fn tasks(&self) -> Vec<AnyTask> {
        self.inner.tasks.borrow().values().cloned().collect()
    }
}

/// A cheap, cloneable handle that adds children to a [`TaskGroup`]
/// ([`TaskGroup::handle`]); it does not keep the group alive.
#[derive(Clone)]
pub struct TaskGroupHandle {
    inner: Weak<Inner>,
}

impl TaskGroupHandle {
    /// [`TaskGroup::create_task`] on the group.
    ///
    /// # Errors
    ///
    /// [`InvalidState`](ErrorKind::InvalidState) when the group is
    /// finished, shutting down after a failure, or dropped; the future is
    /// dropped unpolled.
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn create_task<F, T>(&self, future: F) -> Result<Task<Result<T, Error>>, Error>
    where
        F: Future<Output = Result<T, Error>> + 'static,
        T: 'static,
    {
        spawn(&self.group()?, None, future)
    }

    /// [`TaskGroup::create_task_named`] on the group.
    ///
    /// # Errors
    ///
    /// As [`create_task`](Self::create_task).
    ///
    /// # Panics
    ///
    /// Outside a running loop.
    pub fn create_task_named<F, T>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<Task<Result<T, Error>>, Error>
    where
        F: Future<Output = Result<T, Error>> + 'static,
        T: 'static,
    {
        spawn(&self.group()?, Some(name.into()), future)
    }

    fn group(&self) -> Result<Rc<Inner>, Error> {
        self.inner
            .upgrade()
            .ok_or_else(|| Error::new(ErrorKind::InvalidState, "this TaskGroup was dropped"))
    }
}

/// Makes `future` a child of the group `inner`.
fn spawn<F, T>(
    inner: &Rc<Inner>,
    name: Option<String>,
    future: F,
) -> Result<Task<Result<T, Error>>, Error>
where
    F: Future<Output = Result<T, Error>> + 'static,
    T: 'static,
{
    inner.check_open()?;
    let child = child(Rc::downgrade(inner), future);
    let task = match name {
        Some(name) => create_task_named(name, child),
        None => create_task(child),
    };
    adopt(inner, &task);
    Ok(task)
}

/// `future`, telling the group when it returns `Err` (inside its own
/// step, so the siblings are cancelled at once).
async fn child<F, T>(weak: Weak<Inner>, future: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    let output = future.await;
    if let (Err(error), Some(inner)) = (&output, weak.upgrade()) {
        inner.fail(error.clone());
    }
    output
}

/// Counts `task` in, and hears when it is done (a panic is a failure);
/// then forgets it.
fn adopt<T: 'static>(inner: &Rc<Inner>, task: &Task<T>) {
    let any = task.as_any();
    inner.tasks.borrow_mut().insert(any.id(), any.clone());
    inner.pending.set(inner.pending.get() + 1);
    let weak = Rc::downgrade(inner);
    any.add_done_callback(move |task| {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let forgotten = inner.tasks.borrow_mut().remove(&task.id());
        drop(forgotten);
        inner.pending.set(inner.pending.get() - 1);
        if !task.cancelled() {
            if let Ok(Some(error)) = task.exception() {
                inner.fail(error);
            }
        }
        inner.wake();
    });
}

impl Inner {
    fn check_open(&self) -> Result<(), Error> {
        if self.finished.get() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "this TaskGroup is finished",
            ));
        }
        if self.aborting.get() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "this TaskGroup is shutting down",
            ));
        }
        Ok(())
    }

    /// Keeps `error`; the first one cancels every child not done.
    fn fail(&self, error: Error) {
        self.errors.borrow_mut().push(error);
        if !self.aborting.replace(true) {
            self.cancel_pending();
        }
        self.wake();
    }

    fn cancel_pending(&self) {
        let me = current_task();
        let tasks: Vec<AnyTask> = self.tasks.borrow().values().cloned().collect();
        for task in tasks {
            if !task.done() && me.as_ref() != Some(&task) {
                task.cancel();
            }
        }
    }

    fn wake(&self) {
        let waker = self.waker.borrow().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Ends the group however `run` ends: children not done (the task in
/// `run` was cancelled) are cancelled.
struct ExitGuard<'a> {
    inner: &'a Inner,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        self.inner.finished.set(true);
        if self.inner.pending.get() > 0 {
            self.inner.cancel_pending();
        }
        let waker = self.inner.waker.borrow_mut().take();
        drop(waker);
    }
}

impl Default for TaskGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TaskGroup {
    /// A group dropped before it finished cancels the children not done.
    fn drop(&mut self) {
        if !self.inner.finished.get() {
            self.inner.cancel_pending();
        }
    }
}

impl fmt::Debug for TaskGroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.upgrade();
        f.debug_struct("TaskGroupHandle")
            .field("dropped", &inner.is_none())
            .field("pending", &inner.as_ref().map_or(0, |i| i.pending.get()))
            .field(
                "finished",
                &inner.as_ref().is_some_and(|i| i.finished.get()),
            )
            .finish()
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.inner.tasks.borrow().len())
            .field("pending", &self.inner.pending.get())
            .field("errors", &self.inner.errors.borrow().len())
            .field("aborting", &self.inner.aborting.get())
            .field("finished", &self.inner.finished.get())
            .finish()
    }
}
