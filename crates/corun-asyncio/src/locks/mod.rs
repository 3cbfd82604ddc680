//! Python's `asyncio` synchronisation primitives, for the tasks of one
//! event loop: [`Lock`], [`Event`], [`Condition`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Barrier`].
//!
//! As in Python they are not thread-safe (share them between tasks with an
//! `Rc`), and they have no time-out parameters (wrap a wait in a time-out
//! instead). Waiters are served first come, first served. Each wait is a
//! future that is safe to drop at any point: a waiter whose task is
//! cancelled leaves the line, and what it was already handed (the lock, a
//! permit, a notification) goes to the next waiter — the cancel rules
//! CPython got right only over several releases (bpo-27585, bpo-32734,
//! gh-90155, gh-112202), tested in `tests/locks.rs`.
//!
//! They take the shapes of their `corun::threading` namesakes: locks own
//! the data they guard and release through guards, semaphores hand out
//! permits that give themselves back, `release(n)` takes a count.

mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
mod lock;
mod semaphore;

pub use barrier::{Barrier, BarrierWait};
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::{Condition, ConditionAcquire, ConditionGuard, ConditionWait};
pub use event::{Event, EventWait};
pub use lock::{Lock, LockAcquire, LockGuard};
pub use semaphore::{Semaphore, SemaphoreAcquire, SemaphorePermit};
