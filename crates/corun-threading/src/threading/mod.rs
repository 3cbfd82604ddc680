//! Python's `threading` module: locks, conditions, semaphores, events,
//! barriers, timers and threads.
//!
//! | Python `threading`                 | corun                                              |
//! |------------------------------------|----------------------------------------------------|
//! | `Lock()`, `with lock:`             | [`Lock<T>`], `let g = lock.acquire();`             |
//! | `acquire(blocking=False)`          | [`Lock::try_acquire`]                              |
//! | `acquire(timeout=t)`               | [`Lock::acquire_timeout`]                          |
//! | `RLock()`                          | [`RLock<T>`]                                       |
//! | `Condition()`, `wait`, `wait_for`  | [`Condition<T>`] (not re-entrant: Python's `Condition(Lock())`), [`ConditionGuard::wait`] … |
//! | `notify(n)`, `notify_all()`        | [`ConditionGuard::notify`], [`ConditionGuard::notify_all`] |
//! | `Semaphore(n)`, `release(n)`       | [`Semaphore`], [`SemaphorePermit`] (RAII)          |
//! | `BoundedSemaphore(n)`              | [`BoundedSemaphore`]                               |
//! | `Event()`                          | [`Event`]                                          |
//! | `Barrier(parties, action, timeout)`| [`Barrier::builder`]                               |
//! | `BrokenBarrierError`               | [`Error::is_broken_barrier`]                       |
//! | `Timer(interval, fn)`              | [`Timer`]                                          |
//! | `Thread(target=, name=)`           | [`Thread::builder`], [`Thread::spawn`]             |
//!
//! Differences a Python user will notice: locks own the data they guard and
//! release through guards, so a lock cannot be left held by an early return;
//! waits with a time-out are separate `*_timeout` methods taking a
//! `Duration`; a `Thread`'s result and panic come back from `join`.

mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
mod lock;
mod rlock;
mod semaphore;
mod thread;
mod timer;

pub use crate::error::{Error, ErrorKind};
pub use barrier::{Barrier, BarrierBuilder};
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
pub use thread::{Thread, ThreadBuilder};
pub use timer::Timer;
