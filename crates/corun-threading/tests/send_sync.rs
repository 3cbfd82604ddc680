//! Compile-time checks of the auto traits and `Debug` of every public type:
//! which types can be shared between threads (`Send + Sync`), which can only
//! be moved to one (`Timer`: `Send`), and that guards are `Sync` when what
//! they guard is (guards are not asserted `Send`: a lock must be released
//! by the thread that took it). A failure here is a compile error.

use std::fmt::Debug;

use corun_threading::queue::storage::{Fifo, Lifo, Priority};
use corun_threading::queue::{
    GenericQueue, GetError, LifoQueue, Prioritized, PriorityQueue, PutError, Queue, SimpleQueue,
};
use corun_threading::threading::{
    Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard, Error, Event, Lock,
    LockGuard, RLock, RLockGuard, Semaphore, SemaphorePermit, Thread, ThreadBuilder, Timer,
};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}
fn assert_send_sync<T: Send + Sync>() {}
fn assert_debug<T: Debug + ?Sized>() {}

// Checks that the threading primitives can be shared between threads.
#[test]
fn threading_types_are_send_and_sync() {
    assert_send_sync::<Lock<i32>>();
    assert_send_sync::<Lock<Vec<String>>>();
    assert_send_sync::<RLock<i32>>();
    assert_send_sync::<Condition<i32>>();
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<Event>();
    assert_send_sync::<Barrier>();
    assert_send_sync::<BarrierBuilder>();
    assert_send_sync::<Thread<i32>>();
    assert_send_sync::<ThreadBuilder>();
    assert_send_sync::<Error>();
}

// Checks that a Timer can be moved to another thread (its function is
// `Send` but need not be `Sync`, so the Timer is not asserted `Sync`).
#[test]
fn timer_is_send() {
    assert_send::<Timer>();
}

// Checks that guards can be shared by reference between threads when the
// guarded value is `Sync` (`&Guard` gives `&T`).
#[test]
fn guards_are_sync() {
    assert_sync::<LockGuard<'static, i32>>();
    assert_sync::<RLockGuard<'static, i32>>();
    assert_sync::<ConditionGuard<'static, i32>>();
    assert_sync::<SemaphorePermit<'static>>();
}

// Checks that the queues, their items and their errors can cross threads.
#[test]
fn queue_types_are_send_and_sync() {
    assert_send_sync::<Queue<i32>>();
    assert_send_sync::<LifoQueue<i32>>();
    assert_send_sync::<PriorityQueue<i32>>();
    assert_send_sync::<PriorityQueue<Prioritized<u8, String>>>();
    assert_send_sync::<GenericQueue<i32, Fifo<i32>>>();
    assert_send_sync::<Fifo<i32>>();
    assert_send_sync::<Lifo<i32>>();
    assert_send_sync::<Priority<i32>>();
    assert_send_sync::<SimpleQueue<i32>>();
    assert_send_sync::<Prioritized<i32, i32>>();
    assert_send_sync::<PutError<i32>>();
    assert_send_sync::<GetError>();
    // A queue of Send but !Sync items is still shareable: items only move.
    assert_send_sync::<Queue<std::cell::Cell<i32>>>();
    assert_send_sync::<SimpleQueue<std::cell::Cell<i32>>>();
}

// Checks that errors are usable as `Box<dyn Error + Send + Sync>` (for `?`
// into anyhow-style error types).
#[test]
fn errors_are_std_errors() {
    fn boxed<E: std::error::Error + Send + Sync + 'static>(
        e: E,
    ) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(e)
    }
    assert!(
        boxed(Barrier::new(0).unwrap_err())
            .to_string()
            .contains("invalid")
    );
    assert_eq!(boxed(PutError::Full(1)).to_string(), "queue is full");
    assert_eq!(boxed(GetError::Empty).to_string(), "queue is empty");
}

// Checks that every public type implements Debug, and that guards and errors
// print something useful.
#[test]
fn every_public_type_is_debug() {
    assert_debug::<Lock<i32>>();
    assert_debug::<LockGuard<'static, i32>>();
    assert_debug::<RLock<i32>>();
    assert_debug::<RLockGuard<'static, i32>>();
    assert_debug::<Condition<i32>>();
    assert_debug::<ConditionGuard<'static, i32>>();
    assert_debug::<Semaphore>();
    assert_debug::<SemaphorePermit<'static>>();
    assert_debug::<BoundedSemaphore>();
    assert_debug::<Event>();
    assert_debug::<Barrier>();
    assert_debug::<BarrierBuilder>();
    assert_debug::<Timer>();
    assert_debug::<Thread<i32>>();
    assert_debug::<ThreadBuilder>();
    assert_debug::<Error>();
    assert_debug::<Queue<i32>>();
    assert_debug::<LifoQueue<i32>>();
    assert_debug::<PriorityQueue<i32>>();
    assert_debug::<GenericQueue<i32, Fifo<i32>>>();
    assert_debug::<Fifo<i32>>();
    assert_debug::<Lifo<i32>>();
    assert_debug::<Priority<i32>>();
    assert_debug::<SimpleQueue<i32>>();
    assert_debug::<Prioritized<i32, i32>>();
    assert_debug::<PutError<i32>>();
    assert_debug::<GetError>();
    // Debug without a Debug item type, for the containers that hold items.
    struct Opaque;
    assert_debug::<Lock<Opaque>>();
    assert_debug::<RLock<Opaque>>();
    assert_debug::<Condition<Opaque>>();
    assert_debug::<Queue<Opaque>>();
    assert_debug::<LifoQueue<Opaque>>();
    assert_debug::<SimpleQueue<Opaque>>();
    assert_debug::<PutError<Opaque>>();
    assert_debug::<Thread<Opaque>>();

    let lock = Lock::new(41);
    assert_eq!(format!("{:?}", lock.acquire()), "LockGuard(41)");
    let rlock = RLock::new(42);
    assert_eq!(format!("{:?}", rlock.acquire()), "RLockGuard(42)");
    let cond = Condition::new(43);
    assert_eq!(format!("{:?}", cond.acquire()), "ConditionGuard(43)");
    assert_eq!(format!("{:?}", PutError::ShutDown(Opaque)), "ShutDown(..)");
    let q = Queue::with_maxsize(3);
    q.put(1).unwrap();
    let repr = format!("{q:?}");
    assert!(
        repr.contains("qsize: 1") && repr.contains("maxsize: 3"),
        "{repr}"
    );
}
