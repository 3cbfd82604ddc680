//! Python's `multiprocessing.synchronize`: locks and friends that live in
//! shared memory and work across processes, robust to a process that dies
//! holding one.

mod acquire_error;
mod lock;
mod rlock;

pub use acquire_error::{AcquireError, OwnerDied};
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
