//! Python's `multiprocessing.synchronize`: locks and friends that live in
//! shared memory and work across processes, robust to a process that dies
//! holding one.

mod acquire_error;
mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
mod lock;
mod rlock;
mod semaphore;

pub use acquire_error::{AcquireError, OwnerDied};
pub use barrier::{Barrier, BarrierBuilder};
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
