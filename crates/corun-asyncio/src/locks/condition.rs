//! [`Condition`]: Python's `asyncio.Condition`, a lock with a wait queue.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::lock::{Lock, LockAcquire, LockGuard};
use crate::waiters::{WaitList, Waiter};

/// A condition variable bundled with the [`Lock`] and the state it guards,
/// for tasks of one event loop (Python's `asyncio.Condition`).
///
/// [`acquire`](Self::acquire) gives a [`ConditionGuard`]; waiting and
/// notifying are methods of the guard, so Python's `RuntimeError` for
/// waiting or notifying without the lock cannot happen.
///
/// [`ConditionGuard::wait`] takes the guard and gives it back once the
/// task was notified and holds the lock again. Taking it by value is what
/// makes cancellation safe: a wait dropped half-way (its task cancelled, a
/// time-out) leaves no guard behind that looks held while the lock is not.
///
/// Notified waiters resume in the order they began to wait. A waiter that
/// is cancelled after it was notified, while it waits for the lock again,
/// passes the notification on to the next waiter (Python 3.13's rule), so
/// no wake-up is lost to a cancellation.
///
/// # Examples
///
/// ```
/// use corun::asyncio::{Condition, create_task, run};
/// use std::rc::Rc;
///
/// run(async {
///     let items = Rc::new(Condition::new(Vec::new()));
///     let consumer = {
///         let items = Rc::clone(&items);
///         create_task(async move {
///             let guard = items.acquire().await;
///             let mut guard = guard.wait_for(|v: &Vec<i32>| !v.is_empty()).await;
///             guard.pop()
///         })
///     };
///     let mut guard = items.acquire().await;
///     guard.push(42);
///     guard.notify(1);
///     drop(guard);
///     assert_eq!(consumer.await.unwrap(), Some(42));
/// })
/// .unwrap();
/// ```
pub struct Condition<T: ?Sized = ()> {
    waiters: RefCell<WaitList>,
    lock: Lock<T>,
}

/// The lock of a [`Condition`], held; waits and notifications go through
/// it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    guard: LockGuard<'a, T>,
}

/// The future of [`Condition::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionAcquire<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    acquire: LockAcquire<'a, T>,
}

/// The future of [`ConditionGuard::wait`]: the guard again, once notified
/// and holding the lock.
#[must_use = "futures do nothing unless awaited"]
pub struct ConditionWait<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    step: WaitStep<'a, T>,
}

enum WaitStep<'a, T: ?Sized> {
    /// In the condition's line, the lock released.
    Waiting(Rc<Waiter>),
    /// Notified; waiting for the lock again.
    Relocking(LockAcquire<'a, T>),
    Done,
}

impl<T> Condition<T> {
    /// A new condition guarding `value`, with a lock of its own (Python's
    /// `Condition()`).
    ///
    /// ```
    /// let cond = corun::asyncio::Condition::new(0_u32);
    /// assert!(!cond.locked());
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            waiters: RefCell::new(WaitList::default()),
            lock: Lock::new(value),
        }
    }
}

impl<T: ?Sized> Condition<T> {
    /// Waits for the lock, as [`Lock::acquire`] (Python:
    /// `await cond.acquire()`, `async with cond`).
    ///
    /// ```
    /// use corun::asyncio::{Condition, run};
    ///
    /// run(async {
    ///     let cond = Condition::new(1);
    ///     *cond.acquire().await += 1;
    ///     assert_eq!(*cond.acquire().await, 2);
    /// })
    /// .unwrap();
    /// ```
    pub fn acquire(&self) -> ConditionAcquire<'_, T> {
        ConditionAcquire {
            cond: self,
            acquire: self.lock.acquire(),
        }
    }

    /// Whether the lock is held (Python's `locked()`).
    ///
    /// ```
    /// assert!(!corun::asyncio::Condition::new(()).locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }
}

impl<'a, T: ?Sized> ConditionGuard<'a, T> {
    /// Releases the lock, waits until notified, and takes the lock again
    /// (Python's `await cond.wait()`); gives the guard back. Spurious
    /// wake-ups can happen (a cancelled waiter passes its notification on):
    /// wait in a loop, or use [`wait_for`](Self::wait_for).
    ///
    /// ```
    /// use corun::asyncio::{Condition, create_task, run};
    /// use std::rc::Rc;
    ///
    /// run(async {
    ///     let cond = Rc::new(Condition::new(false));
    ///     let setter = {
    ///         let cond = Rc::clone(&cond);
    ///         create_task(async move {
    ///             let mut guard = cond.acquire().await;
    ///             *guard = true;
    ///             guard.notify_all();
    ///         })
    ///     };
    ///     let mut guard = cond.acquire().await;
    ///     while !*guard {
    ///         guard = guard.wait().await;
    ///     }
    ///     setter.await.unwrap();
    /// })
    /// .unwrap();
    /// ```
    pub fn wait(self) -> ConditionWait<'a, T> {
        let cond = self.cond;
        let waiter = cond.waiters.borrow_mut().push(Waker::noop());
        drop(self);
        ConditionWait {
            cond,
            step: WaitStep::Waiting(waiter),
        }
    }

    /// Waits until `predicate` holds for the guarded value (Python's
    /// `await cond.wait_for(predicate)`); returns at once if it already
    /// does. Gives the guard back.
    ///
    /// ```
    /// use corun::asyncio::{Condition, run};
    ///
    /// run(async {
    ///     let cond = Condition::new(3);
    ///     let guard = cond.acquire().await.wait_for(|v| *v == 3).await; // no wait
    ///     assert_eq!(*guard, 3);
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait_for(mut self, mut predicate: impl FnMut(&T) -> bool) -> Self {
        while !predicate(&*self) {
            self = self.wait().await;
        }
        self
    }

    /// Wakes up to `n` waiting tasks, oldest first (Python's `notify(n)`).
    /// They take the lock in turn once this guard is dropped.
    ///
    /// ```
    /// use corun::asyncio::{Condition, run};
    ///
    /// run(async {
    ///     let cond = Condition::new(());
    ///     cond.acquire().await.notify(1); // nobody waits: a no-op
    /// })
    /// .unwrap();
    /// ```
    pub fn notify(&self, n: usize) {
        self.cond.waiters.borrow_mut().notify(n);
    }

    /// Wakes every waiting task (Python's `notify_all()`).
    ///
    /// ```
    /// use corun::asyncio::{Condition, run};
    ///
    /// run(async { Condition::new(()).acquire().await.notify_all() }).unwrap();
    /// ```
    pub fn notify_all(&self) {
        self.cond.waiters.borrow_mut().notify_all();
    }
}

impl<'a, T: ?Sized> Future for ConditionAcquire<'a, T> {
    type Output = ConditionGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let cond = self.cond;
        Pin::new(&mut self.acquire)
            .poll(cx)
            .map(|guard| ConditionGuard { cond, guard })
    }
}

impl<'a, T: ?Sized> Future for ConditionWait<'a, T> {
    type Output = ConditionGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let cond = self.cond;
        if let WaitStep::Waiting(waiter) = &self.step {
            if !waiter.notified() {
                waiter.register(cx.waker());
                return Poll::Pending;
            }
            self.step = WaitStep::Relocking(cond.lock.acquire());
        }
        match &mut self.step {
            WaitStep::Relocking(acquire) => match Pin::new(acquire).poll(cx) {
                Poll::Ready(guard) => {
                    self.step = WaitStep::Done;
                    Poll::Ready(ConditionGuard { cond, guard })
                }
                Poll::Pending => Poll::Pending,
            },
            _ => panic!("ConditionWait polled after it completed"),
        }
    }
}

impl<T: ?Sized> Drop for ConditionWait<'_, T> {
    /// A wait that ends early: out of the line if not yet notified; a
    /// notification it got but cannot use goes to the next waiter.
    fn drop(&mut self) {
        let mut waiters = self.cond.waiters.borrow_mut();
        match &self.step {
            WaitStep::Waiting(waiter) if !waiter.notified() => {
                waiters.remove(waiter);
            }
            WaitStep::Waiting(_) | WaitStep::Relocking(_) => {
                waiters.notify_one();
            }
            WaitStep::Done => {}
        }
    }
}

impl<T: ?Sized> Deref for ConditionGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for ConditionGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.locked())
            .field("waiters", &self.waiters.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ConditionGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConditionGuard")
            .field(&&*self.guard)
            .finish()
    }
}

impl<T: ?Sized> fmt::Debug for ConditionAcquire<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionAcquire")
            .field("acquire", &self.acquire)
            .finish()
    }
}

impl<T: ?Sized> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            WaitStep::Waiting(_) => "waiting",
            WaitStep::Relocking(_) => "relocking",
            WaitStep::Done => "done",
        };
        f.debug_struct("ConditionWait")
            .field("step", &step)
            .finish()
    }
}
