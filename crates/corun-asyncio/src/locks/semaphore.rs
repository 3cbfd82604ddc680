//! [`Semaphore`]: Python's `asyncio.Semaphore`, a counter of permits that
//! tasks take in arrival order.
//!
//! Python 3.12's FIFO rules (gh-90155), which this ports:
//!
//! - a release hands its permit straight to the oldest waiter (the count
//!   goes down at once, for that waiter);
//! - a newcomer takes a permit without waiting only if nobody is in line
//!   and no handed-out permit is still on its way (`locked()` is false);
//! - a waiter that runs with its permit wakes further waiters while free
//!   permits remain (permits released while it was on its way);
//! - a waiter cancelled after it was handed a permit gives it back, and
//!   the next waiter gets it.
//!
//! A bounded semaphore also counts the permits held (by guards, or handed
//! to a waiter on its way), so a `release` that would exceed the bound is
//! refused there, as in `corun::threading`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use corun_core::{Error, ErrorKind};

use crate::waiters::{WaitList, Waiter};

/// A counting semaphore for tasks of one event loop (Python's
/// `asyncio.Semaphore`).
///
/// [`acquire`](Self::acquire) takes one permit, waiting while none is free
/// or others wait before it, and gives a [`SemaphorePermit`] that gives
/// the permit back on drop. [`release`](Self::release) adds permits
/// without a guard, as Python's `release` does;
/// [`SemaphorePermit::forget`] keeps a permit taken for a later explicit
/// `release`. Waiters get permits first come, first served (see the
/// module source for Python's exact rules).
///
/// # Examples
///
/// At most two of four tasks inside at once:
///
/// ```
/// use corun::asyncio::{Semaphore, create_task, run, sleep};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// run(async {
///     let sem = Rc::new(Semaphore::new(2));
///     let inside = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (0..4)
///         .map(|_| {
///             let (sem, inside) = (Rc::clone(&sem), Rc::clone(&inside));
///             create_task(async move {
///                 let _permit = sem.acquire().await;
///                 inside.set(inside.get() + 1);
///                 assert!(inside.get() <= 2);
///                 sleep(Duration::ZERO).await;
///                 inside.set(inside.get() - 1);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(sem.value(), 2);
/// })
/// .unwrap();
/// ```
pub struct Semaphore {
    state: RefCell<State>,
    bound: Option<usize>,
}

/// One permit of a [`Semaphore`] or [`BoundedSemaphore`](super::BoundedSemaphore),
/// given back when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
}

/// The future of [`Semaphore::acquire`] and
/// [`BoundedSemaphore::acquire`](super::BoundedSemaphore::acquire).
#[must_use = "futures do nothing unless awaited"]
pub struct SemaphoreAcquire<'a> {
    sem: &'a Semaphore,
    step: Step,
}

#[derive(Debug)]
struct State {
    /// Free permits (Python's `_value`).
    value: usize,
    /// Permits held by guards or handed to waiters on their way; counted
    /// for a bounded semaphore only.
    held: usize,
    waiters: WaitList,
    /// Waiters handed a permit that have not run yet.
    woken: usize,
}

enum Step {
    Start,
    Waiting(Rc<Waiter>),
    Done,
}

impl Semaphore {
    /// A semaphore with `value` free permits (Python's `Semaphore(value)`;
    /// Python's default is 1). A negative value, which Python rejects with
    /// `ValueError`, cannot be expressed.
    ///
    /// ```
    /// let sem = corun::asyncio::Semaphore::new(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    pub fn new(value: usize) -> Self {
        Self::with_bound(value, None)
    }

    pub(crate) fn with_bound(value: usize, bound: Option<usize>) -> Self {
        Self {
            state: RefCell::new(State {
                value,
                held: 0,
                waiters: WaitList::default(),
                woken: 0,
            }),
            bound,
        }
    }

    /// Takes a permit, waiting until one is free and this task's turn has
    /// come (Python: `await sem.acquire()`, `async with sem`).
    ///
    /// ```
    /// use corun::asyncio::{Semaphore, run};
    ///
    /// run(async {
    ///     let sem = Semaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert!(sem.locked());
    ///     drop(permit);
    ///     assert_eq!(sem.value(), 1);
    /// })
    /// .unwrap();
    /// ```
    pub fn acquire(&self) -> SemaphoreAcquire<'_> {
        SemaphoreAcquire {
            sem: self,
            step: Step::Start,
        }
    }

    /// Takes a permit if one is free and nobody waits before, without
    /// waiting.
    ///
    /// ```
    /// let sem = corun::asyncio::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        let mut state = self.state.borrow_mut();
        if state.locked() {
            return None;
        }
        state.value -= 1;
        if self.bound.is_some() {
            state.held += 1;
        }
        Some(SemaphorePermit { sem: self })
    }

    /// Adds `n` permits and hands them to up to `n` waiters, oldest first
    /// (Python's `release()`, `n` times).
    ///
    /// # Errors
    ///
    /// `n == 0` is an [invalid argument](Error::is_invalid_argument). On a
    /// bounded semaphore, a release that would make the free plus held
    /// permits exceed the initial value fails with
    /// [`Error::is_over_release`] (Python: `ValueError`) and changes
    /// nothing; so does a release that would overflow `usize`.
    ///
    /// ```
    /// let sem = corun::asyncio::Semaphore::new(0);
    /// sem.release(2).unwrap();
    /// assert_eq!(sem.value(), 2);
    /// assert!(sem.release(0).unwrap_err().is_invalid_argument());
    /// ```
    pub fn release(&self, n: usize) -> Result<(), Error> {
        if n == 0 {
            return Err(Error::invalid_argument("release count must be one or more"));
        }
        let mut state = self.state.borrow_mut();
        let total = state
            .value
            .checked_add(state.held)
            .and_then(|t| t.checked_add(n));
        match (total, self.bound) {
            (None, _) => return Err(Error::from(ErrorKind::OverRelease)),
            (Some(total), Some(bound)) if total > bound => {
                return Err(Error::from(ErrorKind::OverRelease));
            }
            _ => {}
        }
        state.value += n;
        for _ in 0..n {
            if !state.hand_next(self.bound.is_some()) {
                break;
            }
        }
        Ok(())
    }

    /// The number of free permits now (Python's `_value`). Permits handed
    /// to waiters that have not run yet are not free.
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Semaphore::new(4).value(), 4);
    /// ```
    pub fn value(&self) -> usize {
        self.state.borrow().value
    }

    /// Whether an `acquire` now would wait (Python's `locked()`): no free
    /// permit, or others in line before it.
    ///
    /// ```
    /// assert!(corun::asyncio::Semaphore::new(0).locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.state.borrow().locked()
    }

    pub(crate) fn bound(&self) -> Option<usize> {
        self.bound
    }
}

impl State {
    fn locked(&self) -> bool {
        self.value == 0 || !self.waiters.is_empty() || self.woken > 0
    }

    /// Hands a free permit to the oldest waiter; `false` if there is no
    /// free permit or no waiter.
    fn hand_next(&mut self, bounded: bool) -> bool {
        if self.value == 0 || !self.waiters.notify_one() {
            return false;
        }
        self.value -= 1;
        self.woken += 1;
        if bounded {
            self.held += 1;
        }
        true
    }

    /// Hands out every free permit to waiters in line.
    fn hand_all(&mut self, bounded: bool) {
        while self.hand_next(bounded) {}
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without a guard; give it back later with
    /// [`Semaphore::release`], the way Python code pairs `acquire()` and
    /// `release()` by hand.
    ///
    /// ```
    /// let sem = corun::asyncio::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.value(), 0);
    /// sem.release(1).unwrap();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn forget(self) {
        if self.sem.bound.is_some() {
            self.sem.state.borrow_mut().held -= 1;
        }
        std::mem::forget(self);
    }
}

impl<'a> Future for SemaphoreAcquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let sem = self.sem;
        let bounded = sem.bound.is_some();
        let mut state = sem.state.borrow_mut();
        match &self.step {
            Step::Start if !state.locked() => {
                state.value -= 1;
                if bounded {
                    state.held += 1;
                }
            }
            Step::Start => {
                let waiter = state.waiters.push(cx.waker());
                self.step = Step::Waiting(waiter);
                return Poll::Pending;
            }
            Step::Waiting(waiter) if waiter.notified() => {
                // The permit was handed over (and counted) by the release.
                state.woken -= 1;
                state.hand_all(bounded);
            }
            Step::Waiting(waiter) => {
                waiter.register(cx.waker());
                return Poll::Pending;
            }
            Step::Done => panic!("SemaphoreAcquire polled after it completed"),
        }
        drop(state);
        self.step = Step::Done;
        Poll::Ready(SemaphorePermit { sem })
    }
}

impl Drop for SemaphoreAcquire<'_> {
    /// A waiter that leaves the line gives back a permit it was handed,
    /// and free permits go to the waiters behind it.
    fn drop(&mut self) {
        if let Step::Waiting(waiter) = &self.step {
            let bounded = self.sem.bound.is_some();
            let mut state = self.sem.state.borrow_mut();
            if waiter.notified() {
                state.woken -= 1;
                state.value += 1;
                if bounded {
                    state.held -= 1;
                }
            } else {
                state.waiters.remove(waiter);
            }
            state.hand_all(bounded);
        }
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        let bounded = self.sem.bound.is_some();
        let mut state = self.sem.state.borrow_mut();
        if bounded {
            state.held -= 1;
        }
        // Saturating: an unbounded semaphore released up to `usize::MAX`
        // while this permit was out has nowhere to put it back.
        state.value = state.value.saturating_add(1);
        state.hand_next(bounded);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Semaphore")
            .field("value", &state.value)
            .field("waiters", &(state.waiters.len() + state.woken))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphoreAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Start => "start",
            Step::Waiting(_) => "waiting",
            Step::Done => "done",
        };
        f.debug_struct("SemaphoreAcquire")
            .field("step", &step)
            .finish()
    }
}
