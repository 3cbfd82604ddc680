//! [`Lock`]: Python's `asyncio.Lock`, as a lock that owns what it guards.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::waiters::{WaitList, Waiter};

/// A mutual-exclusion lock for tasks of one event loop (Python's
/// `asyncio.Lock`).
///
/// As `corun::threading::Lock`, it owns the data it protects (`Lock<()>` is Python's plain lock) and
/// [`acquire`](Self::acquire) gives a [`LockGuard`] that releases on drop,
/// so the lock cannot be left held by an early return or released by a
/// task that does not hold it (Python's `RuntimeError('Lock is not
/// acquired.')` cannot happen). It is not re-entrant.
///
/// Waiters are served first come, first served, with Python 3.12's rules:
/// a release hands the lock to the oldest waiter, and a task that comes
/// later waits behind it even though `locked()` reads `false` until that
/// waiter runs. A waiter whose task is cancelled leaves the line; one
/// cancelled after it was handed the lock passes it to the next.
///
/// Not thread-safe (as in Python): share it between the loop's tasks with
/// an `Rc`.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{Lock, create_task, run, sleep};
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let log = run(async {
///     let lock = Rc::new(Lock::new(Vec::new()));
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let lock = Rc::clone(&lock);
///             create_task(async move {
///                 let mut log = lock.acquire().await;
///                 log.push(format!("{i} in"));
///                 sleep(Duration::ZERO).await; // others queue up meanwhile
///                 log.push(format!("{i} out"));
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     Rc::try_unwrap(lock).unwrap().into_inner()
/// })
/// .unwrap();
/// assert_eq!(log, ["0 in", "0 out", "1 in", "1 out", "2 in", "2 out"]);
/// ```
pub struct Lock<T: ?Sized = ()> {
    state: RefCell<State>,
    value: RefCell<T>,
}

/// Holds a [`Lock`]; the lock is released when this is dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    value: RefMut<'a, T>,
}

/// The future of [`Lock::acquire`]: the lock's guard, once it is this
/// task's turn.
#[must_use = "futures do nothing unless awaited"]
pub struct LockAcquire<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    step: Step,
}

#[derive(Debug)]
struct State {
    locked: bool,
    waiters: WaitList,
    /// Waiters handed the lock that have not run yet (0 or 1).
    woken: usize,
}

enum Step {
    Start,
    Waiting(Rc<Waiter>),
    Done,
}

impl<T> Lock<T> {
    /// A new, unlocked lock guarding `value`.
    ///
    /// ```
    /// let lock = corun::asyncio::Lock::new(());
    /// assert!(!lock.locked());
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            state: RefCell::new(State {
                locked: false,
                waiters: WaitList::default(),
                woken: 0,
            }),
            value: RefCell::new(value),
        }
    }

    /// Consumes the lock and returns the guarded value.
    ///
    /// ```
    /// assert_eq!(corun::asyncio::Lock::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits until the lock is free and this task's turn has come, then
    /// takes it (Python: `await lock.acquire()`, `async with lock`).
    ///
    /// ```
    /// use corun::asyncio::{Lock, run};
    ///
    /// run(async {
    ///     let lock = Lock::new(1);
    ///     let mut guard = lock.acquire().await;
    ///     *guard += 1;
    ///     assert!(lock.locked());
    /// })
    /// .unwrap();
    /// ```
    pub fn acquire(&self) -> LockAcquire<'_, T> {
        LockAcquire {
            lock: self,
            step: Step::Start,
        }
    }

    /// Takes the lock if it is free and nobody waits for it, without
    /// waiting (Python has no such method; it is `acquire` minus the wait).
    ///
    /// ```
    /// let lock = corun::asyncio::Lock::new(());
    /// let held = lock.try_acquire().unwrap();
    /// assert!(lock.try_acquire().is_none());
    /// drop(held);
    /// assert!(lock.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        let mut state = self.state.borrow_mut();
        if state.free_for_newcomer() {
            state.locked = true;
            drop(state);
            Some(self.guard())
        } else {
            None
        }
    }

    /// Whether the lock is held (Python's `locked()`). Between a release
    /// and the moment the waiter it was handed to runs, this reads `false`,
    /// as in Python, although a newcomer still has to wait.
    ///
    /// ```
    /// let lock = corun::asyncio::Lock::new(());
    /// let _g = lock.try_acquire();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.state.borrow().locked
    }

    /// The guarded value, through exclusive access (no locking needed).
    ///
    /// ```
    /// let mut lock = corun::asyncio::Lock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    fn guard(&self) -> LockGuard<'_, T> {
        LockGuard {
            lock: self,
            value: self
                .value
                .try_borrow_mut()
                .expect("the lock's value is borrowed only by its one guard"),
        }
    }
}

impl State {
    /// Python 3.12's fast path: free, and nobody in line or about to run.
    fn free_for_newcomer(&self) -> bool {
        !self.locked && self.waiters.is_empty() && self.woken == 0
    }

    /// Hands the free lock to the oldest waiter, unless one was handed it
    /// already.
    fn wake_first(&mut self) {
        if !self.locked && self.woken == 0 && self.waiters.notify_one() {
            self.woken += 1;
        }
    }
}

impl<'a, T: ?Sized> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let lock = self.lock;
        let mut state = lock.state.borrow_mut();
        match &self.step {
            Step::Start if state.free_for_newcomer() => {}
            Step::Start => {
                let waiter = state.waiters.push(cx.waker());
                self.step = Step::Waiting(waiter);
                return Poll::Pending;
            }
            Step::Waiting(waiter) if waiter.notified() => {
                state.woken -= 1;
            }
            Step::Waiting(waiter) => {
                waiter.register(cx.waker());
                return Poll::Pending;
            }
            Step::Done => panic!("LockAcquire polled after it completed"),
        }
        state.locked = true;
        drop(state);
        self.step = Step::Done;
        Poll::Ready(lock.guard())
    }
}

impl<T: ?Sized> Drop for LockAcquire<'_, T> {
    /// A waiter that leaves the line: if it was handed the lock, the next
    /// waiter gets it instead.
    fn drop(&mut self) {
        if let Step::Waiting(waiter) = &self.step {
            let mut state = self.lock.state.borrow_mut();
            if waiter.notified() {
                state.woken -= 1;
            } else {
                state.waiters.remove(waiter);
            }
            state.wake_first();
        }
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        let mut state = self.lock.state.borrow_mut();
        state.locked = false;
        state.wake_first();
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Lock")
            .field("locked", &state.locked)
            .field("waiters", &(state.waiters.len() + state.woken))
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LockGuard").field(&&*self.value).finish()
    }
}

impl<T: ?Sized> fmt::Debug for LockAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Start => "start",
            Step::Waiting(_) => "waiting",
            Step::Done => "done",
        };
        f.debug_struct("LockAcquire").field("step", &step).finish()
    }
}
