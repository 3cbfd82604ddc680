//! Compile-time checks: which types cross threads (only `LoopHandle` and
//! the error), and that every public type is `Debug`. The loop, its tasks
//! and handles belong to the loop's thread, as in Python.

use std::fmt::Debug;

use corun::asyncio::{
    AnyTask, Error, EventLoop, ExceptionContext, Handle, LoopHandle, ReadError, Runner, Server,
    Sleep, StreamReader, StreamWriter, Task, TimerHandle,
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
    assert_debug::<StreamReader>();
    assert_debug::<StreamWriter>();
    assert_debug::<ReadError>();
    assert_debug::<Server>();
}
