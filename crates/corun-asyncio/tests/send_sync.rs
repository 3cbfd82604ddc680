//! Compile-time checks: which types cross threads (only `LoopHandle` and
//! the error), and that every public type is `Debug`. The loop, its tasks,
//! handles, primitives and queues belong to the loop's thread, as in Python.

use std::fmt::Debug;

use corun::asyncio::{
    AnyTask, Barrier, BarrierWait, BoundedSemaphore, Condition, ConditionAcquire, ConditionGuard,
    ConditionWait, Error, Event, EventLoop, EventWait, ExceptionContext, Handle, LifoQueue, Lock,
    LockAcquire, LockGuard, LoopHandle, PriorityQueue, Queue, QueueGet, QueueJoin, QueuePut,
    ReadError, Runner, Semaphore, SemaphoreAcquire, SemaphorePermit, Server, Sleep, StreamReader,
    StreamWriter, Task, TimerHandle, storage,
};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_debug<T: Debug>() {}

// The loop handle is what other threads hold.
#[test]
fn loop_handle_is_send_and_sync() {
    assert_send_sync::<LoopHandle>();
    assert_send_sync::<Error>();
}

// A reader holds no loop state: it may move to another thread (a writer
// may hold the task finishing its close, which belongs to the loop).
#[test]
fn stream_reader_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<StreamReader>();
    assert_send::<ReadError>();
}

#[test]
fn public_types_are_debug() {
    assert_debug::<EventLoop>();
    assert_debug::<LoopHandle>();
    assert_debug::<Handle>();
    assert_debug::<TimerHandle>();
    assert_debug::<Task<i32>>();
    assert_debug::<Task<std::rc::Rc<()>>>();
    assert_debug::<AnyTask>();
    assert_debug::<ExceptionContext>();
    assert_debug::<Runner>();
    assert_debug::<Sleep>();
    assert_debug::<Lock<i32>>();
    assert_debug::<LockGuard<'static, i32>>();
    assert_debug::<LockAcquire<'static, i32>>();
    assert_debug::<Event>();
    assert_debug::<EventWait<'static>>();
    assert_debug::<Condition<i32>>();
    assert_debug::<ConditionGuard<'static, i32>>();
    assert_debug::<ConditionAcquire<'static, i32>>();
    assert_debug::<ConditionWait<'static, i32>>();
    assert_debug::<Semaphore>();
    assert_debug::<BoundedSemaphore>();
    assert_debug::<SemaphorePermit<'static>>();
    assert_debug::<SemaphoreAcquire<'static>>();
    assert_debug::<Barrier>();
    assert_debug::<BarrierWait<'static>>();
    assert_debug::<Queue<i32>>();
    assert_debug::<LifoQueue<i32>>();
    assert_debug::<PriorityQueue<i32>>();
    assert_debug::<QueuePut<'static, i32, storage::Fifo<i32>>>();
    assert_debug::<QueueGet<'static, i32, storage::Fifo<i32>>>();
    assert_debug::<QueueJoin<'static, i32, storage::Fifo<i32>>>();
    assert_debug::<StreamReader>();
    assert_debug::<StreamWriter>();
    assert_debug::<ReadError>();
    assert_debug::<Server>();
}
