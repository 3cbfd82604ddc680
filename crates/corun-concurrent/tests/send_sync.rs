//! Compile-time checks of the auto traits and `Debug` of every public type:
//! which types can be shared between threads (`Send + Sync`), which can only
//! be moved to one (`Waited`, `AsCompleted`, `Map`: `Send`), and that errors
//! are ordinary `std::error::Error`s. A failure here is a compile error.

use std::fmt::Debug;
use std::ops::Range;

use corun_concurrent::{
    AsCompleted, CancelToken, Error, Map, Promise, ReturnWhen, Task, ThreadPoolBuilder,
    ThreadPoolExecutor, Waited,
};

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}
fn assert_debug<T: Debug + ?Sized>() {}

type SquareMap<'a> = Map<'a, ThreadPoolExecutor, fn(i32) -> i32, Range<i32>, i32>;

// Checks that tasks, promises, the pool and tokens can be shared between
// threads: a task is waited on, cancelled and given callbacks from anywhere.
#[test]
fn shared_types_are_send_and_sync() {
    assert_send_sync::<Task<i32>>();
    assert_send_sync::<Task<String>>();
    assert_send_sync::<Task<Vec<u8>>>();
    assert_send_sync::<Promise<i32>>();
    assert_send_sync::<Promise<String>>();
    assert_send_sync::<ThreadPoolExecutor>();
    assert_send_sync::<ThreadPoolBuilder>();
    assert_send_sync::<CancelToken>();
    assert_send_sync::<Error>();
    assert_send_sync::<ReturnWhen>();
    // A value that is Send but not Sync is still fine: it only moves.
    assert_send_sync::<Task<std::cell::Cell<i32>>>();
}

// Checks that the results of wait and as_completed, and a map's iterator,
// can be moved to another thread.
#[test]
fn iterators_and_results_are_send() {
    assert_send::<Waited<i32>>();
    assert_send::<AsCompleted<i32>>();
    assert_send::<SquareMap<'static>>();
}

// Checks that errors are usable as `Box<dyn Error + Send + Sync>` (for `?`
// into anyhow-style error types), and can be cloned.
#[test]
fn errors_are_std_errors() {
    fn boxed<E: std::error::Error + Send + Sync + 'static>(
        e: E,
    ) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(e)
    }
    let e = Error::broken("why");
    assert_eq!(boxed(e.clone()).to_string(), "executor is broken: why");
    assert_eq!(boxed(Error::timeout()).to_string(), "timed out");
}

// Checks that every public type implements Debug, with a value type that
// is not Debug where the type is generic.
#[test]
fn every_public_type_is_debug() {
    struct Opaque;
    assert_debug::<Task<i32>>();
    assert_debug::<Task<Opaque>>();
    assert_debug::<Promise<Opaque>>();
    assert_debug::<ThreadPoolExecutor>();
    assert_debug::<ThreadPoolBuilder>();
    assert_debug::<CancelToken>();
    assert_debug::<Error>();
    assert_debug::<ReturnWhen>();
    assert_debug::<Waited<i32>>();
    assert_debug::<AsCompleted<Opaque>>();
    assert_debug::<SquareMap<'static>>();
    assert_debug::<Map<'static, ThreadPoolExecutor, Opaque, Range<i32>, Opaque>>();
}
