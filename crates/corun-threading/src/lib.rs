//! Python's `threading` and `queue` modules, in Rust.
//!
//! This crate is re-exported by `corun` as `corun::threading` and
//! `corun::queue`; depend on `corun` unless you want only these.
//!
//! | Python                         | corun                                    |
//! |--------------------------------|------------------------------------------|
//! | `threading.Lock` / `RLock`     | [`threading::Lock`], [`threading::RLock`] |
//! | `threading.Condition`          | [`threading::Condition`] (not re-entrant) |
//! | `threading.Semaphore` / `BoundedSemaphore` | [`threading::Semaphore`], [`threading::BoundedSemaphore`] |
//! | `threading.Event`              | [`threading::Event`]                     |
//! | `threading.Barrier`            | [`threading::Barrier`]                   |
//! | `threading.Timer`              | [`threading::Timer`]                     |
//! | `threading.Thread`             | [`threading::Thread`]                    |
//! | `queue.Queue` / `LifoQueue` / `PriorityQueue` / `SimpleQueue` | [`queue::Queue`], [`queue::LifoQueue`], [`queue::PriorityQueue`], [`queue::SimpleQueue`] |
//!
//! # Model checking
//!
//! The blocking cores (barrier generations, semaphore, event, queue
//! accounting) take their mutex and condition variable from one internal
//! shim; built with `RUSTFLAGS="--cfg corun_loom"` they run under the
//! [loom](https://docs.rs/loom) model checker (`tests/loom_*.rs`). That cfg
//! is for testing only and outside any stability promise.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod error;
mod loom;
pub mod queue;
pub mod threading;
