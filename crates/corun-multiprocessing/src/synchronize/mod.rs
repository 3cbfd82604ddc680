//! Python's `multiprocessing.synchronize`: locks and friends that live in
//! shared memory and work across processes, robust to a process that dies
//! holding one.
//!
//!
//! `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition` and
//! `Barrier` (`synchronize/`) each live in a shared-memory segment of their
//! own (`shm/shared_object.rs`): a header naming the kind, then a `#[repr(C)]`
//! state of atomics and robust mutexes. A handle crosses to a worker as the
//! segment's name; the worker attaches and checks the kind.
//!
//! Two building blocks, both working across processes:
//!
//! - `robust_mutex.rs`: glibc's robust, process-shared pthread mutex. When its
//!   holder dies (even by SIGKILL) the kernel marks it, and the next locker
//!   gets it with `EOWNERDEAD`, which becomes an `OwnerDied` error carrying the
//!   guard. `RLock` uses the recursive kind, which glibc counts per thread.
//! - `futex.rs`: sleeping on a 32-bit word until it changes, without the
//!   private flag, so a wake-up reaches other processes.
//!
//! Rules every primitive keeps:
//!
//! - **Whole at every instant.** State that a process could leave half-written
//!   by dying is one word, changed by a single store (under the robust mutex)
//!   or a compare-and-swap: the semaphore's count, the condition's waiter and
//!   signal counts (one 64-bit word), the barrier's generation, broken flag
//!   and count (one 32-bit word). An internal `OwnerDied` needs no repair.
//! - **Sleep on a word, recheck after.** A waiter reads the word it will sleep
//!   on, announces itself (a `sleepers` count, or a registration under the
//!   mutex), checks its condition again, and sleeps only while the word is
//!   unchanged; the other side changes its state first and then looks for
//!   sleepers. With both middle steps sequentially consistent (or ordered by
//!   the mutex), no wake-up is lost.
//! - **Wake only sleepers.** `release`, `set` and `notify` call the kernel only
//!   when someone sleeps or is about to. A waiter killed asleep stays counted,
//!   which costs later wake-ups a system call, nothing more.
//! - **Time-outs are real.** Every wait with a time-out ends by then (lock
//!   re-acquisition after a `Condition` wait aside, as in Python), whoever died.
//!
//! | primitive | shared state | waiters sleep on | a process dies ... |
//! |---|---|---|---|
//! | `Lock` | robust mutex | the mutex | holding it: the next acquirer gets `OwnerDied` |
//! | `RLock` | recursive robust mutex; owner token, depth, pid | the mutex | holding it (any depth): the next acquirer gets `OwnerDied` and depth 1 |
//! | `Semaphore`, `BoundedSemaphore` | free permits (the futex word), sleepers, bound | the count, while 0 | holding permits: they are lost, as in Python; `release` can make up |
//! | `Event` | flag, count of `set`s (the futex word), sleepers | the count of `set`s | anywhere: nothing to repair |
//! | `Condition` | robust mutex; `seq`; waiting + signals | `seq`, bumped by a `notify` that grants signals | holding the lock: the next acquirer, or a waiter taking the lock back, gets `OwnerDied`; asleep: it stays counted, and a signal granted to it may later make a timed-out wait report itself notified |
//! | `Barrier` | robust mutex; the word (generation, broken, count); 64 outcome bits | the word | waiting: it counts as arrived (as in Python), and the others' time-outs break the barrier; holding the mutex: the next holder wakes every sleeper, in case it had ended a generation without doing so |
//!
//! A `Condition` waiter registers (`waiting + 1`) and reads `seq` with the
//! lock held, unlocks, sleeps while `seq` is unchanged, locks again, and
//! leaves taking a signal (notified) or on its time-out; with neither it
//! sleeps again. `notify(n)` grants `min(n, waiting - signals)` signals, bumps
//! `seq` and wakes that many: exactly that many waiters return notified.
//!
//! A `Barrier` generation ends with its outcome (released or broken) written
//! to bit `generation % 64`, then the new word stored, then every sleeper
//! woken, all under the mutex; a waiter that sees the generation move on
//! reads its own generation's bit, without the lock.
//!

mod acquire_error;
mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
pub(crate) mod futex;
mod lock;
mod rlock;
#[allow(unsafe_code)]
pub(crate) mod robust_mutex;
mod semaphore;

pub use acquire_error::{AcquireError, OwnerDied};
pub use barrier::{Barrier, BarrierBuilder};
pub use bounded_semaphore::BoundedSemaphore;
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
